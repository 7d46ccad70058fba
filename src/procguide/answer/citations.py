"""Citation markers in answer text: find them, check each points to a listed source, and number
the sources in the order the answer first cites them. Used for every answerer's output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from procguide.answer.result import Citation
from procguide.passage import Passage

MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# A marker-like run inside quoted text ("[1]", "[ 12 ]", "［1］", "[1, 2]"): removed before the
# compose stage adds its own, so a document's footnote cannot pose as a citation.
QUOTED_MARKER = re.compile(r"\s*[\[［]\s*\d{1,3}(?:\s*[,，]\s*\d{1,3})*\s*[\]］]")


def strip_markers(text: str) -> str:
    """Quoted text without marker-like runs: 'It lasts three years [1].' -> 'It lasts three years.'"""
    return QUOTED_MARKER.sub("", text)


def markers(text: str) -> list[int]:
    """Every marker number in order, with "[1, 2]" read as 1 and 2."""
    return [int(n) for m in MARKER.finditer(text) for n in m.group(1).split(",")]


def renumber(text: str, sources: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """Map markers that point into `sources` (1-based) to citations numbered by first use.

    Markers that point nowhere are dropped from the text rather than shown as broken links.
    """
    order: dict[int, int] = {}

    def replace(match: re.Match[str]) -> str:
        kept = []
        for raw in match.group(1).split(","):
            n = int(raw)
            if 1 <= n <= len(sources):
                order.setdefault(n, len(order) + 1)
                kept.append(order[n])
        unique = sorted(set(kept))
        return "".join(f"[{n}]" for n in unique)

    new_text = MARKER.sub(replace, text)
    new_text = re.sub(r"\s+([.,;:])", r"\1", re.sub(r" {2,}", " ", new_text)).strip()
    citations = [Citation(new, sources[old - 1]) for old, new in sorted(order.items(), key=lambda x: x[1])]
    return new_text, citations


def invalid_markers(text: str, citations: Sequence[Citation]) -> list[int]:
    listed = {c.n for c in citations}
    return [n for n in markers(text) if n not in listed]
