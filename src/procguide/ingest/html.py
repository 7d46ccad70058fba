"""HTML to text blocks: drop scripts, styles and page chrome; keep headings, paragraphs, list items
and table rows in reading order. Also strips tags from text that should hold none.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, CData, Comment, NavigableString, Tag

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
    _drop_chrome(soup)
    blocks = _blocks(_main_content(soup))
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


def _drop_chrome(soup: BeautifulSoup) -> None:
    """Remove navigation, banners and running heads, top down without looking inside what is
    removed. (Asking each tag `.decomposed` searched its whole subtree: quadratic when nested.)"""
    stack: list[Tag] = [soup]
    while stack:
        for child in list(stack.pop().contents):
            if isinstance(child, Tag):
                if _is_chrome(child):
                    child.decompose()
                else:
                    stack.append(child)


def _is_chrome(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if any(_NOISE_CLASSES.match(c) for c in tag.get("class") or []) or tag.get("id") == "fnp_1":
        return True
    if tag.get("role") in ("navigation", "banner", "contentinfo", "search"):
        return True
    ident = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
    return bool(ident) and bool(_CHROME.search(ident)) and tag.name not in ("body", "html", "main")


def _blocks(body: Tag) -> list[Block]:
    """The text of `body` as blocks, in one pass over the tree (no recursion, so no depth limit,
    and linear in its size however deeply it nests). Each block element's own text becomes a
    block, split where a nested block element interrupts it: `<li>A<ul><li>B</li></ul>C</li>`
    gives A, B, C. A table row is one block, cells and all."""
    blocks: list[Block] = []
    # Open block elements, innermost last: (heading level, the strings seen since the last flush).
    open_blocks: list[tuple[int | None, list[str]]] = [(None, [])]

    def flush() -> None:
        level, strings = open_blocks[-1]
        text = _clean_text(" ".join(strings))
        strings.clear()
        if text:
            blocks.append(Block(text, level=level))

    end_of_block = object()  # pushed under a block's children: the block closes here
    stack: list[object] = list(reversed(body.contents))
    while stack:
        node = stack.pop()
        if node is end_of_block:
            flush()
            open_blocks.pop()
        elif isinstance(node, Tag):
            if node.name not in _BLOCKS:
                stack.extend(reversed(node.contents))
            elif node.name == "tr":
                flush()
                text = _clean_text(node.get_text(" ", strip=True))
                if text:
                    blocks.append(Block(text, level=_level(node)))
            else:
                flush()
                open_blocks.append((_level(node), []))
                stack.append(end_of_block)
                stack.extend(reversed(node.contents))
        elif type(node) in (NavigableString, CData):
            text = str(node).strip()
            if text:
                open_blocks[-1][1].append(text)
    flush()
    return blocks


def _level(tag: Tag) -> int | None:
    level = _HEADINGS.get(tag.name)
    if level is None and any(_HEADING_CLASSES.match(c) for c in tag.get("class") or []):
        level = 3
    return level


def _clean_text(text: str) -> str:
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
