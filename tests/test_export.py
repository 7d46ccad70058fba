"""Exports (issue 10, item 3): a conversation as a Markdown file and as a Word document, with the
date, context, disclaimer, every answer and its full source links; one answer for the clipboard;
and the same machinery for a trainer's session pack. Markup from users and documents stays text.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT

from procguide.answer.render import DISCLAIMER
from procguide.answer.result import Answer, Citation
from procguide.passage import Passage
from procguide.ui.export import (
    ExportDoc,
    ItemList,
    Section,
    Turn,
    answer_clipboard_text,
    conversation_doc,
    file_name,
    to_docx,
    to_markdown_file,
)

pytestmark = pytest.mark.fast

WHEN = datetime(2026, 3, 3, 14, 5)
S33 = "https://www.legislation.gov.uk/ukpga/2023/54/section/33"
REG77 = "https://www.legislation.gov.uk/uksi/2015/102/regulation/77"
EVIL = "http://evil.example/phish"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
LINK = f"[link]({EVIL})"
HOSTILE = f"Can we reserve it? {IMG} {LINK} {SCRIPT}"


def _passage(pid: str, *, url: str = "", provenance: str = "official", title: str = "Procurement Act 2023",
             locator: str = "Section 33", provisions: tuple[str, ...] = (), **extra: object) -> Passage:
    return Passage(id=pid, text="text", doc_id=pid, title=title, locator=locator, provisions=provisions,
                   url=url, provenance=provenance, **extra)  # type: ignore[arg-type]


S33_PASSAGE = _passage("s33", url=S33, provisions=("uk-pa-2023:s-33",), jurisdiction="UK")
REG77_PASSAGE = _passage("reg77", url=REG77, title="Public Contracts Regulations 2015", locator="Regulation 77",
                         provisions=("uk-pcr-2015:reg-77",), jurisdiction="UK", superseded_by="uk-pa-2023",
                         superseded_from="2025-02-24")
LOCAL_PASSAGE = _passage("policy", url="https://www.legislation.gov.uk/fake-local", provenance="local",
                         title="Council commissioning policy", locator="", source="/docs/council-policy.md")
HOSTILE_PASSAGE = _passage("hostile", url="javascript:alert(1)", title=f"{LINK} {IMG}", locator=SCRIPT)


def _answer(question: str, text: str, citations: list[Citation], **kw: object) -> Answer:
    return Answer(question, text, citations, False, **kw)  # type: ignore[arg-type]


FIRST = _answer(
    "How long can a reserved contract last?",
    "A contract reserved to a public service mutual may last up to five years [1].\n"
    "Under PCR 2015 the limit was three years [2].",
    [Citation(1, S33_PASSAGE), Citation(2, REG77_PASSAGE)],
    notices=["PCR 2015 was replaced by the Procurement Act 2023 from 24 February 2025."],
    context={"summary": "a Welsh council, procurement starting 3 March 2026 (Procurement Act 2023)"},
)
SECOND = _answer(
    HOSTILE,
    f"Our policy says ten years [1]. It quotes {IMG} and {LINK} [2].",
    [Citation(1, LOCAL_PASSAGE), Citation(2, HOSTILE_PASSAGE)],
)


@pytest.fixture
def conversation() -> ExportDoc:
    return conversation_doc([Turn(FIRST.question, FIRST), Turn(HOSTILE, SECOND)],
                            context=["Nation: Wales", "Procurement started: today"], generated=WHEN)


def _docx(doc: ExportDoc) -> bytes:
    stream = io.BytesIO()
    to_docx(doc, stream)
    return stream.getvalue()


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _external_targets(data: bytes) -> set[str]:
    """Every external relationship in every part of the package: where links can go."""
    package = Document(io.BytesIO(data)).part.package
    return {rel.target_ref for part in package.iter_parts() for rel in part.rels.values() if rel.is_external}


def _html(markdown: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").render(markdown)  # raw HTML enabled: the strict case


# Markdown

def test_the_markdown_file_holds_date_context_disclaimer_questions_and_answers(conversation):
    md = to_markdown_file(conversation)
    assert md.startswith("# procguide conversation\n")
    assert "Exported on 3 March 2026 at 14:05" in md
    assert "- Nation: Wales" in md and "- Procurement started: today" in md
    assert DISCLAIMER in md
    assert "## Question 1" in md and "## Question 2" in md
    assert "> How long can a reserved contract last?" in md
    assert "may last up to five years [1]." in md and "limit was three years [2]." in md
    assert "**Note:** PCR 2015 was replaced" in md
    assert "*Answered for: a Welsh council, procurement starting 3 March 2026 (Procurement Act 2023).*" in md


def test_the_markdown_file_writes_every_official_url_in_full_as_text_and_link(conversation):
    md = to_markdown_file(conversation)
    for url in (S33, REG77):
        assert f"]({url})" in md
        assert url in _html(md).replace("&amp;", "&")  # the visible text is the URL too
        assert f'<a href="{url}">{url}</a>' in _html(md)


def test_the_markdown_sources_name_instrument_jurisdiction_and_what_replaced_it(conversation):
    md = to_markdown_file(conversation)
    assert "\\[1\\]" not in md
    assert "Procurement Act 2023 — Section 33" in md
    assert "Instrument: Procurement Act 2023 · Jurisdiction: UK" in md
    assert "Superseded by Procurement Act 2023 from 2025-02-24" in md


def test_markup_in_questions_and_passages_stays_inert_in_the_markdown(conversation):
    md = to_markdown_file(conversation)
    html = _html(md)
    assert not re.search(r"(?<!\\)<(img|script)", md)
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;" in html
    assert f"]({EVIL})" not in md
    assert set(re.findall(r'href="([^"]*)"', html)) == {S33, REG77}
    assert "javascript" not in md


def test_a_local_document_is_labelled_not_law_and_not_linked_in_the_markdown(conversation):
    md = to_markdown_file(conversation)
    local = next(line for line in md.splitlines() if "council-policy.md" in line)
    assert "your organisation's document" in local
    assert "Your organisation's own document, not law" in md
    assert "fake-local" not in md


# Word

def test_the_word_document_opens_and_holds_the_same_text(conversation):
    text = _docx_text(_docx(conversation))
    assert "Exported on 3 March 2026 at 14:05" in text
    assert "Nation: Wales" in text and DISCLAIMER in text
    assert "How long can a reserved contract last?" in text
    assert "A contract reserved to a public service mutual may last up to five years [1]." in text
    assert "Note: PCR 2015 was replaced" in text and "Answered for: a Welsh council" in text
    assert "Instrument: Procurement Act 2023 · Jurisdiction: UK" in text
    assert S33 in text and REG77 in text  # the URL is the link's visible text
    assert HOSTILE in text  # the question as written, as text


def test_the_word_document_links_to_the_provision_urls_and_nothing_else(conversation):
    data = _docx(conversation)
    document = Document(io.BytesIO(data))
    links = [(h.address, h.text) for p in document.paragraphs for h in p.hyperlinks]
    assert sorted(links) == sorted([(REG77, REG77), (S33, S33)])
    rels = [r for r in document.part.rels.values() if r.reltype == RT.HYPERLINK]
    assert {r.target_ref for r in rels} == {S33, REG77}
    assert _external_targets(data) == {S33, REG77}


def test_markup_in_questions_and_passages_stays_inert_in_the_word_document(conversation):
    data = _docx(conversation)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = z.read("word/document.xml").decode("utf-8")
        names = z.namelist()
    assert "<img" not in body and "<script" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "instrText" not in body and "fldSimple" not in body  # no field can turn into a link
    assert not [n for n in names if n.endswith((".html", ".htm", ".bin"))]
    assert "evil.example" not in " ".join(_external_targets(data))


def test_a_local_document_is_labelled_and_not_linked_in_the_word_document(conversation):
    data = _docx(conversation)
    text = _docx_text(data)
    line = next(line for line in text.splitlines() if "council-policy.md" in line)
    assert "your organisation's document" in line
    assert "Your organisation's own document, not law" in text
    assert "fake-local" not in text and not any("fake-local" in t for t in _external_targets(data))


def test_text_xml_cannot_hold_is_dropped_rather_than_failing_the_export():
    answer = _answer("q\x00\x0b", "It is so\x1f [1].", [Citation(1, S33_PASSAGE)])
    text = _docx_text(_docx(conversation_doc([Turn("q\x00\x0b", answer)], generated=WHEN)))
    assert "It is so [1]." in text


# Shared

def test_without_given_context_the_answers_own_context_is_listed_once():
    doc = conversation_doc([Turn("a", FIRST), Turn("b", FIRST)], generated=WHEN)
    assert doc.context == ("Answered for: a Welsh council, procurement starting 3 March 2026 (Procurement Act 2023)",)


def test_a_date_alone_is_enough_and_names_the_file():
    doc = conversation_doc([Turn("a", FIRST)], generated=WHEN.date())
    assert "Exported on 3 March 2026\n" in to_markdown_file(doc)
    assert "Exported on 3 March 2026" in _docx_text(_docx(doc))
    assert file_name(doc, "docx") == "procguide-conversation-2026-03-03.docx"


def test_a_training_pack_exports_through_the_same_machinery():
    pack = ExportDoc(
        "Session pack: reserved contracts", WHEN, context=["Audience: ICB commissioners"],
        sections=[Section(
            "Scenario 1: the staff mutual",
            paragraphs=[f"A council's home care team wants to spin out. {IMG}"],
            turns=[Turn(FIRST.question, FIRST)],
            lists=[ItemList("Expected provisions", ["Procurement Act 2023, Section 33"]),
                   ItemList("Discussion points", ["Who counts as a mutual?", LINK])],
        )],
    )
    md = to_markdown_file(pack)
    assert "## Scenario 1: the staff mutual" in md and "**Expected provisions**" in md
    assert "- Who counts as a mutual?" in md and f"]({EVIL})" not in md and f"]({S33})" in md
    data = _docx(pack)
    text = _docx_text(data)
    assert "Scenario 1: the staff mutual" in text and "Discussion points" in text and LINK in text
    assert _external_targets(data) == {S33, REG77}


# Clipboard

def test_the_clipboard_text_holds_the_answer_its_sources_and_their_urls():
    text = answer_clipboard_text(FIRST)
    assert text.startswith("A contract reserved to a public service mutual may last up to five years [1].")
    assert "Sources" in text and "[1] Procurement Act 2023 — Section 33" in text
    assert S33 in text and REG77 in text
    assert "Note: PCR 2015 was replaced" in text and DISCLAIMER in text


def test_the_clipboard_text_labels_a_local_document_and_gives_no_link():
    text = answer_clipboard_text(SECOND)
    assert "council-policy.md" in text and "your organisation's document" in text
    assert "fake-local" not in text and "javascript" not in text
