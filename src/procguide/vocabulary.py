"""The domain vocabulary (knowledge/vocabulary.yaml): the words commissioners use, in English and
Welsh, mapped to concepts, provision ids, kinds of body, services, places and question types.
Read by the context and rewrite stages; shown by `procguide glossary`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from procguide import provisions as prov
from procguide.welsh import phrase_pattern

KINDS = ("topic", "organisation", "body", "service", "place", "out-of-scope", "cue")
QTYPES = ("duration", "amount", "date", "permission", "definition", "who", "list", "difference", "status")


class VocabularyError(ValueError):
    """The vocabulary file cannot be used; the message says where and what to fix."""


@dataclass(frozen=True)
class Concept:
    id: str
    kind: str
    label: str
    terms: tuple[str, ...] = ()
    acronyms: tuple[str, ...] = ()
    cy: tuple[str, ...] = ()
    search: str = ""
    provisions: tuple[str, ...] = ()
    ask: str = ""
    body: str = ""
    sector: str = ""
    nation: str = ""
    reason: str = ""
    qtype: str = ""
    money: bool = False  # a topic with a threshold in money (what a follow-up giving only a sum asks about)

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.split(":", 1)[0] for p in self.provisions))


@dataclass(frozen=True)
class Match:
    concept: Concept
    start: int
    end: int
    text: str
    welsh: bool = False


def _english_pattern(term: str) -> str:
    """'ring-fence' matches 'ring fence', 'ringfence' and 'ring-fences'."""
    words = [w for w in re.split(r"[\s\-]+", term.strip().lower()) if w]
    body = r"[\s\-]?".join(re.escape(w) for w in words)
    return rf"(?<![\w]){body}s?(?![\w])"


def _needle(term: str, welsh: bool) -> str:
    """A piece of the term that every form of it contains, in lower case: a cheap test that lets
    most patterns be skipped. English: the first word's first four letters. Welsh: letters 3-6 of
    its longest word, which a mutation leaves in place ('contract' -> 'ntra', which 'gontract'
    and 'nghontract' hold too)."""
    words = re.split(r"[\s\-]+", term.strip().lower())
    if welsh:
        word = max(words, key=len)
        return word[2:6] if len(word) > 4 else ""
    return words[0][:4]


RECENT_TEXTS = 512
# Where a mention can begin: the start of the text, or after a character that is not part of a word.
_MENTION_START = re.compile(r"(?<!\w)\S")


class _Needles:
    """Patterns by needle, so a text is tried only against the patterns whose needle it holds:
    one dictionary look-up per position and needle length instead of a test per pattern. An
    English term's or an acronym's needle begins its first word, so only positions where a word
    can begin are looked at; a Welsh term's needle sits inside its longest word (mutations change
    the start), so every position is."""

    def __init__(self, patterns: list[tuple[int, str, bool, bool]]):
        """`patterns`: (index, needle, needle is cased, needle may sit anywhere)."""
        self.always: list[int] = []  # patterns with no needle, tried on every text
        self.by_needle: dict[tuple[bool, str], list[int]] = {}
        lengths: dict[tuple[bool, bool], set[int]] = {}
        for i, needle, cased, anywhere in patterns:
            if not needle:
                self.always.append(i)
                continue
            self.by_needle.setdefault((cased, needle), []).append(i)
            lengths.setdefault((cased, anywhere), set()).add(len(needle))
        self.lengths = {key: sorted(sizes) for key, sizes in lengths.items()}

    def candidates(self, text: str) -> list[int]:
        """The patterns whose needle the text holds (and those with none), in their order."""
        out = set(self.always)
        sources = {True: text, False: text.lower()}
        starts: dict[bool, list[int]] = {}
        for (cased, anywhere), sizes in self.lengths.items():
            source = sources[cased]
            if anywhere:
                positions: Iterable[int] = range(len(source))
            else:
                if cased not in starts:
                    starts[cased] = [m.start() for m in _MENTION_START.finditer(source)]
                positions = starts[cased]
            for start in positions:
                for size in sizes:
                    hit = self.by_needle.get((cased, source[start: start + size]))
                    if hit:
                        out.update(hit)
        return sorted(out)


@dataclass
class Vocabulary:
    concepts: list[Concept]
    # (concept, pattern source, its flags, is Welsh, needle that must be in the lower-cased text,
    # needle is cased, needle may sit anywhere in a word). Each pattern is compiled the first time a text holds its needle: a process
    # compiles the few hundred its questions need, not all six thousand at start-up.
    _patterns: list[tuple[Concept, str, int, bool, str, bool, bool]] = field(default_factory=list, repr=False)
    _compiled: dict[int, re.Pattern[str]] = field(default_factory=dict, repr=False)
    # The patterns' needles, for all kinds of concept (key None) and for each set of kinds asked.
    _needles: dict[tuple[str, ...] | None, _Needles] = field(default_factory=dict, repr=False)
    # Provisions a passage carries -> the question offered about it (question_about).
    _questions: dict[tuple[str, ...], str | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for c in self.concepts:
            for term in c.terms:
                self._patterns.append((c, _english_pattern(term), re.IGNORECASE, False, _needle(term, False), False, False))
            for acronym in c.acronyms:
                self._patterns.append((c, rf"(?<![\w]){re.escape(acronym)}s?(?![\w])", 0, False, acronym, True, False))
            # Welsh terms, and Welsh places, also match in their mutated forms ("ym Mhowys").
            welsh_terms = [*c.cy, *(c.terms if c.kind == "place" else ())]
            for term in welsh_terms:
                self._patterns.append((c, rf"(?<![\w]){phrase_pattern(term)}(?![\w])", re.IGNORECASE,
                                       term in c.cy, _needle(term, True), False, True))
        # The last texts' matches: a question is read by several stages (context, rewrite, evidence).
        self._recent = lru_cache(maxsize=RECENT_TEXTS)(lambda text, kinds: tuple(self._match(text, kinds)))

    def _pattern(self, i: int) -> re.Pattern[str]:
        compiled = self._compiled.get(i)
        if compiled is None:
            _, source, flags, *_ = self._patterns[i]
            compiled = self._compiled[i] = re.compile(source, flags)
        return compiled

    def compile(self) -> None:
        """Compile every pattern now rather than on first use (a server's warm-up: about 0.4 s)."""
        for i in range(len(self._patterns)):
            self._pattern(i)

    @property
    def by_id(self) -> dict[str, Concept]:
        return {c.id: c for c in self.concepts}

    def match(self, text: str, kinds: tuple[str, ...] | None = None) -> list[Match]:
        """Concepts mentioned in the text, longest mention first where mentions overlap, in
        text order."""
        return list(self._recent(text, kinds))

    def _match(self, text: str, kinds: tuple[str, ...] | None) -> list[Match]:
        found: list[Match] = []
        needles = self._needles.get(kinds or None)
        if needles is None:
            needles = self._needles[kinds or None] = _Needles(
                [(i, p[4], p[5], p[6]) for i, p in enumerate(self._patterns)
                 if not kinds or p[0].kind in kinds])
        for i in needles.candidates(text):
            concept, _, _, welsh, *_ = self._patterns[i]
            for m in self._pattern(i).finditer(text):
                found.append(Match(concept, m.start(), m.end(), m.group(0), welsh))
        found.sort(key=lambda m: (-(m.end - m.start), m.start))
        kept: list[Match] = []
        for m in found:
            if all(m.end <= k.start or m.start >= k.end for k in kept):
                kept.append(m)
        return sorted(kept, key=lambda m: m.start)

    def question_about(self, provisions: Sequence[str]) -> str | None:
        """The question (`ask`) of the first topic or organisation whose provisions a passage
        carrying these is about, if any: what a decline offers to answer instead."""
        key = tuple(provisions)
        if key not in self._questions:
            self._questions[key] = next(
                (c.ask for c in self.concepts if c.kind in ("topic", "organisation") and c.ask
                 and any(prov.any_matches(key, pid) for pid in c.provisions)), None)
        return self._questions[key]

    @property
    def money_topics(self) -> list[Concept]:
        """The topics with a threshold in money, in the file's order."""
        return [c for c in self.concepts if c.money]

    def concepts_in(self, text: str, *kinds: str) -> list[Concept]:
        return list(dict.fromkeys(m.concept for m in self.match(text, kinds or None)))


def load_vocabulary(path: Path) -> Vocabulary:
    import yaml

    from procguide import yamlfile

    try:
        data = yamlfile.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VocabularyError(f"{path}: cannot read the vocabulary ({exc})") from exc
    concepts: list[Concept] = []
    seen: set[str] = set()
    for entry in data.get("concepts") or []:
        cid = str(entry.get("id", ""))
        kind = str(entry.get("kind", "topic"))
        if not cid or cid in seen:
            raise VocabularyError(f"{path}: concept id '{cid}' is missing or used twice")
        if kind not in KINDS:
            raise VocabularyError(f"{path}: {cid}: kind '{kind}' is not one of {', '.join(KINDS)}")
        if entry.get("qtype") and entry["qtype"] not in QTYPES:
            raise VocabularyError(f"{path}: {cid}: qtype '{entry['qtype']}' is not one of {', '.join(QTYPES)}")
        provisions = tuple(str(p) for p in entry.get("provisions") or ())
        bad = [p for p in provisions if not prov.is_well_formed(p)]
        if bad:
            raise VocabularyError(f"{path}: {cid}: malformed provision ids {bad}")
        seen.add(cid)
        concepts.append(Concept(
            id=cid, kind=kind, label=str(entry.get("label") or cid),
            terms=tuple(str(t) for t in entry.get("terms") or ()),
            acronyms=tuple(str(t) for t in entry.get("acronyms") or ()),
            cy=tuple(str(t) for t in entry.get("cy") or ()),
            search=str(entry.get("search") or ""),
            provisions=tuple(prov.normalise(p) for p in provisions),
            ask=str(entry.get("ask") or ""),
            body=str(entry.get("body") or ""), sector=str(entry.get("sector") or ""),
            nation=str(entry.get("nation") or ""), reason=str(entry.get("reason") or ""),
            qtype=str(entry.get("qtype") or ""),
            money=bool(entry.get("money", False)),
        ))
    return Vocabulary(concepts)


@lru_cache(maxsize=8)
def vocabulary_at(path: str) -> Vocabulary:
    """The vocabulary in a file, read once per process."""
    return load_vocabulary(Path(path))
