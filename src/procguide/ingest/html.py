"""HTML to text blocks: drop scripts, styles and page chrome; keep headings, paragraphs, list items
and table rows in reading order. Also strips tags from text that should hold none.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Tag

from procguide.ingest.document import Block

_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
         "form", "button", "input", "select", "textarea", "nav", "header", "footer", "aside", "head")
# Running heads and signature blocks on EUR-Lex pages.
_NOISE_CLASSES = re.compile(r"^(oj-hd-.*|oj-final|oj-signatory|oj-doc-sep)$")
_CHROME = re.compile(r"(^|[-_ ])(nav|navigation|menu|breadcrumb|cookie|banner|skip|footer|header|sidebar|share|toolbar|print)", re.IGNORECASE)
_BLOCKS = ("p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "blockquote", "pre",
           "caption", "figcaption", "div", "section", "article", "td", "th")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
# EUR-Lex marks Article headings with classes, not <h> tags.
_HEADING_CLASSES = re.compile(
    r"^(ti-art|sti-art|oj-ti-art|oj-sti-art|title-article-norm|stitle-article-norm|"
    r"ti-section-\d|oj-ti-section-\d|title-division-\d|doc-ti|oj-doc-ti|title-annex-\d|oj-ti-grseq-1)$"
)


def html_to_blocks(html: str) -> tuple[str | None, list[Block]]:
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(True):
        if not tag.decomposed and _is_chrome(tag):
            tag.decompose()
    body = _main_content(soup)
    blocks: list[Block] = []
    for tag in body.find_all(_BLOCKS):
        if not _is_leaf_block(tag):
            continue
        text = _text(tag)
        if not text:
            continue
        level = _HEADINGS.get(tag.name)
        if level is None and any(_HEADING_CLASSES.match(c) for c in tag.get("class") or []):
            level = 3
        blocks.append(Block(text, level=level))
    if title is None:
        title = next((b.text for b in blocks if b.level == 1), None)
    return title, blocks


# Where publishers keep the text itself: legislation.gov.uk, EUR-Lex, then generic landmarks.
_MAIN_SELECTORS = ("#viewLegContents", "#docHtml", "#document1", ".eli-container", "#text",
                   "main", "[role=main]", "article")


def _main_content(soup: BeautifulSoup) -> Tag:
    for selector in _MAIN_SELECTORS:
        found = soup.select_one(selector)
        if found is not None and found.get_text(strip=True):
            return found
    return soup.body or soup


def _is_chrome(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if any(_NOISE_CLASSES.match(c) for c in tag.get("class") or []) or tag.get("id") == "fnp_1":
        return True
    if tag.get("role") in ("navigation", "banner", "contentinfo", "search"):
        return True
    ident = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
    return bool(ident) and bool(_CHROME.search(ident)) and tag.name not in ("body", "html", "main")


def _is_leaf_block(tag: Tag) -> bool:
    """A block that holds no other block (a table row counts as one block, cells and all)."""
    if tag.name in ("td", "th") or tag.find_parent("tr") is not None and tag.name != "tr":
        return False
    if tag.name == "tr":
        return True
    return tag.find(_BLOCKS) is None


def _text(tag: Tag) -> str:
    text = tag.get_text(" ", strip=True)
    text = re.sub(r"\s+", " ", text).strip()
    # "1 . Member States" -> "1. Member States" after joining inline spans with spaces.
    return re.sub(r"\s+([.,;:)])", r"\1", re.sub(r"\(\s+", "(", text))


def strip_tags(text: str) -> str:
    """Remove HTML markup (and the content of scripts and styles) from text meant to be plain."""
    if "<" not in text:
        return text
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(_DROP[:9]):
        tag.decompose()
    return soup.get_text()
