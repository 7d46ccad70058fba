"""The check stage for text a model wrote: nothing reaches the user until it has passed.

The model's reply arrives in pieces. `SentenceGate.feed` collects them and, each time a sentence is
complete, checks it:

- its citation markers are normalised ("[1-2]", "[1, 2]", "[source: 1]", "【1】" become "[1][2]"),
  and markers pointing to no passage sent to the model are dropped and recorded;
- a sentence left with no marker is withheld ("uncited");
- a cited sentence is checked against its cited passages judged together (the support checker the
  evals use); one they do not support is withheld ("unsupported");
- a sentence that only copies a passage's heading is withheld ("heading");
- a sentence that passes is renumbered (sources numbered by first use) and released.

"NOT_COVERED" anywhere, an empty reply, or a reply that opens with a refusal makes the whole answer
a decline. After `max_sentences` released sentences the gate asks to stop. Whatever it withholds is
kept, with the reason, for the answer's record and a debug view; it is never shown as guidance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from procguide.answer.citations import MARKER, markers, strip_markers
from procguide.answer.result import Citation, Withheld
from procguide.answer.sentences import split_sentences
from procguide.answer.support import SupportChecker
from procguide.passage import Passage

NOT_COVERED = "NOT_COVERED"
_NOT_COVERED = re.compile(r"NOT[_ ]COVERED", re.IGNORECASE)
# A reply that opens by declining ("I'm sorry, but I can't...", "As an AI...") is not an answer.
_REFUSAL = re.compile(
    r"^\W*(?:I['’]?m sorry|I am sorry|sorry,|I (?:cannot|can['’]?t|am unable to|['’]m unable to|"
    r"won['’]?t|do not have|don['’]?t have)|As an AI|Unfortunately,? I)",
    re.IGNORECASE,
)
# Marker formats models write instead of "[n]": ranges, lists, labels, full-width brackets,
# footnote carets. Each becomes "[n]" markers; any other bracketed number is left as text and, if
# nothing else cites the sentence, it is withheld as uncited.
_LOOSE_MARKER = re.compile(
    r"[\[［【]\s*(?:\^|(?:sources?|passages?|refs?|references?|doc(?:ument)?s?)\s*[:#]?\s*)?"
    r"(\d{1,3}(?:\s*(?:[,，;]|and|[-–—]|to)\s*\d{1,3})*)\s*[\]］】]",
    re.IGNORECASE,
)
_LABELLED_PAREN = re.compile(
    r"\(\s*(?:sources?|passages?)\s*[:#]?\s*(\d{1,3}(?:\s*(?:[,;]|and|[-–])\s*\d{1,3})*)\s*\)",
    re.IGNORECASE,
)
_RANGE = re.compile(r"(\d{1,3})\s*(?:[-–—]|to)\s*(\d{1,3})")
# A marker written after the full stop ("... three years. [1]") belongs to the sentence before it.
_TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d{1,3}\])+)")
_MAX_RANGE = 10
# Withheld for a reason other than the sources not supporting it: cut at the sentence limit, or a
# copy of a passage's heading ("[1] Title — locator") that states nothing.
NOT_A_FAILURE = frozenset({"over-limit", "heading"})


def _expand(numbers: str) -> str:
    out: list[int] = []
    for part in re.split(r"\s*(?:[,，;]|and)\s*", numbers):
        match = _RANGE.fullmatch(part.strip())
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            if a <= b and b - a < _MAX_RANGE:
                out.extend(range(a, b + 1))
        elif part.strip().isdigit():
            out.append(int(part))
    return "".join(f"[{n}]" for n in dict.fromkeys(out))


def normalise_markers(text: str) -> str:
    """Every citation format the gate accepts, as "[n]" markers placed before the full stop."""
    text = _LOOSE_MARKER.sub(lambda m: _expand(m.group(1)), text)
    text = _LABELLED_PAREN.sub(lambda m: _expand(m.group(1)), text)
    return _TRAILING_MARKERS.sub(lambda m: m.group(2).rstrip() + m.group(1), text)


@dataclass
class SentenceGate:
    checker: SupportChecker
    sources: Sequence[Passage]
    max_sentences: int = 6
    text: str = ""  # everything the model wrote, as received
    shown: list[str] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)
    dropped_markers: list[int] = field(default_factory=list)
    declined: str = ""  # not-covered, refusal or empty, once the reply is read as a decline
    order: dict[int, int] = field(default_factory=dict)  # passage number -> number shown
    _seen: int = 0  # sentences of `text` already judged

    @property
    def stopped(self) -> bool:
        """Nothing more the model writes can be shown: stop asking it."""
        return bool(self.declined) or len(self.shown) >= self.max_sentences

    def feed(self, piece: str) -> list[str]:
        """Take the next piece of the reply; return the sentences released by it."""
        if self.stopped:
            return []
        self.text += piece
        return self._judge(final=False)

    def close(self) -> list[str]:
        """The reply is complete: judge what is left, and read an empty reply as a decline."""
        released = [] if self.stopped else self._judge(final=True)
        if not self.declined and not self.shown and not self.withheld and not self.text.strip():
            self.declined = "empty"
        return released

    @property
    def citations(self) -> list[Citation]:
        return [Citation(new, self.sources[old - 1]) for old, new in sorted(self.order.items(), key=lambda x: x[1])]

    def _judge(self, final: bool) -> list[str]:
        if _NOT_COVERED.search(self.text):
            self.declined = "not-covered"
            return []
        sentences = [s for para in normalise_markers(self.text).split("\n") for s in split_sentences(para)]
        complete = sentences if final else sentences[:-1]
        released = []
        for sentence in complete[self._seen:]:
            self._seen += 1
            if not self.shown and not self.withheld and _REFUSAL.match(sentence) and not markers(sentence):
                self.declined = "refusal"
                return []
            if len(self.shown) >= self.max_sentences:
                self.withheld.append(Withheld(sentence, "over-limit", tuple(markers(sentence))))
                continue
            checked = self._check(sentence)
            if checked:
                self.shown.append(checked)
                released.append(checked)
        return released

    def _check(self, sentence: str) -> str | None:
        cited = markers(sentence)
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(self.sources)]
        self.dropped_markers += [n for n in cited if not 1 <= n <= len(self.sources)]
        if not valid:
            self.withheld.append(Withheld(sentence, "invalid-marker" if cited else "uncited", tuple(cited)))
            return None
        claim = MARKER.sub("", sentence)
        claim = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", claim)).strip()
        passages = [self.sources[n - 1] for n in valid]
        if any(_is_heading(claim, p) for p in passages):
            self.withheld.append(Withheld(sentence, "heading", tuple(cited)))
            return None
        joined = "\n\n".join(strip_markers(p.text) for p in passages)
        provisions = [pid for p in passages for pid in p.provisions]
        if not self.checker.supports(claim, joined, provisions):
            self.withheld.append(Withheld(sentence, "unsupported", tuple(cited)))
            return None
        return self._renumber(sentence)

    def _renumber(self, sentence: str) -> str:
        def replace(match: re.Match[str]) -> str:
            kept = []
            for raw in match.group(1).split(","):
                n = int(raw)
                if 1 <= n <= len(self.sources):
                    kept.append(self.order.setdefault(n, len(self.order) + 1))
            return "".join(f"[{n}]" for n in sorted(set(kept)))

        text = MARKER.sub(replace, sentence)
        return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r" {2,}", " ", text)).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _is_heading(claim: str, passage: Passage) -> bool:
    """The claim is the passage's heading as the prompt showed it (title, locator), or nearly: all
    but a word or so of it is heading words ("... for NHS health care services ..."). A statement
    adds words of its own."""
    said = _words(claim)
    heading = set(_words(f"{passage.title} {passage.locator}"))
    found = sum(w in heading for w in said)
    return found >= 3 and found >= len(said) - 1
