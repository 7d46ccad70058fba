"""Source cards (ui/cards.py): one answer as one chat message, with each [n] linked to a card that
quotes the passage, marks the sentence cited, names the instrument, says when it was superseded
and links to the provision itself. Whatever came from a document, a model or a user stays text.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest

from procguide import provisions as prov
from procguide.answer.result import Answer, Citation
from procguide.passage import Passage
from procguide.ui.cards import CARD_CSS, answer_message, clipboard_text, suggestion_labels
from procguide.ui.export import answer_clipboard_text
from procguide.ui.strings import t

pytestmark = pytest.mark.fast

KEY = "3f9a1c2e"
S33_URL = "https://www.legislation.gov.uk/ukpga/2023/54/section/33"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
JS_LINK = "[link](javascript:alert(3))"
MD_IMG = "![img](http://evil.example/x.png)"
ENTITY = "&lt;b&gt;bold&lt;/b&gt;"
EMPHASIS = "*loud* __strong__ `code` $$x^2$$ %%%LATEX_BLOCK_0%%%"
HOSTILE = f"{IMG} {SCRIPT} {JS_LINK} {MD_IMG} {ENTITY} {EMPHASIS}"

S33_TEXT = (
    "(1) A contracting authority may reserve a public contract for public service mutuals. "
    "(2) The term of a reserved contract must not be more than five years. "
    "(3) A contract may not be reserved if the supplier was awarded one in the previous three years."
)
REG77_TEXT = (
    "Contracting authorities may reserve the right of organisations to participate in procedures. "
    "The maximum duration of the contract shall not be longer than 3 years."
)


def _passage(pid: str, text: str, *, provenance: str = "official", **extra: object) -> Passage:
    values: dict[str, object] = {"title": "Procurement Act 2023", "locator": "Section 33"} | extra
    return Passage(id=pid, text=text, doc_id=pid, provenance=provenance, **values)  # type: ignore[arg-type]


S33 = _passage("s33", S33_TEXT, provisions=("uk-pa-2023:s-33",), jurisdiction="UK", url=S33_URL)
REG77 = _passage("reg77", REG77_TEXT, title="Public Contracts Regulations 2015", locator="Regulation 77",
                 provisions=("uk-pcr-2015:reg-77",), jurisdiction="UK")
LOCAL = _passage("policy", "Our council may reserve contracts for ten years.", provenance="local",
                 title="Procurement Act 2023", locator="Section 33", source="/docs/council-policy.md",
                 url="https://www.legislation.gov.uk/fake-local", provisions=("uk-pa-2023:s-33",))


def _answer(text: str, citations: list[Citation], **kw: object) -> Answer:
    return Answer("q", text, citations, False, **kw)  # type: ignore[arg-type]


ANSWER = _answer(
    "The term of a reserved contract must not be more than five years [1].\n"
    "Under PCR 2015 the maximum duration of the contract was 3 years [2]. See also [7].",
    [Citation(1, S33), Citation(2, REG77)],
    notices=["PCR 2015 governs only procurements started before 24 February 2025."],
    context={"summary": "a council in Wales, procurement starting today"},
)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <a>, <mark> and element by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.links: list[tuple[str, str]] = []  # (href, visible text)
        self.marks: list[str] = []
        self._stack: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("br",):
            self._stack.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, attrs, text = self._stack.pop()
            if name == "a":
                self.links.append((attrs.get("href") or "", "".join(text)))
            elif name == "mark":
                self.marks.append("".join(text))
            if self._stack:
                self._stack[-1][2].extend(text)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1][2].append(data)


def _parse(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser


def _html(message: str) -> str:
    """The message as a CommonMark renderer with raw HTML allowed renders it (the strict case)."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").render(message)


def _section(message: str) -> str:
    return re.search(r'<section class="pg-sources">.*?</section>', message, re.DOTALL).group(0)


def _card(message: str, n: int) -> str:
    return re.search(rf'<article class="pg-card" id="pg-{KEY}-{n}" tabindex="-1">.*?</article>', message,
                     re.DOTALL).group(0)


# What a card shows

def test_a_provision_links_to_its_official_text_named_in_short():
    card = _parse(_card(answer_message(ANSWER, "en", KEY), 1))
    assert card.links == [(prov.official_url("uk-pa-2023:s-33"), "Procurement Act 2023, s. 33 (legislation.gov.uk)")]
    assert prov.official_url("uk-pa-2023:s-33") == S33_URL


def test_the_link_says_it_opens_in_a_new_tab():
    card = _card(answer_message(ANSWER, "en", KEY), 1)
    assert f'<a class="pg-link" href="{S33_URL}" title="(opens in a new tab)">' in card


def test_the_meta_line_names_locator_instrument_regime_and_jurisdiction():
    card = _card(answer_message(ANSWER, "en", KEY), 1)
    assert '<p class="pg-meta">Section 33 · Procurement Act 2023 · procurement rules · UK</p>' in card


def test_superseded_law_is_marked_on_its_card():
    message = answer_message(ANSWER, "en", KEY)
    assert ('<p class="pg-superseded"><strong>Superseded</strong>: Superseded by Procurement Act 2023 '
            "from 24 February 2025</p>") in _card(message, 2)
    assert "pg-superseded" not in _card(message, 1)


def test_a_passage_s_own_supersession_is_shown_too():
    passage = _passage("old", "Old text about reserved contracts.", superseded_by="uk-pa-2023:s-33",
                       superseded_from="2025-02-24", provisions=())
    message = answer_message(_answer("Old text about reserved contracts [1].", [Citation(1, passage)]), "en", KEY)
    assert "Superseded by Procurement Act 2023 from 24 February 2025" in message


def test_the_cited_sentence_is_marked_and_the_others_are_not():
    message = answer_message(ANSWER, "en", KEY)
    assert _parse(_card(message, 1)).marks == ["(2) The term of a reserved contract must not be more than five years."]
    assert _parse(_card(message, 2)).marks == ["The maximum duration of the contract shall not be longer than 3 years."]
    assert "<mark>(1)" not in message and "<mark>(3)" not in message


def test_nothing_is_marked_when_no_sentence_matches():
    answer = _answer("Ask your legal team about this [1].", [Citation(1, S33)])
    assert "<mark>" not in answer_message(answer, "en", KEY)


def test_a_long_passage_shows_the_cited_sentence_in_context_and_the_rest_on_request():
    filler = [f"Paragraph {i} deals with an unrelated matter of notices and records kept." for i in range(20)]
    text = " ".join([*filler[:10], "The term of a reserved contract must not be more than five years.", *filler[10:]])
    answer = _answer("The term of a reserved contract must not be more than five years [1].",
                     [Citation(1, _passage("long", text, provisions=("uk-pa-2023:s-33",)))])
    card = _card(answer_message(answer, "en", KEY), 1)
    excerpt, _, whole = card.partition("<details>")
    assert "<mark>The term of a reserved contract must not be more than five years.</mark>" in excerpt
    assert excerpt.count("Paragraph") == 2 and "Paragraph 9 " in excerpt and "Paragraph 10 " in excerpt
    assert "… Paragraph 9" in excerpt and "records kept. …</blockquote>" in excerpt
    assert whole.startswith("<summary>Show the whole passage</summary>") and whole.count("Paragraph") == 20


def test_citation_forms_for_every_kind_of_part():
    ids = ("uk-pa-2023:sch-2(3)", "eu-dir-2014-24:recital-118", "eu-dir-2014-24:annex-xiv",
           "eu-dir-2014-24:art-77(2)", "uk-pcr-2015:reg-77", "uk-pa-2023:s-33")
    card = _parse(_card(answer_message(_answer("x [1].", [Citation(1, _passage("p", "x", provisions=ids))]), "en", KEY), 1))
    assert [text for _, text in card.links] == [  # at most four
        "Procurement Act 2023, sch. 2 para. 3 (legislation.gov.uk)",
        "Directive 2014/24/EU, recital 118 (eur-lex.europa.eu)",
        "Directive 2014/24/EU, annex XIV (eur-lex.europa.eu)",
        "Directive 2014/24/EU, art. 77(2) (eur-lex.europa.eu)",
    ]


def test_links_are_deduplicated_by_url():
    ids = ("uk-pcr-2015:reg-77", "uk-pcr-2015:reg-77(1)", "uk-pcr-2015:reg-77(2)")
    card = _parse(_card(answer_message(_answer("x [1].", [Citation(1, _passage("p", "x", provisions=ids))]), "en", KEY), 1))
    assert card.links == [("https://www.legislation.gov.uk/uksi/2015/102/regulation/77",
                           "PCR 2015, reg. 77 (legislation.gov.uk)")]


def test_without_a_provision_url_the_passage_s_own_url_is_linked():
    report = _passage("r", "x", title="PPIW report", locator="Chapter 2", url="http://ppiw.org.uk/ppiw-report")
    card = _parse(_card(answer_message(_answer("x [1].", [Citation(1, report)]), "en", KEY), 1))
    assert card.links == [("http://ppiw.org.uk/ppiw-report", "PPIW report (ppiw.org.uk)")]


# The answer text and its markers

def test_each_marker_links_to_its_card_and_the_card_has_that_id():
    message = answer_message(ANSWER, "en", KEY)
    assert f"five years [[1]](#pg-{KEY}-1)." in message and f"3 years [[2]](#pg-{KEY}-2)." in message
    ids = {attrs.get("id") for _, attrs in _parse(_html(message)).tags}
    assert {f"pg-{KEY}-1", f"pg-{KEY}-2"} <= ids
    hrefs = [href for href, _ in _parse(_html(message)).links]
    assert f"#pg-{KEY}-1" in hrefs and f"#pg-{KEY}-2" in hrefs


def test_a_marker_that_is_not_a_citation_is_not_linked():
    message = answer_message(ANSWER, "en", KEY)
    assert "See also \\[7\\]." in message and "#pg-" + KEY + "-7" not in message
    assert "pg-" + KEY + "-7" not in _html(message)


def test_paragraphs_context_and_notes_are_kept_in_order():
    message = answer_message(ANSWER, "en", KEY)
    assert message.index("five years") < message.index("*Answered for") < message.index("> **Note")
    assert message.index("> **Note") < message.index("<section") < message.index('<pre class="pg-clip">')
    assert "five years [[1]](#pg-3f9a1c2e-1).\n\nUnder PCR 2015" in message
    html = _html(message)
    assert ("<p><em>Answered for: a council in Wales, procurement starting today. If that is not your "
            'situation, say so or change the nation or start date. <a href="#pg-context">change</a></em></p>') in html
    assert "<blockquote>\n<p><strong>Note:</strong> PCR 2015 governs only procurements" in html


def test_the_sources_are_one_html_block():
    section = _section(answer_message(ANSWER, "en", KEY))
    assert "\n\n" not in section and not re.search(r"\n\s*\n", section)
    html = _html(answer_message(ANSWER, "en", KEY))
    assert '<section class="pg-sources"><h3>Sources</h3>' in html and "<p><article" not in html


# Language

def test_welsh_chrome_comes_from_the_strings():
    message = answer_message(ANSWER, "cy", KEY)
    assert "<h3>Ffynonellau</h3>" in message and "> **Nodyn\\:**" in message
    assert "*Atebwyd ar gyfer\\:" in message and "[newid](#pg-context)" in message
    assert "Section 33 · Deddf Caffael 2023 · rheolau caffael · DU" in message
    assert "Disodlwyd gan Deddf Caffael 2023 o 24 Chwefror 2025 ymlaen" in message
    assert 'title="(yn agor mewn tab newydd)">Deddf Caffael 2023, adran 33 (legislation.gov.uk)</a>' in message
    assert "Sources" not in message and "Superseded" not in message


# Local documents

def test_a_local_document_has_no_link_says_it_is_not_law_and_names_its_file_first():
    answer = _answer("Our council may reserve contracts for ten years [1].", [Citation(1, LOCAL)])
    card = unescape(_card(answer_message(answer, "en", KEY), 1))
    assert "<a " not in card and "fake-local" not in card and "legislation.gov.uk" not in card
    assert "<h4>[1] council-policy.md: Procurement Act 2023</h4>" in card
    assert f'<p class="pg-local">{t("answer.not_law", "en")}</p>' in card
    assert "your organisation's document" in card and "procurement rules" not in card
    text = clipboard_text(answer, "en")
    assert "[1] council-policy.md: Procurement Act 2023 — Section 33 (your organisation's document)" in text
    assert "fake-local" not in text


# Markup from documents, models and users stays text

HOSTILE_PASSAGE = _passage(
    "hostile", f"The term is five years. {HOSTILE}\n\nSecond paragraph {IMG}.", title=f"{JS_LINK} {IMG}",
    locator=SCRIPT, url="javascript:alert(4)", provisions=("uk-pa-2023:s-33", "<img>", "javascript:x"),
)
HOSTILE_LOCAL = _passage("local", HOSTILE, provenance="local", title=MD_IMG, locator=ENTITY,
                         source=f"/docs/{IMG}.md")
HOSTILE_ANSWER = _answer(
    f"The term is five years [1]. {HOSTILE} [2] ![1] [1](javascript:x) [3]\n    {IMG}\n1. {MD_IMG}",
    [Citation(1, HOSTILE_PASSAGE), Citation(2, HOSTILE_LOCAL)],
    notices=[HOSTILE], context={"summary": HOSTILE}, suggestions=[HOSTILE, "a", "b", "c", "d"],
)
ALLOWED = {"p", "a", "em", "strong", "blockquote", "section", "article", "h3", "h4", "mark", "details",
           "summary", "ul", "li", "pre", "span", "br"}


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_markup_in_every_input_stays_inert(lang):
    message = answer_message(HOSTILE_ANSWER, lang, KEY)
    for raw in ("<img", "<script", "javascript:", "](http", "$$", "%%%"):
        assert raw not in message, raw
    html = _html(message)
    tags = _parse(html).tags
    assert {tag for tag, _ in tags} <= ALLOWED
    for tag, attrs in tags:
        assert set(attrs) <= {"class", "id", "href", "title", "tabindex"}, (tag, attrs)
    hrefs = [attrs["href"] or "" for tag, attrs in tags if tag == "a"]
    assert hrefs and all(h == "#pg-context" or h.startswith((f"#pg-{KEY}-", "https://")) for h in hrefs)
    assert set(hrefs) == {f"#pg-{KEY}-1", f"#pg-{KEY}-2", "#pg-context", S33_URL}
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;" in html


def test_hostile_markers_entities_and_emphasis_are_shown_as_written():
    message = answer_message(HOSTILE_ANSWER, "en", KEY)
    assert f"\\![[1]](#pg-{KEY}-1)" in message  # a marker after '!' is no image
    assert "\\[1\\]&#40;javascript\\:x)" in message  # '[1](' is no marker and no link
    assert "\\[3\\]" in message  # not a citation
    html = _html(message)
    assert "<em>loud</em>" not in html and "<code>" not in html and "<strong>strong</strong>" not in html
    assert "&amp;lt;b&amp;gt;" not in _section(message)  # an entity reads as its character, escaped once
    assert "&lt;b&gt;bold&lt;/b&gt;" in _section(message)


def test_hostile_passage_text_cannot_end_the_html_block():
    section = _section(answer_message(HOSTILE_ANSWER, "en", KEY))
    assert not re.search(r"\n\s*\n", section)
    assert "<br><br>Second paragraph" in section
    assert "<h4>[2] &lt;img src=x onerror=alert(1)&gt;.md&#58; ![img]&#40;http&#58;//evil.example/x.png)</h4>" in section


def test_suggestions_are_plain_text_for_buttons_and_not_in_the_message():
    labels = suggestion_labels(HOSTILE_ANSWER)
    assert labels == [" ".join(HOSTILE.split()), "a", "b", "c"]
    assert "(http://evil.example/x.png)" not in answer_message(_answer("No.", [], suggestions=[MD_IMG]), "en", KEY)


# The clipboard

def test_the_clipboard_text_is_in_the_message_hidden_and_complete():
    message = answer_message(ANSWER, "en", KEY)
    text = clipboard_text(ANSWER, "en")
    assert text.startswith("The term of a reserved contract must not be more than five years [1].\nUnder PCR")
    assert "Answered for: a council in Wales, procurement starting today." in text
    assert "Note: PCR 2015 governs only procurements" in text
    assert "Sources\n[1] Procurement Act 2023 — Section 33\n    Procurement Act 2023, s. 33 (legislation.gov.uk): " + S33_URL in text
    assert "    Superseded by Procurement Act 2023 from 24 February 2025" in text
    assert text.endswith(t("app.disclaimer", "en"))
    clip = re.search(r'<pre class="pg-clip">(.*)</pre>', message).group(1)
    assert "\n" not in clip and unescape(clip) == text
    assert answer_clipboard_text(ANSWER) == text
    assert clipboard_text(ANSWER, "cy").startswith(ANSWER.text) and "Ffynonellau" in clipboard_text(ANSWER, "cy")


def test_a_decline_has_no_sources_block():
    message = answer_message(_answer("I can't answer that.", [], suggestions=["reserved contracts"]), "en", KEY)
    assert "pg-sources" not in message and "reserved contracts" not in message.split("<pre")[0]


# The style sheet

def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_every_text_colour_meets_4_5_to_1_on_white():
    colours = re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", CARD_CSS)
    assert {"#505a5f", "#0b0c0c", "#1d70b8"} <= set(colours)
    for colour in colours:
        assert 1.05 / (_luminance(colour) + 0.05) >= 4.5, colour


def test_the_style_sheet_hides_the_clipboard_and_keeps_cards_narrow():
    assert ".pg-clip { display: none !important; }" in CARD_CSS
    assert "background: #ffdd00; color: #0b0c0c" in CARD_CSS and "#d4351c" in CARD_CSS
    assert ".pg-card:target, .pg-card:focus { outline:" in CARD_CSS and "overflow-wrap: anywhere" in CARD_CSS
