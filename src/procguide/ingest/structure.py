"""Recognise the structure of legal text: Article / Regulation / Section / Recital / Annex headings,
Part and Chapter headings, and numbered paragraphs, in the forms EUR-Lex and legislation.gov.uk use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MAX_HEADING = 160
_SEP = r"(?:\s*[—–:.-]\s*|\s+)"

_NAMED = {
    "art": re.compile(rf"^Article\s+(\d{{1,3}}[a-z]?)\b(?:{_SEP}(.*))?$"),
    "reg": re.compile(rf"^Regulation\s+(\d{{1,3}}[A-Z]?)\b(?![/(])(?:{_SEP}(.*))?$"),
    "s": re.compile(rf"^Section\s+(\d{{1,3}}[A-Z]?)\b(?:{_SEP}(.*))?$"),
    "recital": re.compile(rf"^Recital\s+\(?(\d{{1,3}})\)?(?:{_SEP}(.*))?$"),
    "annex": re.compile(rf"^(?:ANNEX|Annex)\s+([IVXLC]{{1,6}})\b(?:{_SEP}(.*))?$"),
    "sch": re.compile(rf"^(?:SCHEDULE|Schedule)\s+(\d{{1,2}})\b(?:{_SEP}(.*))?$"),
}
# legislation.gov.uk style: "77.—(1) A contracting authority may ...". In a text that has no
# Articles (whose paragraphs are "1. ..."), "74. Public contracts ..." opens a regulation too.
_INLINE_UNIT = re.compile(r"^(\d{1,3}[A-Z]?)\.\s*[—–]\s*(?:\((\d{1,2}[A-Z]?)\)\s*)?(.*)$", re.DOTALL)
_INLINE_UNIT_NO_DASH = re.compile(r"^(\d{1,3}[A-Z]?)\.\s+(?:\((\d{1,2}[A-Z]?)\)\s*)?(\S.*)$", re.DOTALL)
# Headings of an Act's sections on legislation.gov.uk: "33 Reserving contracts to public service mutuals".
_NUMBERED_TITLE = re.compile(r"^(\d{1,3}[A-Z]?)\.?\s+([A-Z][^.]*)$")
_STRUCTURAL = re.compile(r"^(?:PART|CHAPTER|TITLE|Part|Chapter|Title)\s+(?:[IVXLC]{1,6}|\d{1,2}[A-Z]?)\b")
_PARAGRAPH = (
    re.compile(r"^(\d{1,2}[a-z]?)\.\s+(\S.*)$", re.DOTALL),  # EUR-Lex: "2.   Member States may ..."
    re.compile(r"^\((\d{1,2}[A-Z]?)\)\s*(\S.*)$", re.DOTALL),  # UK: "(2) A contracting authority ..."
)
_RECITAL_INLINE = re.compile(r"^\((\d{1,3})\)\s+(\S.*)$", re.DOTALL)


@dataclass(frozen=True)
class Heading:
    kind: str | None  # "art", "reg", ...; None for Part/Chapter headings and untitled headings
    number: str = ""
    title: str = ""
    paragraph: str | None = None  # "77.—(1) ..." opens paragraph (1) on the heading line
    rest: str = ""  # text that follows the heading on the same line


def match_heading(
    text: str, kinds: tuple[str, ...], explicit: bool, in_unit: bool
) -> Heading | None:
    """The legal heading `text` is, if any. `explicit`: the source marked it as a heading."""
    line = text.strip()
    inline = _INLINE_UNIT.match(line)
    if inline is None and "art" not in kinds:
        inline = _INLINE_UNIT_NO_DASH.match(line)
    if inline:
        kind = "reg" if "reg" in kinds else "s" if "s" in kinds else None
        if kind:
            return Heading(kind, inline.group(1), paragraph=inline.group(2), rest=inline.group(3).strip())
    if len(line) <= _MAX_HEADING:
        for kind, pattern in _NAMED.items():
            if kind not in kinds:
                continue
            m = pattern.match(line)
            if m:
                return Heading(kind, m.group(1), title=(m.group(2) or "").strip())
        if _STRUCTURAL.match(line):
            return Heading(None, title=line)
        if explicit:
            numbered = _NUMBERED_TITLE.match(line)
            kind = "s" if "s" in kinds else "reg" if "reg" in kinds else None
            if numbered and kind:
                return Heading(kind, numbered.group(1), title=numbered.group(2).strip())
    if not in_unit and "recital" in kinds:
        recital = _RECITAL_INLINE.match(line)
        if recital:
            return Heading("recital", recital.group(1), rest=recital.group(2).strip())
    return None


def match_paragraph(text: str) -> tuple[str, str] | None:
    """('2', 'Member States may ...') for a numbered paragraph, else None."""
    for pattern in _PARAGRAPH:
        m = pattern.match(text.strip())
        if m:
            return m.group(1), m.group(2)
    return None


def starts_unit(line: str) -> bool:
    """Whether a line of PDF or plain text begins a new heading or paragraph (for joining wrapped lines)."""
    line = line.strip()
    if _INLINE_UNIT.match(line) or _STRUCTURAL.match(line) or match_paragraph(line):
        return True
    if len(line) <= _MAX_HEADING and any(p.match(line) for p in _NAMED.values()):
        return True
    return bool(re.match(r"^\([a-z]{1,3}\)\s", line))
