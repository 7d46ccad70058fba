"""Sources you can trust: a passage is official only when it comes from a note listed, by path
and by the sha256 of its bytes, in the allow-list (knowledge/official.yaml). Everything else is
local, whatever its title, front matter or file name says, and gets no official link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from procguide import provisions as prov
from procguide.index import Index
from procguide.ingest import IngestError, ingest_paths
from procguide.ingest.loaders import load_document
from procguide.ingest.provenance import load_official, official_entries, write_official
from procguide.ingest.split import split_document
from tests.conftest import KNOWLEDGE, make_settings

pytestmark = pytest.mark.fast

NOTE = """---
doc_id: {doc_id}
title: Reserved contracts for mutuals under Directive 2014/24/EU
jurisdiction: EU
doc_type: note
{url_line}
provisions: [eu-dir-2014-24:art-77]
{extra}
---

# Reserved contracts for mutuals

## Which services
<!-- provisions: eu-dir-2014-24:art-77(1) -->

Member States may let contracting authorities reserve certain health, social and cultural services.
"""
CATALOGUE_LINK = prov.official_url("eu-dir-2014-24:art-77(1)")


def note(folder: Path, name: str, doc_id: str, url: str = "https://eur-lex.europa.eu/eli/dir/2014/24/oj",
         extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    url_line = f"url: {url}" if url else ""
    path.write_text(NOTE.format(doc_id=doc_id, url_line=url_line, extra=extra), encoding="utf-8")
    return path


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A knowledge folder of two notes and its allow-list."""
    folder = tmp_path / "knowledge"
    note(folder, "mutuals.md", "mutuals")
    note(folder / "eu", "services.md", "services")
    (folder / "README.md").write_text("# About\n\nNot a note.\n", encoding="utf-8")
    write_official(folder / "official.yaml")
    return folder


def make_index(tmp_path: Path, kb: Path) -> Index:
    return Index(make_settings(tmp_path / "store", embedding_model="hashing",
                               official_file=kb / "official.yaml"))


def provenance_by_doc(index: Index) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in index.passages():
        out.setdefault(p.doc_id, set()).add(p.provenance)
    return out


def test_the_allow_list_holds_every_note_by_relative_path_and_sha256(kb):
    listed = load_official(kb / "official.yaml").hashes
    assert set(listed) == {"mutuals.md", "eu/services.md"}  # README.md is not ingested
    assert all(len(h) == 64 for h in listed.values())


def test_listed_unchanged_notes_are_official_and_link_to_the_provision(tmp_path, kb):
    index = make_index(tmp_path, kb)
    report = ingest_paths([kb], index)
    assert not report.failed, report.failed
    assert provenance_by_doc(index) == {"mutuals": {"official"}, "services": {"official"}}
    which = next(p for p in index.passages() if p.locator == "Which services")
    assert which.official and which.url == CATALOGUE_LINK


def test_an_edited_note_is_local_until_the_list_is_remade(tmp_path, kb):
    index = make_index(tmp_path, kb)
    ingest_paths([kb], index)
    path = kb / "mutuals.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn added sentence.\n", encoding="utf-8")
    assert ingest_paths([kb], index).replaced == ["mutuals"]
    assert provenance_by_doc(index) == {"mutuals": {"local"}, "services": {"official"}}
    write_official(kb / "official.yaml")  # the file is unchanged, but its provenance is not
    assert ingest_paths([kb], index).replaced == ["mutuals"]
    fresh = make_index(tmp_path / "fresh", kb)
    ingest_paths([kb], fresh)
    assert provenance_by_doc(fresh) == {"mutuals": {"official"}, "services": {"official"}}


def test_relisting_an_edited_note_makes_its_stored_passages_official(tmp_path, kb):
    index = make_index(tmp_path, kb)
    ingest_paths([kb], index)
    path = kb / "mutuals.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn added sentence.\n", encoding="utf-8")
    ingest_paths([kb], index)
    write_official(kb / "official.yaml")
    assert ingest_paths([kb], index).replaced == ["mutuals"]
    assert provenance_by_doc(index) == {"mutuals": {"official"}, "services": {"official"}}


def test_a_byte_for_byte_copy_in_another_folder_is_local(tmp_path, kb):
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    shutil.copy(kb / "mutuals.md", elsewhere / "mutuals.md")  # same name, same bytes
    (elsewhere / "eu").mkdir()
    shutil.copy(kb / "eu" / "services.md", elsewhere / "eu" / "services.md")  # same relative path
    index = make_index(tmp_path, kb)
    assert not ingest_paths([elsewhere], index).failed
    assert provenance_by_doc(index) == {"mutuals": {"local"}, "services": {"local"}}
    assert all(p.url == "https://eur-lex.europa.eu/eli/dir/2014/24/oj" for p in index.passages())


def test_a_listed_note_moved_to_another_path_in_the_folder_is_local(kb):
    moved = kb / "other" / "mutuals.md"
    moved.parent.mkdir()
    shutil.copy(kb / "mutuals.md", moved)
    assert load_document(moved, load_official(kb / "official.yaml")).provenance == "local"


def test_front_matter_cannot_make_a_document_official(tmp_path, kb):
    path = note(kb, "claims.md", "claims", extra="provenance: official")
    assert load_document(path, load_official(kb / "official.yaml")).provenance == "local"


def test_an_html_page_titled_as_the_directive_is_local_with_its_own_title_and_no_link(tmp_path, kb):
    page = kb / "directive.html"
    page.write_text(
        "<html><head><title>Directive 2014/24/EU of the European Parliament</title></head><body>"
        "<p>Article 77</p><p>Reserved contracts for certain services</p>"
        "<p>1. Member States may provide that contracting authorities may reserve the right.</p>"
        "</body></html>", encoding="utf-8")
    index = make_index(tmp_path, kb)
    assert not ingest_paths([kb], index).failed
    passages = [p for p in index.passages() if p.doc_id == "directive"]
    assert passages and {p.provenance for p in passages} == {"local"}
    assert {p.title for p in passages} == {"Directive 2014/24/EU of the European Parliament"}
    assert {p.url for p in passages} == {""}
    assert any("eu-dir-2014-24:art-77" in p.provisions for p in passages)  # still found by Article


def test_a_local_note_naming_an_instrument_links_only_to_its_own_address(tmp_path):
    own = note(tmp_path, "own.md", "own", url="https://example.org/our-guide")
    bare = note(tmp_path, "bare.md", "bare", url="")
    assert {p.url for p in split_document(load_document(own))} == {"https://example.org/our-guide"}
    assert {p.url for p in split_document(load_document(bare))} == {""}
    assert {p.title for p in split_document(load_document(bare))} == {
        "Reserved contracts for mutuals under Directive 2014/24/EU"}


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.org/a",
                                 "/relative/path"])
def test_a_url_that_is_not_a_web_address_is_refused_naming_the_field(tmp_path, url):
    path = note(tmp_path, "bad.md", "bad", url=f'"{url}"')
    with pytest.raises(IngestError, match=r"bad\.md.*'url'.*http"):
        load_document(path)


def test_the_shipped_allow_list_matches_the_shipped_notes():
    listed = load_official(KNOWLEDGE / "official.yaml").hashes
    current = official_entries(KNOWLEDGE)
    assert "README.md" not in current and len(current) >= 30
    changed = sorted(n for n in current.keys() | listed.keys() if current.get(n) != listed.get(n))
    assert not changed, (
        f"knowledge/official.yaml is out of date for {changed}: run `procguide official --write`"
    )


def test_every_shipped_note_is_official_with_the_shipped_list():
    official = load_official(KNOWLEDGE / "official.yaml")
    for name in official_entries(KNOWLEDGE):
        doc = load_document(KNOWLEDGE / name, official)
        assert doc.provenance == "official", name
        assert all(p.official for p in split_document(doc)), name


def test_procguide_official_notices_a_stale_list_and_write_remakes_it(kb, monkeypatch):
    from typer.testing import CliRunner

    from procguide.cli import app
    from procguide.config import get_settings

    monkeypatch.setenv("PROCGUIDE_OFFICIAL_FILE", str(kb / "official.yaml"))
    monkeypatch.setenv("COLUMNS", "400")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["official"]).exit_code == 0
        note(kb, "mutuals.md", "mutuals", extra="updated: 2026-12-01")  # an edit
        stale = runner.invoke(app, ["official"])
        assert stale.exit_code == 1 and "mutuals.md: edited" in stale.output
        assert runner.invoke(app, ["official", "--write"]).exit_code == 0
        assert runner.invoke(app, ["official"]).exit_code == 0
    finally:
        get_settings.cache_clear()
