"""The shared-store option: a real Chroma server (`chroma run`, installed with chromadb) started
by the test on 127.0.0.1, used through PROCGUIDE_CHROMA_URL as several UI replicas would use it.
"""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from procguide.assistant import Assistant
from procguide.index import Index, IndexUnavailable, chroma_client
from procguide.ingest import ingest_paths
from tests.conftest import KNOWLEDGE, make_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    """A real `chroma run` server on a free port, once it answers its heartbeat."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command comes with chromadb"
    port = _free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the Chroma server did not start")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    proc, url = _start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_answers_work_against_a_chroma_server(chroma_url, tmp_path):
    settings = make_settings(tmp_path / "unused", chroma_url=chroma_url, collection="server-kb")
    index = Index(settings)
    report = ingest_paths([KNOWLEDGE / "reserved-contracts-mutuals-eu.md"], index)
    assert report.added == ["reserved-contracts-mutuals-eu"]
    assert not list((tmp_path / "unused").glob("*.sqlite3"))  # no local store: only the corpus file
    answer = Assistant(settings, index).ask("How long can a contract reserved for a mutual last?")
    assert not answer.abstained and "three years" in answer.text


def test_a_second_replica_sees_what_another_ingested(chroma_url, tmp_path):
    settings = make_settings(tmp_path / "unused", chroma_url=chroma_url, collection="replicas")
    reader = Index(settings)
    assert reader.passages() == []
    writer = Index(settings)
    ingest_paths([KNOWLEDGE / "lots-eu.md"], writer)
    assert {p.doc_id for p in reader.passages()} == {"lots-eu"}


def test_an_unreachable_server_says_how_to_fix_it(tmp_path):
    settings = make_settings(tmp_path, chroma_url=f"http://127.0.0.1:{_free_port()}", collection="x")
    with pytest.raises(IndexUnavailable, match="PROCGUIDE_CHROMA_URL"):
        chroma_client(settings)


def test_a_chroma_url_that_is_not_a_url_is_refused_when_settings_load(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="chroma_url"):
        make_settings(tmp_path, chroma_url="localhost-8000")


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers (a hung Chroma, or a wrong port)."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    for conn in held:
        conn.close()


def test_a_server_that_never_answers_gives_up_with_a_clear_error(silent_server, tmp_path):
    settings = make_settings(tmp_path, chroma_url=silent_server, collection="x", chroma_timeout_s=1)
    with pytest.raises(IndexUnavailable, match="no answer within 1 s"):
        Index(settings).passages()


def test_ask_against_a_server_that_never_answers_prints_one_line(silent_server, tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCGUIDE_")}
    env.update(PROCGUIDE_CHROMA_URL=silent_server, PROCGUIDE_CHROMA_TIMEOUT_S="1",
               PROCGUIDE_EMBEDDING_MODEL="hashing", HF_HUB_OFFLINE="1")
    procguide = str(Path(sys.executable).parent / "procguide")
    result = subprocess.run([procguide, "ask", "What is a lot?"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Cannot reach the Chroma server" in lines[0], result.stderr


def test_a_server_that_stops_answering_mid_session_gives_up_with_a_clear_error(tmp_path_factory, tmp_path):
    import signal

    proc, url = _start_chroma(tmp_path_factory.mktemp("frozen"))
    try:
        settings = make_settings(tmp_path, chroma_url=url, collection="frozen", chroma_timeout_s=1)
        index = Index(settings)
        assert index.passages() == []
        proc.send_signal(signal.SIGSTOP)  # still accepts connections (the kernel does), never answers
        with pytest.raises(IndexUnavailable, match="did not answer within 1 s"):
            Index(settings).passages()
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=20)
