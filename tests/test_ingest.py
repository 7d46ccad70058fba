"""Ingest: each format, structure-aware splitting, metadata, and incremental re-ingest."""

import os
from itertools import pairwise
from pathlib import Path

import pytest
from fpdf import FPDF

from procguide.index import Index
from procguide.ingest import IngestError, ingest_paths
from procguide.ingest.loaders import load_document
from procguide.ingest.split import split_document
from tests.conftest import FIXTURES


def passages_of(path: Path, chunk_size: int = 1200):
    return split_document(load_document(path), chunk_size, 150)


def by_locator(passages):
    return {p.locator: p for p in passages}


NOTE = """---
doc_id: {doc_id}
title: {title}
jurisdiction: Wales
doc_type: note
url: https://www.legislation.gov.uk/anaw/2014/4/section/16
provisions: [wales-sswba-2014:s-16]
in_force_from: 2016-04-06
updated: 2026-11-25
---

# {title}

## Promoting social enterprises
<!-- provisions: wales-sswba-2014:s-16(1) -->

Under section 16 of the Social Services and Well-being (Wales) Act 2014, local authorities must promote social enterprises. {extra}

## Working with user-led services

User-led services and co-operatives are part of the same duty to promote alternative models.
<script>alert("x")</script> <b>Bold</b> text stays as text.
"""


def write_note(folder: Path, name: str, doc_id: str, extra: str = "") -> Path:
    path = folder / name
    path.write_text(NOTE.format(doc_id=doc_id, title=f"Note {doc_id}", extra=extra), encoding="utf-8")
    return path


# --- formats and splitting ---------------------------------------------------------------------

def test_eurlex_html_splits_on_articles_recitals_and_annexes():
    found = by_locator(passages_of(FIXTURES / "eurlex_directive_excerpt.html"))
    for locator in ("Recital 114", "Recital 118", "Article 4", "Article 74", "Article 76",
                    "Article 77(1)", "Article 77(2)-(4)", "Annex XIV"):
        assert locator in found, sorted(found)
    assert found["Article 77(2)-(4)"].provisions == (
        "eu-dir-2014-24:art-77(2)", "eu-dir-2014-24:art-77(3)", "eu-dir-2014-24:art-77(4)")
    assert "eu-dir-2014-24:art-4(d)" in found["Article 4"].provisions
    assert found["Article 77(1)"].heading == "Reserved contracts for certain services"


def test_eurlex_html_carries_the_directive_metadata_and_drops_page_chrome():
    passages = passages_of(FIXTURES / "eurlex_directive_excerpt.html")
    # A local copy keeps its own title: naming the Directive does not make it the Directive.
    assert {p.title for p in passages} == {"Directive - 2014/24 - EN - EUR-Lex"}
    assert {p.provenance for p in passages} == {"local"} and {p.url for p in passages} == {""}
    assert {p.jurisdiction for p in passages} == {"EU"}
    assert all(p.doc_type == "legislation" for p in passages)
    text = " ".join(p.text for p in passages)
    assert "dataLayer" not in text and "function" not in text
    assert "EUR 750 000" in text  # no-break spaces became ordinary ones


def test_legislation_gov_uk_html_splits_on_regulations_with_paragraph_numbers():
    found = by_locator(passages_of(FIXTURES / "legislation_gov_uk_regulation_excerpt.html"))
    assert {"Regulation 74", "Regulation 76", "Regulation 77(1)-(2)", "Regulation 77(3)-(5)"} <= set(found)
    reg77 = found["Regulation 77(3)-(5)"]
    assert "uk-pcr-2015:reg-77(3)" in reg77.provisions
    assert reg77.url == ""  # a local copy gets no official link (see test_provenance.py)
    assert reg77.superseded_by == "uk-pa-2023" and reg77.superseded_from == "2025-02-24"
    assert not any("Skip to main content" in p.text for p in found.values())


def _pdf(path: Path, pages: list[list[str]]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_a_pdf_without_legal_headings_is_cited_by_page(tmp_path):
    path = _pdf(tmp_path / "guide.pdf", [
        ["Commissioning guide", "Commissioners should talk to social enterprises early."],
        ["Consortia of small providers can bid together for larger contracts."],
    ])
    passages = passages_of(path)
    assert [(p.locator, p.page) for p in passages] == [("page 1", 1), ("page 2", 2)]
    assert "Consortia" in passages[1].text


def test_a_pdf_of_legislation_keeps_article_locators_and_pages(tmp_path):
    path = _pdf(tmp_path / "directive.pdf", [
        ["DIRECTIVE 2014/24/EU OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL", "Article 76",
         "Principles of awarding contracts", "1. Member States shall put in place national rules."],
        ["Article 77", "Reserved contracts for certain services",
         "1. Member States may provide that contracting authorities may reserve the right.",
         "3. The maximum duration of the contract shall not be longer than three years."],
    ])
    found = by_locator(passages_of(path))
    assert found["Article 77"].page == 2
    assert "eu-dir-2014-24:art-77(3)" in found["Article 77"].provisions
    assert found["Article 77"].heading == "Reserved contracts for certain services"


def test_plain_text_splits_on_section_headings(tmp_path):
    path = tmp_path / "act.txt"
    path.write_text(
        "Procurement Act 2023\n\nSection 33 Reserving contracts to public service mutuals\n\n"
        "(1) A contracting authority may reserve a light touch contract.\n\n"
        "Section 32 Reserving contracts to supported employment providers\n\n(1) Text.\n",
        encoding="utf-8",
    )
    found = by_locator(passages_of(path))
    assert "uk-pa-2023:s-33(1)" in found["Section 33"].provisions
    assert found["Section 33"].heading == "Reserving contracts to public service mutuals"


def test_a_markdown_note_carries_front_matter_and_section_provisions(tmp_path):
    found = by_locator(passages_of(write_note(tmp_path, "n.md", "wales-note")))
    promoting = found["Promoting social enterprises"]
    assert promoting.provisions == ("wales-sswba-2014:s-16(1)",)
    assert promoting.jurisdiction == "Wales" and promoting.doc_type == "note"
    assert promoting.in_force_from == "2016-04-06"
    assert promoting.url.startswith("https://www.legislation.gov.uk/")
    # A section without its own tag inherits the note's provisions.
    assert found["Working with user-led services"].provisions == ("wales-sswba-2014:s-16",)


def test_html_inside_a_note_is_reduced_to_text(tmp_path):
    found = by_locator(passages_of(write_note(tmp_path, "n.md", "wales-note")))
    text = found["Working with user-led services"].text
    assert "<script>" not in text and "alert" not in text and "<b>" not in text
    assert "Bold text stays as text." in text


def test_a_long_section_is_split_again_with_overlap(tmp_path):
    extra = " ".join(f"Sentence number {i} about promoting co-operatives in Wales." for i in range(120))
    passages = [p for p in passages_of(write_note(tmp_path, "n.md", "long", extra), chunk_size=800)
                if p.locator == "Promoting social enterprises"]
    assert len(passages) > 3
    assert all(len(p.text) <= 800 for p in passages)
    for first, second in pairwise(passages):
        assert first.text[-60:].split(".")[-2] in second.text  # the end of one starts the next


def test_a_malformed_provision_id_in_front_matter_is_reported(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ndoc_id: bad\ntitle: Bad\nprovisions: [article 77]\n---\n\n## A\n\nText here.\n")
    with pytest.raises(IngestError, match="article 77"):
        load_document(path)


def test_a_corrupt_pdf_gets_a_clear_message(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n garbage that is not a PDF body")
    with pytest.raises(IngestError, match="damaged or not a PDF"):
        load_document(path)


def test_an_unsupported_format_says_which_formats_work(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(IngestError, match=r"\.md"):
        load_document(path)


# --- incremental ingest --------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "kb"
    path.mkdir()
    return path


def ids_by_doc(index: Index) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in index.passages():
        out.setdefault(p.doc_id, set()).add(p.id)
    return out


def test_reingest_adds_replaces_removes_and_skips_by_content_hash(folder, index):
    write_note(folder, "a.md", "note-a")
    write_note(folder, "b.md", "note-b")
    first = ingest_paths([folder], index)
    assert sorted(first.added) == ["note-a", "note-b"]
    before = ids_by_doc(index)

    second = ingest_paths([folder], index)
    assert sorted(second.unchanged) == ["note-a", "note-b"] and not second.changed

    write_note(folder, "a.md", "note-a", extra="A new sentence about mutuals.")
    (folder / "b.md").unlink()
    third = ingest_paths([folder], index)
    assert third.replaced == ["note-a"] and third.removed == ["note-b"]
    after = ids_by_doc(index)
    assert set(after) == {"note-a"}
    assert after["note-a"] != before["note-a"]
    assert any("A new sentence about mutuals." in p.text for p in index.passages())
    # No stale or duplicated passages: the store holds exactly what a fresh split gives.
    assert index.count() == len(passages_of(folder / "a.md"))


def test_a_failing_file_leaves_what_is_indexed_untouched(folder, index):
    write_note(folder, "a.md", "note-a")
    (folder / "guide.pdf").write_bytes(b"%PDF-1.4 not really")
    report = ingest_paths([folder], index)
    assert report.added == ["note-a"]
    assert len(report.failed) == 1 and "guide.pdf" in report.failed[0][1]
    kept = index.count()

    (folder / "a.md").write_text("---\ndoc_id: note-a\nprovisions: [not an id]\n---\n\n## A\n\nText.\n")
    report = ingest_paths([folder], index)
    assert report.failed and index.count() == kept  # the old version of note-a is still there


def test_two_files_with_one_doc_id_are_refused(folder, index):
    write_note(folder, "a.md", "same")
    write_note(folder, "b.md", "same")
    report = ingest_paths([folder], index)
    assert report.added == ["same"]
    assert "already used" in report.failed[0][1]


def test_readme_files_document_a_folder_and_are_not_ingested(folder, index):
    (folder / "README.md").write_text("# About this folder\n\nNot knowledge.\n")
    write_note(folder, "a.md", "note-a")
    assert ingest_paths([folder], index).added == ["note-a"]


def test_the_starter_knowledge_base_ingests_without_failures(kb_index):
    docs = kb_index.documents()
    assert {"reserved-contracts-mutuals-eu", "light-touch-regime-eu"} <= set(docs)
    assert all(p.provisions for p in kb_index.passages())


def test_a_sidecar_yaml_sets_the_metadata_of_a_pdf(tmp_path):
    path = _pdf(tmp_path / "wppn.pdf", [["Guidance on reserving contracts in Wales."]])
    (tmp_path / "wppn.pdf.yaml").write_text(
        "doc_id: wppn-02-21\ntitle: WPPN 02/21 Reserved contracts\njurisdiction: Wales\n"
        "doc_type: guidance\nurl: https://www.gov.wales/\nprovisions: [uk-pcr-2015:reg-77]\n",
        encoding="utf-8",
    )
    [passage] = passages_of(path)
    assert (passage.doc_id, passage.title, passage.jurisdiction, passage.doc_type) == (
        "wppn-02-21", "WPPN 02/21 Reserved contracts", "Wales", "guidance")
    assert passage.provisions == ("uk-pcr-2015:reg-77",)


# --- encodings, one hash per file, size limit ---------------------------------------------------

POUND_TEXT = "Section 33 Reserving contracts\n\n(1) A contract worth £5 million may be reserved.\n"


@pytest.mark.fast
@pytest.mark.parametrize("encoding, data", [
    ("utf-8", POUND_TEXT.encode("utf-8")),
    ("utf-8 with BOM", POUND_TEXT.encode("utf-8-sig")),
    ("utf-16 LE with BOM", b"\xff\xfe" + POUND_TEXT.encode("utf-16-le")),
    ("utf-16 BE with BOM", b"\xfe\xff" + POUND_TEXT.encode("utf-16-be")),
    ("utf-16 LE without BOM", POUND_TEXT.encode("utf-16-le")),
    ("utf-16 BE without BOM", POUND_TEXT.encode("utf-16-be")),
    ("cp1252", POUND_TEXT.encode("cp1252")),
])
def test_the_encoding_is_detected_and_no_nul_reaches_the_text(tmp_path, encoding, data):
    path = tmp_path / "act.txt"
    path.write_bytes(data)
    passages = passages_of(path)
    text = " ".join(p.text for p in passages)
    assert "A contract worth £5 million may be reserved." in text, (encoding, text)
    assert all("\x00" not in p.text and "\ufeff" not in p.text for p in passages)


@pytest.mark.fast
def test_nul_bytes_inside_utf8_text_are_dropped(tmp_path):
    path = tmp_path / "nul.md"
    path.write_bytes(b"---\ndoc_id: nul\n---\n\n# Ti\x00tle\n\nMutu\x00als may bid.\n")
    passages = passages_of(path)
    assert passages and all("\x00" not in p.text + p.title + p.locator for p in passages)
    assert "Mutuals may bid." in passages[0].text


@pytest.mark.fast
def test_a_note_with_a_pound_sign_is_unchanged_on_the_second_ingest(folder, tmp_path):
    import hashlib

    from tests.conftest import make_settings

    write_note(folder, "money.md", "money", extra="Contracts under £200,000 may be reserved.")
    index = Index(make_settings(tmp_path / "store", embedding_model="hashing"))
    assert ingest_paths([folder], index).added == ["money"]
    second = ingest_paths([folder], index)
    assert second.unchanged == ["money"] and not second.changed
    # The one hash: sha256 of the file's bytes, stored with every passage.
    raw = hashlib.sha256((folder / "money.md").read_bytes()).hexdigest()
    assert {p.source_hash for p in index.passages()} == {raw}


@pytest.mark.fast
def test_a_sidecar_is_part_of_the_fingerprint(tmp_path):
    from procguide.ingest.loaders import document_fingerprint

    path = tmp_path / "a.txt"
    path.write_text("Some guidance on reserved contracts.\n", encoding="utf-8")
    alone = document_fingerprint(path, path.read_bytes())
    (tmp_path / "a.txt.yaml").write_text("title: Guidance\n", encoding="utf-8")
    assert document_fingerprint(path, path.read_bytes()) != alone
    assert load_document(path).source_hash == document_fingerprint(path, path.read_bytes())


@pytest.mark.fast
def test_a_file_over_the_size_limit_is_refused_naming_it_its_size_and_the_setting(folder, tmp_path):
    from tests.conftest import make_settings

    write_note(folder, "small.md", "small")
    big = folder / "big.txt"
    big.write_bytes(b"Reserved contracts. " * 60_000)  # 1.2 MB
    index = Index(make_settings(tmp_path / "store", embedding_model="hashing", max_file_mb=1))
    report = ingest_paths([folder], index)
    assert report.added == ["small"]
    [(path, message)] = report.failed
    assert path == str(big.resolve())
    assert "big.txt" in message and "1.1 MB" in message and "PROCGUIDE_MAX_FILE_MB" in message
    with pytest.raises(IngestError, match="PROCGUIDE_MAX_FILE_MB"):
        load_document(big, max_file_mb=0.5)


# --- front matter validated ---------------------------------------------------------------------

@pytest.mark.fast
@pytest.mark.parametrize("line, field", [
    ("provisions: 5", "provisions"),
    ("doc_id: [a, b]", "doc_id"),
    ("doc_id: Has Spaces", "doc_id"),
    ("jurisdiction: Scotland", "jurisdiction"),
    ("doc_type: poem", "doc_type"),
    ("in_force_from: soon", "in_force_from"),
    ("url: javascript:alert(1)", "url"),
    ("sources: [{title: A, url: 'data:text/html,x'}]", "sources.0.url"),
    ("title: [a, b]", "title"),
])
def test_bad_front_matter_is_refused_naming_the_file_and_the_field(tmp_path, line, field):
    path = tmp_path / "bad.md"
    path.write_text(f"---\n{line}\n---\n\n## A\n\nText here.\n", encoding="utf-8")
    with pytest.raises(IngestError, match=rf"bad\.md.*'{field}'"):
        load_document(path)


@pytest.mark.fast
def test_provisions_may_be_one_string_and_unknown_keys_are_ignored(tmp_path):
    path = tmp_path / "ok.md"
    path.write_text("---\ndoc_id: ok\nprovisions: uk-pa-2023:s-33, uk-pa-2023:s-32\nreviewer: Sam\n---\n\n"
                    "## A\n\nText here.\n", encoding="utf-8")
    assert load_document(path).provisions == ("uk-pa-2023:s-33", "uk-pa-2023:s-32")


# --- discovery ----------------------------------------------------------------------------------

@pytest.mark.fast
def test_symlink_loops_and_broken_links_are_reported_and_the_rest_ingested(folder, tmp_path):
    from procguide.ingest.pipeline import scan
    from tests.conftest import make_settings

    write_note(folder, "a.md", "note-a")
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # kb/loop -> kb
    (folder / "gone.md").symlink_to(folder / "no-such-file.md")
    (folder / "self.md").symlink_to(folder / "self.md")
    found = scan([folder])
    assert found.files == [(folder / "a.md").resolve()]
    reasons = {Path(p).name: message for p, message in found.problems}
    assert set(reasons) == {"loop", "gone.md", "self.md"}, reasons
    assert "symbolic link loop" in reasons["loop"] and "broken symbolic link" in reasons["gone.md"]
    assert "loop" in reasons["self.md"]
    index = Index(make_settings(tmp_path / "store", embedding_model="hashing"))
    report = ingest_paths([folder], index)
    assert report.added == ["note-a"]
    assert sorted(Path(p).name for p, _ in report.failed) == ["gone.md", "loop", "self.md"]
    assert all(message.startswith(p) for p, message in report.failed)  # "<path>: <reason>"


@pytest.mark.fast
def test_a_symlinked_folder_is_followed_once(folder, tmp_path):
    from procguide.ingest.pipeline import scan

    outside = tmp_path / "outside"
    outside.mkdir()
    write_note(outside, "b.md", "note-b")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    found = scan([folder])
    assert found.files == [(outside / "b.md").resolve()] and not found.problems


_SCAN_AND_PRINT = (
    "import json, sys; from procguide.ingest.pipeline import scan; "
    "found = scan([sys.argv[1]]); "
    "print(json.dumps([[str(f) for f in found.files], [str(p) for p, _ in found.problems]]))"
)


@pytest.mark.fast
def test_an_unreadable_file_or_folder_is_reported():
    """Root reads every file, so as root the scan runs as `nobody` (setpriv), in a folder nobody
    may enter; otherwise it runs as the current user."""
    import json
    import shutil
    import subprocess
    import sys
    import tempfile

    as_root = os.geteuid() == 0
    if as_root and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: no user for whom a file can be unreadable")
    root = Path(tempfile.mkdtemp(prefix="procguide-unreadable-"))
    try:
        root.chmod(0o755)
        folder = root / "notes"
        folder.mkdir(mode=0o755)
        write_note(folder, "a.md", "note-a").chmod(0o644)
        locked = write_note(folder, "locked.md", "locked")
        locked.chmod(0)
        shut = folder / "shut"
        shut.mkdir()
        write_note(shut, "c.md", "note-c")
        shut.chmod(0)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_root else []
        result = subprocess.run(
            [*prefix, sys.executable, "-c", _SCAN_AND_PRINT, str(folder)],
            capture_output=True, text=True, timeout=120, cwd=root, check=False,
        )
        assert result.returncode == 0, result.stderr
        files, problems = json.loads(result.stdout.strip().splitlines()[-1])
        assert files == [str((folder / "a.md").resolve())]
        assert {Path(p).name for p in problems} == {"locked.md", "shut"}
    finally:
        for path in (root / "notes" / "shut", root / "notes" / "locked.md"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(root)


# --- HTML and markup ----------------------------------------------------------------------------

@pytest.mark.fast
def test_deeply_nested_html_keeps_every_level_of_text_in_order():
    from procguide.ingest.html import html_to_blocks

    depth = 10_000
    divs = "<html><body>" + "".join(f"<div>level {i}" for i in range(depth)) + "</div>" * depth
    _, blocks = html_to_blocks(divs + "</body></html>")
    assert [b.text for b in blocks] == [f"level {i}" for i in range(depth)]
    items = "<html><body>" + "".join(f"<ul><li>item {i}" for i in range(depth)) + "</li></ul>" * depth
    _, blocks = html_to_blocks(items + "</body></html>")
    assert [b.text for b in blocks] == [f"item {i}" for i in range(depth)]


@pytest.mark.fast
def test_text_around_a_nested_block_is_kept():
    from procguide.ingest.html import html_to_blocks

    _, blocks = html_to_blocks(
        "<body><ul><li>First <b>point</b><ul><li>sub-point</li></ul>after</li></ul>"
        "<table><tr><td>a</td><td><p>b</p></td></tr></table></body>")
    assert [b.text for b in blocks] == ["First point", "sub-point", "after", "a b"]


@pytest.mark.fast
def test_comments_and_scripts_in_a_note_never_become_text_even_across_blank_lines(tmp_path):
    path = tmp_path / "hidden.md"
    path.write_text(
        "---\ndoc_id: hidden\n---\n\n## Mutuals\n<!-- provisions: uk-pa-2023:s-33 -->\n\n"
        "Visible one. [a link](https://example.org) ![img](x.png)\n\n"
        "<!-- a comment\n\nspanning paragraphs -->\n\n"
        "<script>\nvar secret = 1;\n\nstealCookies();\n</script>\n\nVisible two.\n\n"
        "<!-- never closed\n\nhidden to the end\n", encoding="utf-8")
    [passage] = passages_of(path)
    assert passage.provisions == ("uk-pa-2023:s-33",)
    assert "Visible one." in passage.text and "Visible two." in passage.text
    assert "[a link](https://example.org)" in passage.text  # kept as text; the UI escapes it
    for hidden in ("comment", "spanning", "secret", "stealCookies", "never closed", "hidden to"):
        assert hidden not in passage.text
