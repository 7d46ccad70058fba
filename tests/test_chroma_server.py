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


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command comes with chromadb"
    port = _free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the Chroma server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_answers_work_against_a_chroma_server(chroma_url, tmp_path):
    settings = make_settings(tmp_path / "unused", chroma_url=chroma_url, collection="server-kb")
    index = Index(settings)
    report = ingest_paths([KNOWLEDGE / "reserved-contracts-mutuals-eu.md"], index)
    assert report.added == ["reserved-contracts-mutuals-eu"]
    assert not (tmp_path / "unused").exists()  # nothing was written to a local store
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
