"""Integrity of the store: doc_id clashes refused, staged writes that survive a SIGKILL at any
point and resume, one writer at a time, a reader process that keeps working while another process
ingests, owner-only files, and `procguide check`. Real components throughout: the embedded Chroma
store, real subprocesses (killed with SIGKILL), the hashing embedder for speed."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from procguide.config import Settings
from procguide.index import Index, IndexUnavailable, check_store
from procguide.ingest import ingest_paths
from tests.conftest import KNOWLEDGE, ROOT, make_settings

PROCGUIDE = str(Path(sys.executable).parent / "procguide")


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=False, **kwargs)  # type: ignore[call-overload]


def hashing_settings(home: Path, **overrides: object) -> Settings:
    return make_settings(home, embedding_model="hashing", **overrides)


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCGUIDE_")}
    env.update(PROCGUIDE_HOME=str(home), PROCGUIDE_EMBEDDING_MODEL="hashing",
               PROCGUIDE_KNOWLEDGE_DIR=str(KNOWLEDGE), HF_HUB_OFFLINE="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))
    return env


def long_note(path: Path, sections: int, word: str, doc_id: str = "long-note") -> Path:
    """A note with one passage per section, each naming `word` (which marks the version)."""
    body = "\n\n".join(
        f"## Section {i}\n\nParagraph {i} of the {word} version explains rule {i} about contract "
        f"lots, reserved contracts and the {word} threshold number {i * 7}."
        for i in range(1, sections + 1)
    )
    path.write_text(
        f"---\ndoc_id: {doc_id}\ntitle: Long note {doc_id}\njurisdiction: UK\ndoc_type: note\n---\n\n"
        f"# Long note\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def texts_of(index: Index, doc_id: str) -> list[str]:
    return [p.text for p in index.passages() if p.doc_id == doc_id]


# --- 1. doc_id clashes ---------------------------------------------------------------------------

def test_a_note_whose_doc_id_is_indexed_from_another_file_is_refused_naming_both(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    shipped = KNOWLEDGE / "which-rules-apply.md"
    assert ingest_paths([shipped], index).added == ["which-rules-apply"]
    before = sorted((p.id, p.text) for p in index.passages())
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "which-rules-apply.txt").write_text("My own note on which rules apply.\n", encoding="utf-8")

    report = ingest_paths([folder], index)

    assert not report.added and not report.replaced
    [(_, message)] = report.failed
    assert str(folder / "which-rules-apply.txt") in message and str(shipped) in message
    assert "--replace" in message
    assert sorted((p.id, p.text) for p in index.passages()) == before
    assert index.documents()["which-rules-apply"].source == str(shipped)


def test_replace_lets_another_file_take_over_a_doc_id(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    ingest_paths([KNOWLEDGE / "which-rules-apply.md"], index)
    mine = tmp_path / "which-rules-apply.txt"
    mine.write_text("My own note on which rules apply.\n", encoding="utf-8")

    report = ingest_paths([mine], index, replace=True)

    assert report.replaced == ["which-rules-apply"] and not report.failed
    assert index.documents()["which-rules-apply"].source == str(mine)
    assert texts_of(index, "which-rules-apply") == ["My own note on which rules apply."]


def test_replacing_with_a_byte_identical_copy_takes_its_source_and_provenance(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    shipped = KNOWLEDGE / "lots-eu.md"
    ingest_paths([shipped], index)
    copy = tmp_path / "lots-eu.md"
    copy.write_bytes(shipped.read_bytes())

    assert ingest_paths([copy], index, replace=True).replaced == ["lots-eu"]

    assert index.documents()["lots-eu"].source == str(copy)
    assert {p.source for p in index.passages()} == {str(copy)}
    assert {p.provenance for p in index.passages()} == {"local"}
    assert check_store(index, KNOWLEDGE).healthy


def test_the_same_file_still_replaces_its_own_document_and_deleted_files_are_removed(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    folder = tmp_path / "notes"
    folder.mkdir()
    note = long_note(folder / "note.md", 3, "first")
    long_note(folder / "other.md", 2, "other", doc_id="other-note")
    ingest_paths([folder], index)
    long_note(note, 4, "second")
    (folder / "other.md").unlink()

    report = ingest_paths([folder], index)

    assert report.replaced == ["long-note"] and report.removed == ["other-note"] and not report.failed
    assert all("second" in t for t in texts_of(index, "long-note"))
    assert set(index.documents()) == {"long-note"}


# --- 2. staged, atomic, resumable writes ---------------------------------------------------------

KILLING_INGEST = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from procguide.index import Index
    from procguide.ingest import ingest_paths
    from tests.conftest import make_settings

    home, note, point, after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "batch":
        Index._after_batch = lambda self, number: die() if number == after else None
    elif point == "swap":
        Index._after_swap = lambda self: die()
    settings = make_settings(Path(home), embedding_model="hashing", ingest_batch_size=16)
    ingest_paths([Path(note)], Index(settings))
    print("finished")
""")


def ingest_killed(home: Path, note: Path, point: str, after: int = 0) -> subprocess.CompletedProcess:
    return run(
        [sys.executable, "-c", KILLING_INGEST, str(home), str(note), point, str(after)],
        env=subprocess_env(home), cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_a_kill_while_staging_leaves_the_old_version_whole_and_the_next_ingest_resumes(tmp_path):
    home = tmp_path / "store"
    settings = hashing_settings(home, ingest_batch_size=16)
    note = long_note(tmp_path / "note.md", 20, "oldversion")
    index = Index(settings)
    ingest_paths([note], index)
    old = index.documents()["long-note"]
    long_note(note, 100, "newversion")  # 100 passages: 7 batches of 16

    killed = ingest_killed(home, note, "batch", after=3)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    record = Index(settings).documents()["long-note"]
    assert record == old and record.consistent
    assert len(texts_of(index, "long-note")) == 20
    assert all("oldversion" in t for t in texts_of(index, "long-note"))
    hits = index.keyword.search("oldversion threshold number 49", 3)
    assert hits and hits[0][0].doc_id == "long-note"
    assert not index.keyword.search("newversion", 3)
    assert any("leftover staged passages" in p for p in check_store(index, KNOWLEDGE).problems)

    report = ingest_paths([note], index)

    assert report.replaced == ["long-note"]
    assert report.embedded == 100 - 3 * 16  # the three batches written before the kill are reused
    record = index.documents()["long-note"]
    assert record.consistent and record.passages == record.expected == 100
    assert all("newversion" in t for t in texts_of(index, "long-note"))
    assert check_store(index, KNOWLEDGE).healthy
    assert ingest_paths([note], index).unchanged == ["long-note"]


def test_a_kill_while_staging_a_new_document_leaves_nothing_visible(tmp_path):
    home = tmp_path / "store"
    note = long_note(tmp_path / "note.md", 60, "fresh")

    killed = ingest_killed(home, note, "batch", after=2)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    index = Index(hashing_settings(home))
    assert index.documents() == {} and index.passages() == [] and index.count() == 0
    assert ingest_paths([note], index).added == ["long-note"]
    assert index.documents()["long-note"].passages == 60


def test_a_kill_after_the_swap_shows_the_whole_new_version_and_the_next_ingest_tidies_up(tmp_path):
    home = tmp_path / "store"
    settings = hashing_settings(home)
    note = long_note(tmp_path / "note.md", 10, "oldversion")
    index = Index(settings)
    ingest_paths([note], index)
    long_note(note, 30, "newversion")

    killed = ingest_killed(home, note, "swap")

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    record = index.documents()["long-note"]
    assert record.consistent and record.passages == 30
    assert all("newversion" in t for t in texts_of(index, "long-note"))
    assert not check_store(index, KNOWLEDGE).healthy  # the old version's passages are left over
    assert ingest_paths([note], index).unchanged == ["long-note"]
    assert check_store(index, KNOWLEDGE).healthy


def test_a_document_missing_passages_is_never_reported_unchanged(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    note = long_note(tmp_path / "note.md", 12, "whole")
    ingest_paths([note], index)
    victims = [i for i in index.collection.get(include=[])["ids"]][:5]
    index.collection.delete(ids=victims)  # a truncated write, as an older version could leave

    record = index.documents()["long-note"]
    assert not record.consistent and (record.passages, record.expected) == (7, 12)
    report = ingest_paths([note], index)
    assert report.replaced == ["long-note"] and not report.unchanged
    assert index.documents()["long-note"].passages == 12


# --- 3. one writer at a time ---------------------------------------------------------------------

def test_a_second_ingest_gives_up_with_a_clear_message_while_another_holds_the_lock(tmp_path):
    home = tmp_path / "store"
    index = Index(hashing_settings(home))
    with index.write_lock():
        result = run(
            [PROCGUIDE, "ingest", str(KNOWLEDGE / "lots-eu.md")],
            env=subprocess_env(home, PROCGUIDE_LOCK_TIMEOUT_S="1"), cwd=tmp_path,
            capture_output=True, text=True, timeout=300,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Another ingest" in result.stderr and "PROCGUIDE_LOCK_TIMEOUT_S" in result.stderr
    assert index.documents() == {}


def test_a_second_ingest_waits_for_the_first_and_then_completes(tmp_path):
    home = tmp_path / "store"
    index = Index(hashing_settings(home))
    with index.write_lock():
        proc = subprocess.Popen(
            [PROCGUIDE, "ingest", str(KNOWLEDGE / "lots-eu.md")],
            env=subprocess_env(home, COLUMNS="300", PROCGUIDE_LOCK_TIMEOUT_S="120"), cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            if "waiting" in line:
                break
        else:
            pytest.fail("the second ingest did not wait for the lock")
        assert index.documents() == {}
    _, errors = proc.communicate(timeout=300)
    assert proc.returncode == 0, errors
    assert set(index.documents()) == {"lots-eu"}


CONCURRENT_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from procguide.index import Index
    from procguide.passage import Passage
    from tests.conftest import make_settings

    home, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    index = Index(make_settings(Path(home), embedding_model="hashing"))
    for i in range(rounds):
        doc = f"{name}-{i}"
        index.replace_document(doc, [Passage(id=f"{doc}:1", text=f"text {doc}", doc_id=doc, title=doc,
                                             locator="s1", source=f"/x/{doc}.md", source_hash="h")])
""")


def test_two_writers_at_once_lose_no_revision_and_no_document(tmp_path):
    home = tmp_path / "store"
    index = Index(hashing_settings(home))
    start = index.revision()
    rounds = 8
    writers = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(home), name, str(rounds)],
                         env=subprocess_env(home), cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for name in ("left", "right")
    ]
    for w in writers:
        _, errors = w.communicate(timeout=300)
        assert w.returncode == 0, errors
    assert index.revision() == start + 2 * rounds
    expected = {f"{n}-{i}" for n in ("left", "right") for i in range(rounds)}
    assert set(index.documents()) == expected
    assert all(rec.consistent for rec in index.documents().values())


# --- 4. a reader process while another process ingests -------------------------------------------

READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from procguide.assistant import Assistant
    from procguide.index import Index
    from tests.conftest import make_settings

    settings = make_settings(Path(sys.argv[1]), embedding_model="hashing")
    index = Index(settings)
    assistant = Assistant(settings, index)
    for command in sys.stdin:
        query = command.strip()
        try:
            answer = assistant.ask(query)
            docs = sorted({p.doc_id for p in index.passages()})
            top = index.dense_search(index.embed_query(query), 1)[0][0]
            out = {"docs": docs, "top": top.doc_id, "text": top.text, "abstained": answer.abstained}
        except Exception as exc:
            out = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(out), flush=True)
""")


def test_a_reader_process_keeps_answering_and_sees_what_another_process_ingests(tmp_path):
    home = tmp_path / "store"
    notes = tmp_path / "notes"
    notes.mkdir()
    long_note(notes / "first.md", 4, "alpha", doc_id="first-note")
    env = subprocess_env(home)

    def ingest() -> None:
        done = run([PROCGUIDE, "ingest", str(notes)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    ingest()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(home)], env=env, cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    assert reader.stdin is not None and reader.stdout is not None

    def ask(query: str) -> dict:
        reader.stdin.write(query + "\n")
        reader.stdin.flush()
        line = reader.stdout.readline()
        assert line, reader.stderr.read() if reader.stderr else ""
        return json.loads(line)

    try:
        assert ask("alpha threshold number 14")["docs"] == ["first-note"]
        long_note(notes / "second.md", 6, "bravo", doc_id="second-note")
        ingest()  # adds a document
        after_add = ask("bravo threshold number 35")
        long_note(notes / "first.md", 5, "charlie", doc_id="first-note")
        ingest()  # replaces one
        after_replace = ask("charlie threshold number 28")
        again = ask("bravo threshold number 42")
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    for out in (after_add, after_replace, again):
        assert "error" not in out, out
    assert after_add["docs"] == ["first-note", "second-note"] and after_add["top"] == "second-note"
    assert after_replace["top"] == "first-note" and "charlie" in after_replace["text"]
    assert again["top"] == "second-note"


# --- 6. files readable by their owner only -------------------------------------------------------

def test_the_store_folder_and_its_files_are_private_to_their_owner(tmp_path):
    old = os.umask(0o022)  # as on most machines: new files group and world readable
    try:
        home = tmp_path / "store"
        index = Index(hashing_settings(home))
        ingest_paths([KNOWLEDGE / "lots-eu.md"], index)
        index.passages()
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    paths = list(home.rglob("*"))
    assert any(p.name == "chroma.sqlite3" for p in paths)
    loose = {str(p.relative_to(home)): oct(stat.S_IMODE(p.stat().st_mode)) for p in paths
             if stat.S_IMODE(p.stat().st_mode) & 0o077}
    assert loose == {}


# --- 7. procguide check --------------------------------------------------------------------------

def test_check_finds_a_healthy_store_healthy(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    ingest_paths([KNOWLEDGE / "lots-eu.md", KNOWLEDGE / "which-rules-apply.md"], index)
    result = check_store(index, KNOWLEDGE)
    assert result.healthy, result.problems
    counts = {d.doc_id: (d.official, d.local) for d in result.documents}
    assert set(counts) == {"lots-eu", "which-rules-apply"}
    assert all(official + local > 0 for official, local in counts.values())


def test_check_reports_each_kind_of_damage(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    folder = tmp_path / "notes"
    folder.mkdir()
    long_note(folder / "partial.md", 6, "partial", doc_id="partial-note")
    long_note(folder / "mixed.md", 4, "mixed", doc_id="mixed-note")
    long_note(folder / "dup.md", 4, "dup", doc_id="dup-note")
    long_note(folder / "claims.md", 3, "claims", doc_id="claims-note")
    ingest_paths([folder], index)
    assert check_store(index, KNOWLEDGE).healthy
    col = index.collection

    def rows(doc_id: str) -> dict:
        return col.get(where={"doc_id": doc_id}, include=["metadatas", "documents", "embeddings"])

    col.delete(ids=rows("partial-note")["ids"][:2])
    mixed = rows("mixed-note")
    col.update(ids=mixed["ids"][:1], metadatas=[{**mixed["metadatas"][0], "source_hash": "other"}])
    dup = rows("dup-note")
    col.add(ids=[dup["ids"][0] + "-copy"], embeddings=[dup["embeddings"][0]],
            documents=[dup["documents"][0]], metadatas=[dup["metadatas"][0]])
    claims = rows("claims-note")
    col.update(ids=claims["ids"], metadatas=[{**m, "provenance": "official"} for m in claims["metadatas"]])

    problems = "\n".join(check_store(index, KNOWLEDGE).problems)

    assert "partial-note: partial: 4 passages stored, 6 expected" in problems
    assert "mixed-note: passages from 2 versions" in problems
    assert "dup-note: 1 duplicate passage ids" in problems and "dup-note: 1 duplicate passage texts" in problems
    assert f"claims-note: marked official, but its source {folder / 'claims.md'} is not under" in problems


def test_procguide_check_exits_1_on_a_damaged_store_and_0_on_a_healthy_one(tmp_path):
    home = tmp_path / "store"
    env = subprocess_env(home, COLUMNS="300")
    ingest = run([PROCGUIDE, "ingest", str(KNOWLEDGE / "lots-eu.md")], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr

    healthy = run([PROCGUIDE, "check"], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "all consistent" in healthy.stdout

    index = Index(hashing_settings(home))
    index.collection.delete(ids=index.collection.get(include=[])["ids"][:1])
    damaged = run([PROCGUIDE, "check"], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)
    assert damaged.returncode == 1
    assert "lots-eu: partial" in damaged.stderr


def test_a_store_that_cannot_be_locked_says_so(tmp_path):
    index = Index(hashing_settings(tmp_path / "store", lock_timeout_s=0))
    other = Index(hashing_settings(tmp_path / "store", lock_timeout_s=0))
    with index.write_lock(), pytest.raises(IndexUnavailable, match="Another ingest"):
        # flock locks belong to the open file: a second opening in this process is refused too
        other.replace_document("x", [])


# --- stores written before staged writes ---------------------------------------------------------

def test_a_store_written_before_generations_still_reads_and_is_replaced_cleanly(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    note = long_note(tmp_path / "note.md", 5, "legacy")
    ingest_paths([note], index)
    col = index.collection
    got = col.get(include=["documents", "metadatas", "embeddings"])
    col.delete(ids=got["ids"])
    old_meta = [{k: v for k, v in m.items() if k not in ("generation", "passage_id")} for m in got["metadatas"]]
    col.add(ids=[m["doc_id"] + ":" + str(m["position"]) for m in old_meta], embeddings=got["embeddings"],
            documents=got["documents"], metadatas=old_meta)
    col.modify(metadata={"revision": 99})  # no per-document pointers, as older versions wrote

    record = index.documents()["long-note"]
    assert record.passages == 5 and record.expected is None and record.consistent
    assert len(texts_of(index, "long-note")) == 5
    assert ingest_paths([note], index).unchanged == ["long-note"]
    long_note(note, 3, "modern")
    assert ingest_paths([note], index).replaced == ["long-note"]
    assert all("modern" in t for t in texts_of(index, "long-note"))
    assert check_store(index, KNOWLEDGE).healthy


def test_two_indexes_in_one_process_keep_working_after_one_reopens_the_store(tmp_path):
    settings = hashing_settings(tmp_path / "store")
    reader, writer = Index(settings), Index(settings)
    note = long_note(tmp_path / "note.md", 2, "one")
    ingest_paths([note], writer)
    assert len(reader.passages()) == 2
    long_note(note, 3, "two")
    ingest_paths([note], writer)
    assert len(reader.passages()) == 3  # the reader reopened the store: the writer must cope
    long_note(note, 4, "three")
    ingest_paths([note], writer)
    assert len(reader.passages()) == 4 and len(writer.passages()) == 4


def test_a_document_whose_passages_all_vanished_is_reported_and_ingested_again(tmp_path):
    index = Index(hashing_settings(tmp_path / "store"))
    note = long_note(tmp_path / "note.md", 3, "gone")
    ingest_paths([note], index)
    index.collection.delete(ids=index.collection.get(include=[])["ids"])

    assert "long-note: no passages, though the manifest lists it" in check_store(index, KNOWLEDGE).problems
    report = ingest_paths([note], index)
    assert report.replaced == ["long-note"] and not report.failed
    assert index.documents()["long-note"].passages == 3
