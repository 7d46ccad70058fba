"""Split passage text into sentences that can be quoted on their own."""

from __future__ import annotations

import re

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = (
    "art", "arts", "reg", "regs", "s", "ss", "sch", "para", "paras", "no", "nos", "e.g", "i.e",
    "etc", "cf", "p", "pp", "ch", "vol", "op", "cit", "approx", "mr", "mrs", "ms", "dr", "st",
    "c", "v", "vs", "al",
)
_ABBREV_RE = re.compile(
    r"\b(" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")\.\s+(?=[\w(])", re.IGNORECASE
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'‘“])|(?<=[;:])\s*\n+|\n{2,}|\n(?=\s*[-*•]\s)|\n(?=\s*\([a-z0-9]{1,3}\)\s)")
_PLACEHOLDER = "\u0000"
_LEADING_MARK = re.compile(r"^\s*(?:[-*•]\s+|\(\d{1,3}[a-z]?\)\s+|\d{1,2}\.\s+)")


def split_sentences(text: str) -> list[str]:
    protected = _ABBREV_RE.sub(lambda m: m.group(1) + "." + _PLACEHOLDER, text)
    pieces = _BOUNDARY.split(protected)
    out = []
    for piece in pieces:
        piece = piece.replace(_PLACEHOLDER, " ")
        piece = re.sub(r"\s+", " ", _LEADING_MARK.sub("", piece)).strip()
        if piece:
            out.append(piece)
    return out


# Shorter pieces ("See also:", a lone heading) are not worth quoting on their own.
MIN_SENTENCE_CHARS = 30


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage that an answer may quote: split once at ingest (their vectors
    are stored then) and the same way when answering."""
    return [s for s in split_sentences(text) if len(s) >= MIN_SENTENCE_CHARS]


# A heading line in an answer ("For procurements started before 24 February 2025:") introduces
# the sentences under it; it is not a claim, so it carries no citation and is not counted as one.
_HEADING = re.compile(r"^[^\[\]\n]{3,160}:$")


def is_heading(line: str) -> bool:
    return bool(_HEADING.match(line.strip()))


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer, headings left out."""
    return [s for para in text.split("\n") if para.strip() and not is_heading(para)
            for s in split_sentences(para)]
