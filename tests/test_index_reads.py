"""What answering reads from the index, in the fast tier: each question checks the store's
revision once; passages' sentence vectors are written at ingest and read back, never embedded
while answering; an index from before sentences were stored still answers and is filled in by the
next ingest; deleting or replacing a document takes its sentences with it; the partial sort
gives what a full stable sort would; the provision look-up by instrument finds what a scan does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from procguide import provisions as prov
from procguide.answer.calibration import Calibration
from procguide.answer.sentences import passage_sentences
from procguide.assistant import Assistant
from procguide.corpus import ranked
from procguide.index import Index
from procguide.ingest import ingest_paths
from procguide.passage import Passage
from procguide.retrieve import provision_passages
from tests.conftest import fast_kb_settings
from tests.test_answer_sources import POLICY

pytestmark = pytest.mark.fast

QUESTION = "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?"


@pytest.fixture
def built(tmp_path: Path) -> tuple[Index, Assistant]:
    settings = fast_kb_settings(tmp_path)
    index = Index(settings)
    assert not ingest_paths([settings.knowledge_dir], index).failed
    return index, Assistant(settings, index, calibration=Calibration(policy=POLICY))


def _forbid_embedding(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a passage's text was embedded while answering")

    monkeypatch.setattr(index, "embed_texts", refuse)


def test_ingest_stores_each_passage_s_sentences_with_their_vectors(built):
    index, _ = built
    passages = index.passages()
    expected = sum(len(passage_sentences(p.text)) for p in passages)
    assert expected and index.sentence_collection.count() == expected
    stored = index.sentence_vectors(passages[:3])
    for p in passages[:3]:
        sentences, vectors = stored[p.id]
        assert sentences == passage_sentences(p.text)
        assert np.allclose(vectors, index.embed_texts(sentences), atol=1e-6)


def test_answering_embeds_the_question_but_never_a_passage(built, monkeypatch):
    index, assistant = built
    _forbid_embedding(index, monkeypatch)
    answer = assistant.ask(QUESTION)
    assert answer.citations and not answer.abstained


def test_a_question_checks_the_store_s_revision_once(built, monkeypatch):
    index, assistant = built
    assistant.ask(QUESTION)  # loaded
    checks: list[str] = []
    revision, state = index.revision, index.state
    monkeypatch.setattr(index, "revision", lambda: checks.append("revision") or revision())
    monkeypatch.setattr(index, "state", lambda: checks.append("state") or state())
    assistant.ask("Can we talk to social enterprises before we advertise?")
    # Not the whole metadata, which grows with every document: only the revision's small copy.
    assert checks == ["revision"]


def test_a_store_without_the_revision_s_copy_is_read_the_slow_way_until_ingest_writes_it(built):
    index, assistant = built
    settings = index.settings
    index.sentence_collection.modify(metadata={"other": 1})  # as before the copy existed
    assert index._revision_copy() is None
    assert index.revision() == index.state()["revision"]
    assert assistant.ask(QUESTION).citations
    ingest_paths([settings.knowledge_dir], index)  # nothing changed, but the copy is written
    assert index._revision_copy() is not None and index.revision() == index.state()["revision"]


def test_an_index_without_stored_sentences_still_answers_and_the_next_ingest_fills_them_in(built, monkeypatch):
    index, assistant = built
    settings = index.settings
    # As an index written by an earlier version: no sentences, no record of them.
    index.sentence_collection.delete(where={"doc_id": {"$ne": ""}})
    index._commit(lambda meta: [meta.pop(k) for k in [k for k in meta if k.startswith("sentences:")]])
    assert index.sentence_collection.count() == 0
    assert assistant.ask(QUESTION).citations  # embedded as it answers, as before
    report = ingest_paths([settings.knowledge_dir], index)
    assert report.unchanged and not report.embedded  # nothing re-embedded but the sentences
    assert index.sentence_collection.count() == sum(len(passage_sentences(p.text)) for p in index.passages())
    fresh = Assistant(settings, Index(settings), calibration=Calibration(policy=POLICY))
    _forbid_embedding(fresh.index, monkeypatch)
    assert fresh.ask(QUESTION).citations


def test_deleting_or_replacing_a_document_takes_its_sentences(built):
    index, _ = built
    doc_id = index.passages()[0].doc_id
    before = index.sentence_collection.count()
    mine = index.sentence_collection.get(where={"doc_id": doc_id}, include=[])["ids"]
    assert mine
    passages = [p for p in index.passages() if p.doc_id == doc_id]
    changed = [Passage(**{**p.as_dict(), "text": p.text + " It also applies to day services."}) for p in passages]
    index.replace_document(doc_id, changed)
    added = sum(len(passage_sentences(p.text)) - len(passage_sentences(q.text)) for p, q in zip(changed, passages))
    assert added > 0 and index.sentence_collection.count() == before + added  # the old ones are gone
    assert not set(mine) & set(index.sentence_collection.get(where={"doc_id": doc_id}, include=[])["ids"])
    index.delete_document(doc_id)
    assert index.sentence_collection.get(where={"doc_id": doc_id}, include=[])["ids"] == []


@pytest.mark.parametrize("seed", range(5))
def test_the_partial_sort_ranks_as_a_full_stable_sort_would(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 20, size=500).astype(np.float32)  # many ties
    passages = [Passage(id=f"p{i}", text="t", doc_id="d", title="t", locator="") for i in range(500)]
    allow = (lambda p: int(p.id[1:]) % 7 != 0) if seed % 2 else None
    for n in (1, 5, 30, 499):
        got = [p.id for p, _ in ranked(scores, n, passages, allow)]
        order = [f"p{i}" for i in np.argsort(-scores, kind="stable")]
        want = [pid for pid in order if allow is None or allow(passages[int(pid[1:])])][:n]
        assert got == want


def test_a_filter_that_refuses_most_passages_still_gets_its_n(built):
    index, _ = built
    passages = index.passages()
    last = passages[-1].id
    hits = index.dense_search(index.embed_query("anything"), 1, lambda p: p.id == last)
    assert [p.id for p, _ in hits] == [last]


def test_the_provision_look_up_finds_what_a_scan_of_every_passage_finds(built):
    index, _ = built
    corpus = index.corpus()
    for refs in ([prov.Reference("uk-pa-2023", "s-33")], [prov.Reference(None, "art-77")],
                 [prov.Reference("eu-dir-2014-24", None), prov.Reference("uk-pcr-2015", "reg-77")]):
        scan = [p for p in corpus.passages if any(r.matches(pid) for r in refs for pid in p.provisions)]
        assert provision_passages(corpus, refs, lambda p: True) == scan


def test_a_long_provision_list_puts_what_the_searches_found_first_and_is_cut_in_that_order(built):
    index, _ = built
    corpus = index.corpus()
    refs = [prov.Reference("eu-dir-2014-24", None), prov.Reference("uk-pcr-2015", "reg-77")]

    def carries(p):
        return any(r.matches(pid) for r in refs for pid in p.provisions)

    found = corpus.passages[::-3]  # what other searches found, best first
    whole = provision_passages(corpus, refs, lambda p: True, found)
    first = [p for p in found if carries(p)]
    assert first and whole[:len(first)] == first
    rest = [p for p in corpus.passages if carries(p) and p not in first]
    assert whole[len(first):] == rest
    for limit in (1, len(first) + 2, len(whole) + 5):
        assert provision_passages(corpus, refs, lambda p: True, found, limit) == whole[:limit]


# --- the corpus kept on disk ----------------------------------------------------------------------

def _files(index: Index) -> list[Path]:
    """The saved corpus files, oldest first."""
    return sorted((Path(index.settings.home) / "cache").glob("corpus-*.pickle"), key=lambda f: f.stat().st_mtime)


def test_a_new_process_reads_the_saved_corpus_instead_of_every_row(built, monkeypatch):
    index, _ = built
    expected = [(p.id, p.text) for p in index.passages()]
    saved = _files(index)[-1]
    assert saved.stat().st_mode & 0o077 == 0  # owner-only, as the store is
    fresh = Index(index.settings)
    monkeypatch.setattr(fresh, "_get_all", lambda *a, **k: pytest.fail("read every row of the store"))
    assert [(p.id, p.text) for p in fresh.passages()] == expected
    assert fresh.keyword.search("reserved contract mutual", 3)
    assert np.array_equal(fresh.corpus().vectors, index.corpus().vectors)


def test_a_write_makes_a_new_corpus_file_and_the_old_one_is_not_read(built):
    index, _ = built
    doc_id = index.passages()[0].doc_id
    passages = [p for p in index.passages() if p.doc_id == doc_id]
    index.replace_document(doc_id, [Passage(**{**passages[0].as_dict(), "text": "A new text about lots and day services."})])
    fresh = Index(index.settings)
    assert [p.text for p in fresh.passages() if p.doc_id == doc_id] == ["A new text about lots and day services."]
    assert len(_files(index)) == 2  # this content's and the one before


def test_a_damaged_corpus_file_is_rebuilt_from_the_store(built, caplog):
    index, _ = built
    for saved in _files(index):
        saved.write_bytes(b"not a pickle")
    fresh = Assistant(index.settings, Index(index.settings), calibration=Calibration(policy=POLICY))
    assert fresh.ask(QUESTION).citations
    assert "could not be read" in caplog.text
    assert len(Index(index.settings).passages()) == len(index.passages())


def test_a_reader_that_sees_the_revision_s_copy_ahead_of_the_metadata_keeps_its_corpus(built):
    """A write under way: the copy is written first, then the metadata."""
    index, assistant = built
    corpus = index.corpus()
    index.sentence_collection.modify(metadata={"revision": corpus.revision + 1})
    assert index.corpus() is corpus
    assert assistant.ask(QUESTION).citations


def test_a_store_keeps_its_per_document_records_for_thousands_of_documents(built):
    """Chroma writes a collection's metadata in one SQLite statement (at most 32,766 values): with
    a key per entry, the 100,000-passage bench's store stopped at 1,820 documents."""
    index, _assistant = built
    before = index.state()
    many = {f"{prefix}bench-{i:05d}": i for i in range(5_000) for prefix in ("live:", "count:", "sentences:")}
    index._commit(lambda meta: meta.update(many))
    state = Index(index.settings).state()  # as another process reads it
    assert {key: state[key] for key in many} == many
    assert state["revision"] == before["revision"] + 1
    assert {k: v for k, v in state.items() if k not in many and k != "revision"} == {
        k: v for k, v in before.items() if k != "revision"}
    # A store written before the packing (a key per entry) reads the same, and its next commit
    # packs it.
    old = {"revision": 7, "live:a": 3, "count:a": 2, "sentences:a": 3}
    index.collection.modify(metadata=old)
    assert index.state() == old
    index._commit(lambda meta: None)
    assert index.state() == old | {"revision": 8}
    assert set(index.collection.metadata) == {"revision", "documents"}
