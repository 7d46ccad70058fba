"""The annotate stage: notices shown with an answer. Law that has been superseded or does not bind
the asker, a question asked in Welsh and answered from English sources, and how the question was
handled (set by the screen stage)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache

from procguide import provisions as prov
from procguide.context import Ranking
from procguide.passage import Passage
from procguide.welsh import WELSH_NOTICE

DIRECTIVE_NOTICE = (
    "Directive 2014/24/EU binds EU Member States. It no longer binds UK bodies: it stopped applying "
    "to the UK when the Brexit transition period ended on 31 December 2020."
)


# The answer speaks of the Directive: by name, or by an Article (UK law has sections and regulations).
_NAMES_DIRECTIVE = re.compile(r"\bDirective\b|\bArticles?\s+\d", re.IGNORECASE)


def notices_for(
    cited: Sequence[Passage], ranking: Ranking, language: str, screened: Sequence[str] = (), text: str = ""
) -> list[str]:
    """Every notice an answer needs, in the order they are shown. The Directive notice needs an
    answer `text` that speaks of the Directive, not only a cited passage that mentions it."""
    notices = list(screened)
    if language == "cy":
        notices.append(WELSH_NOTICE)
    # The Directive notice goes to every asker it does not bind, whether or not they named it.
    relations = {ranking.regime.relation(pid.split(":", 1)[0]) for p in cited for pid in p.provisions}
    notices += superseded_notices(
        p for p in cited if ranking.relation(_instrument_of(p)) not in ("governing",)
    )
    if "background" in relations and _NAMES_DIRECTIVE.search(text) and any(
        pid.startswith("eu-dir-2014-24") for p in cited for pid in p.provisions
    ):
        notices.append(DIRECTIVE_NOTICE)
    return notices


def superseded_notices(passages: Iterable[Passage]) -> list[str]:
    """One notice per superseded instrument an answer rests on."""
    notices: dict[str, str] = {}
    for p in passages:
        if not p.superseded_by:
            continue
        instrument = _instrument_of(p)
        name = prov.INSTRUMENTS[instrument].short if instrument in prov.INSTRUMENTS else p.title
        new = prov.INSTRUMENTS.get(p.superseded_by.split(":")[0])
        new_name = new.short if new else p.superseded_by
        when = _long_date(p.superseded_from)
        notices.setdefault(
            name,
            f"{name} governs only procurements started before {when}; for procurements started "
            f"on or after that date, see the {new_name}."
            if when
            else f"{name} has been superseded by the {new_name}; check which applies to your procurement.",
        )
    return list(notices.values())


def _instrument_of(p: Passage) -> str:
    instruments = [pid.split(":")[0] for pid in p.provisions]
    superseded = [i for i in instruments if prov.INSTRUMENTS.get(i) and prov.INSTRUMENTS[i].superseded_by]
    return (superseded or instruments or [p.doc_id])[0]


def _long_date(iso: str) -> str:
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return ""
    return f"{d.day} {d.strftime('%B %Y')}"


# Disagreement between an organisation's document and the law: the same kind of figure (years,
# months, days, pounds, per cent) with different values, or the same verb with opposite polarity
# ("may award" / "must not award"), in passages that share the question's topic.
_NUMBER_WORDS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])}
_QUANTITY = re.compile(
    r"(?P<pound>£\s?\d[\d,]*(?:\.\d+)?)\s*(?P<scale>million|m\b|bn|billion)?"
    r"|\b(?P<value>\d+(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")\s*(?:-\s*)?"
    r"(?P<unit>years?|months?|days?|%|per\s?cent)",
    re.IGNORECASE,
)
_MODAL = re.compile(
    r"\b(?P<modal>may|must|can|shall|cannot|can't|mustn't)\b(?P<neg>\s+(?:not|never))?\s+"
    r"(?:(?:also|only|still|directly|then)\s+)?(?P<verb>[a-z]{3,})",
    re.IGNORECASE,
)
_STOP = frozenset(
    ["what", "which", "when", "where", "does", "about", "there", "their", "they", "this", "that", "with", "from", "have", "under", "into", "long", "last", "much", "many", "could", "would", "should", "shall", "must", "will", "your", "ours"]
)


def _topic_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP}


def quantities(sentence: str) -> set[tuple[str, float]]:
    """Figures with their units: 'up to ten years' -> {('year', 10.0)}; '£5m' -> {('£', 5e6)}."""
    out: set[tuple[str, float]] = set()
    for m in _QUANTITY.finditer(sentence):
        if m.group("pound"):
            value = float(re.sub(r"[£,\s]", "", m.group("pound")))
            scale = (m.group("scale") or "").lower()
            value *= 1e9 if scale in ("bn", "billion") else 1e6 if scale in ("m", "million") else 1
            out.add(("£", value))
        else:
            raw, unit = m.group("value").lower(), m.group("unit").lower()
            value = float(_NUMBER_WORDS.get(raw, raw))
            unit = "%" if unit.startswith(("%", "per")) else unit.rstrip("s")
            out.add((unit, value))
    return out


def polarities(sentence: str) -> dict[str, bool]:
    """Verb -> allowed or required (True) / forbidden (False): 'may not award' -> {'award': False}."""
    out: dict[str, bool] = {}
    for m in _MODAL.finditer(sentence):
        negative = bool(m.group("neg")) or m.group("modal").lower() in ("cannot", "can't", "mustn't")
        out[m.group("verb").lower()] = not negative
    return out


Claim = tuple[frozenset[tuple[str, float]], dict[str, bool]]  # a sentence's figures and modal verbs


@lru_cache(maxsize=20_000)
def _claims(text: str) -> tuple[Claim, ...]:
    """Each sentence's figures and modal verbs: read once per passage text, as a passage is
    compared with many others."""
    from procguide.answer.sentences import answer_sentences

    return tuple((frozenset(quantities(s)), polarities(s)) for s in answer_sentences(text))


@lru_cache(maxsize=20_000)
def _passage_words(p: Passage) -> frozenset[str]:
    return frozenset(_topic_words(f"{p.title} {p.heading} {p.text}"))


def _disagree(local: Claim, official: Claim) -> bool:
    (mine, said), (law, held) = local, official
    for unit in {u for u, _ in mine} & {u for u, _ in law}:
        if {v for u, v in mine if u == unit}.isdisjoint({v for u, v in law if u == unit}):
            return True
    return any(verb in held and said[verb] != held[verb] for verb in said)


def _name(p: Passage, numbers: dict[str, int]) -> str:
    where = f"{p.title}, {p.locator}" if p.locator and p.locator != p.title else p.title
    return f"[{numbers[p.id]}] {where}" if p.id in numbers else where


def disagreement_notices(
    cited: Sequence[tuple[int, Passage]], retrieved: Sequence[Passage], topic: str
) -> list[str]:
    """One notice for each local document that contradicts an official passage on the question's
    topic, naming both; the law is said to govern."""
    words = _topic_words(topic)
    numbers = {p.id: n for n, p in cited}
    # A local document retrieved but not quoted still gets the notice: it was in front of the asker's
    # question, and its figures may be what the asker remembers.
    locals_ = list(dict.fromkeys([*(p for _, p in cited if not p.official), *(p for p in retrieved if not p.official)]))
    officials = list(dict.fromkeys([*(p for _, p in cited if p.official), *(p for p in retrieved if p.official)]))

    def on_topic(p: Passage) -> bool:
        return not words or bool(words & _passage_words(p))

    notices: list[str] = []
    for mine in filter(on_topic, locals_):
        for law in filter(on_topic, officials):
            if any(_disagree(a, b) for a in _claims(mine.text) for b in _claims(law.text)):
                notices.append(
                    f"The sources disagree: your organisation's document {_name(mine, numbers)} says "
                    f"something different from {_name(law, numbers)}. The law governs; check your "
                    "document against it."
                )
                break
    return notices
