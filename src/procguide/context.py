"""The context stage: who is asking and under which rules. From the question, the conversation and
the UI's settings it works out the asker's nation, kind of body, health or social care, and when
the procurement started (default: today), and from these the governing regime.

Which instrument applies to whom and when is data (`role`, `nations`, `sector`, `applies_from`,
`applies_before` in knowledge/instruments.yaml); this module only reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from procguide import provisions as prov
from procguide.vocabulary import Vocabulary

UK_NATIONS = ("England", "Wales", "Northern Ireland")
NATIONS = (*UK_NATIONS, "Scotland", "EU")

# Nations named outright; places, bodies and health boards come from the vocabulary.
_NATION_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Northern Ireland", re.compile(r"\b[Nn]orthern\s+[Ii]reland\b|\bNORTHERN\s+IRELAND\b|\bN\.?I\.?(?!\w)|\bGogledd\s+Iwerddon\b")),
    ("Wales", re.compile(r"\bwales\b|\bwelsh\s+(?:(?:county|city|borough|local|unitary)\s+){0,3}(?:council|authority|authorities|government|ministers|health\s+board|nhs|local\s+authorit\w+|public\s+bod\w+)|\bcymru\b|\bnghymru\b", re.IGNORECASE)),
    ("England", re.compile(r"\bengland\b|\benglish\s+(?:council|authority|authorities|nhs|local\s+authorit\w+|icb|trust|public\s+bod\w+)|\bloegr\b", re.IGNORECASE)),
    ("Scotland", re.compile(r"\bscotland\b|\bscottish\b|\balban\b", re.IGNORECASE)),
    ("EU", re.compile(r"\beu\s+(?:member\s+state|country)\b|\bmember\s+state\b|\baelod-?wladwriaeth\b", re.IGNORECASE)),
)
_SECTOR_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("health", re.compile(r"\bhealth\s*care\b|\bhealth\s+services?\b|\bclinical\b|\bnhs\s+services?\b|\bgofal\s+iechyd\b|\bwasanaethau\s+iechyd\b", re.IGNORECASE)),
    ("social", re.compile(r"\bsocial\s+care\b|\badult\s+social\b|\bgofal\s+cymdeithasol\b|\bofal\s+cymdeithasol\b", re.IGNORECASE)),
)

# A follow-up this short ("what if we'd gone out in nov 2024?") is about the one fact it gives.
SHORT_FOLLOW_UP = 12

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"], 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
# Welsh months, radical and soft-mutated ("fis Chwefror", "ym mis Mawrth").
_MONTHS.update({
    "ionawr": 1, "chwefror": 2, "mawrth": 3, "ebrill": 4, "mai": 5, "mehefin": 6,
    "gorffennaf": 7, "awst": 8, "medi": 9, "hydref": 10, "tachwedd": 11, "rhagfyr": 12,
    "fawrth": 3, "fai": 5, "fehefin": 6, "fedi": 9, "dachwedd": 11, "ragfyr": 12,
})
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# A season or a part of a year is read as its first month ("spring 2027": March 2027; "winter
# 2024": December 2024; "late 2024": October 2024), as the context line then says; "early",
# "mid" and "late" move a season on by a month each.
_SEASONS = {
    "spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12,
    "gwanwyn": 3, "wanwyn": 3, "ngwanwyn": 3, "haf": 6, "gaeaf": 12, "aeaf": 12, "ngaeaf": 12,
}
_SEASON_RE = "|".join(sorted(_SEASONS, key=len, reverse=True))
_PART_OF_YEAR = {"early": 1, "start of": 1, "beginning of": 1, "mid": 7, "middle of": 7, "late": 10, "end of": 12}
_PART_RE = r"early|late|mid|start\s+of|beginning\s+of|middle\s+of|end\s+of"
_DATE_PATTERNS = (
    ("dmy", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)),
    ("my", re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})\b", re.IGNORECASE)),
    ("season", re.compile(rf"\b(?:(early|mid|late)[\s-]+)?({_SEASON_RE})\s+(?:of\s+)?(20[12]\d)\b", re.IGNORECASE)),
    ("part", re.compile(rf"\b(?:the\s+)?({_PART_RE})[\s-]+(20[12]\d)\b", re.IGNORECASE)),
    ("quarter", re.compile(r"\bQ([1-4])[\s/-]*(20[12]\d)\b|\b(20[12]\d)[\s/-]*Q([1-4])\b", re.IGNORECASE)),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("slash", re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")),
    ("year", re.compile(r"\b(?:in|during|from|since|yn|ers|o)\s+(20[12]\d)\b", re.IGNORECASE)),
    ("rel", re.compile(r"\b(last|this|next)\s+year\b|\b(llynedd|eleni|flwyddyn\s+nesaf)\b", re.IGNORECASE)),
)
# Words near a date that say it is when the procurement started (or will start) ...
_START_CUE = re.compile(
    r"advertis|tender|procur|go(?:ing)?\s+out|went\s+out|goes\s+out|gone\s+out|launch|start|commenc|began|"
    r"begin|kick|publish|issued|notice|\bpin\b|re-?let|re-?commission|commission|market|invit|"
    r"hysbys|tendr|dendr|caffael|dechrau|cychwyn|cyhoedd|(?:c|g|ngh|ch)omisiyn|ail-?gomisiyn|mynd\s+allan|aethom\s+allan",
    re.IGNORECASE,
)
# ... and words that say it is something else (a contract's end, or when a service began).
_OTHER_CUE = re.compile(
    r"\bends?\b|\bended\b|\bending\b|expir|until|\btill\b|runs?\s+(?:out|to)|finish|terminat|due\s+to\s+end|"
    r"contract\s+(?:started|began|commenced|runs)|set\s+up|founded|established|formed|spun\s+out|"
    r"\bdod\s+i\s+ben|\bdaw\s+i\s+ben",
    re.IGNORECASE,
)
_BEFORE_ACT = re.compile(
    r"\bbefore\s+(?:24(?:th)?\s+)?feb(?:ruary)?\s+2025\b|\bbefore\s+the\s+(?:new\s+)?act\s+(?:came|started|commenced|went)|"
    r"\bcyn\s+24\s+chwefror\s+2025\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"(?:£|€|eur\s?)\s?(\d+(?:[.,]\d+)*)\s*(m|k|million|bn|billion|thousand)?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContextSettings:
    """What the UI or CLI says about the asker; None means 'work it out from the question'."""

    nation: str | None = None
    started: date | None = None

    def __post_init__(self) -> None:
        if self.nation is not None and self.nation not in NATIONS:
            raise ValueError(f"Unknown nation '{self.nation}': choose one of {', '.join(NATIONS)}")


@dataclass(frozen=True)
class AskerContext:
    nation: str | None = None
    body: str | None = None
    sector: str | None = None  # "health", "social" or "mixed"
    started: date = field(default_factory=date.today)
    value: str | None = None  # a contract value the question gives ("£1.2m")
    eu_country: str | None = None
    # Where each fact came from: "question", "conversation", "settings" or "default".
    origin: dict[str, str] = field(default_factory=dict)

    @property
    def started_given(self) -> bool:
        return self.origin.get("started", "default") != "default"


@dataclass(frozen=True)
class Regime:
    """The instruments that govern the asker, and how every other instrument relates to them."""

    governing: tuple[str, ...]
    relations: dict[str, str]  # instrument id -> governing, earlier, later, background, duty, other
    not_held: str | None = None  # a nation whose rules the knowledge base does not hold

    def relation(self, instrument: str) -> str:
        return self.relations.get(instrument, "other")


def _nations_in(text: str, vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """(nation, what named it) for each nation the text points to."""
    found = [(nation, m.group(0)) for nation, pattern in _NATION_WORDS for m in pattern.finditer(text)]
    for m in vocabulary.match(text, ("place", "body")):
        if m.concept.nation:
            found.append((m.concept.nation, m.text))
    return found


def _date_of(kind: str, m: re.Match[str], today: date) -> date | None:
    try:
        if kind == "dmy":
            return date(int(m[3]), _MONTHS[m[2].lower().rstrip(".")], int(m[1]))
        if kind == "my":
            return date(int(m[2]), _MONTHS[m[1].lower().rstrip(".")], 1)
        if kind == "season":
            shift = {"early": 0, "mid": 1, "late": 2}.get((m[1] or "early").lower(), 0)
            month = _SEASONS[m[2].lower()] + shift
            return date(int(m[3]) + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        if kind == "part":
            return date(int(m[2]), _PART_OF_YEAR[" ".join(m[1].lower().split())], 1)
        if kind == "quarter":
            quarter, year = (m[1], m[2]) if m[1] else (m[4], m[3])
            return date(int(year), 3 * int(quarter) - 2, 1)
        if kind == "iso":
            return date(int(m[1]), int(m[2]), int(m[3]))
        if kind == "slash":
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[2]), int(m[1]))
        if kind == "year":
            return date(int(m[1]), 7, 1)
        if kind == "rel":
            word = (m[1] or m[2]).lower()
            offset = {"last": -1, "llynedd": -1, "this": 0, "eleni": 0}.get(word, 1)
            return today if offset == 0 else date(today.year + offset, 7, 1)
    except (ValueError, KeyError):
        return None
    return None


def procurement_start(text: str, today: date, uncued: bool = False) -> date | None:
    """When the text says the procurement started or will start, if it says so. With `uncued`
    (a short follow-up whose point is the date: "what if it was nov 2024?"), a date counts
    without a word such as "tender" or "started" beside it, unless it is said to be something
    else (a contract's end)."""
    if _BEFORE_ACT.search(text):
        return date(2025, 2, 23)
    days = [day for day, _start, _end in start_mentions(text, today, uncued)]
    return min(days) if days else None


def start_mentions(text: str, today: date, uncued: bool = False) -> list[tuple[date, int, int]]:
    """Each date the text gives as the procurement's start, with the span of the words that say
    so: the date and its nearest start word ("went out to tender in November 2024"). Those words
    are the asker's story, not what the question asks about."""
    found: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            taken.append(m.span())
            day = _date_of(kind, m, today)
            if day is None:
                continue
            offset = max(0, m.start() - 60)
            before = text[offset: m.start()]
            after = text[m.end(): m.end() + 30]
            if _OTHER_CUE.search(before[-30:]) or _OTHER_CUE.search(after):
                continue
            cues_before = list(_START_CUE.finditer(before))
            cue_after = _START_CUE.search(after)
            if cues_before:
                # From the first of a run of start words: "gone out to tender in jan 2025".
                first = cues_before[-1]
                for cue in reversed(cues_before[:-1]):
                    if first.start() - cue.end() >= 15:
                        break
                    first = cue
                found.append((day, offset + first.start(), m.end()))
            elif cue_after:
                found.append((day, m.start(), m.end() + cue_after.end()))
            elif uncued:
                found.append((day, m.start(), m.end()))
    return found


def contract_value(text: str) -> str | None:
    m = _MONEY.search(text)
    return m.group(0).strip() if m else None


def _facts(text: str, vocabulary: Vocabulary, today: date, follow_up: bool = False) -> dict[str, object]:
    """What one piece of text says about the asker. In a short follow-up any date is taken as
    the procurement's start: the date is what the follow-up changes."""
    facts: dict[str, object] = {}
    nations = _nations_in(text, vocabulary)
    distinct = list(dict.fromkeys(n for n, _ in nations))
    if len(distinct) == 1:
        facts["nation"] = distinct[0]
        if distinct[0] == "EU":
            named = [what for n, what in nations if n == "EU"]
            facts["eu_country"] = named[0]
    bodies = [m.concept for m in vocabulary.match(text, ("body",))]
    if bodies:
        facts["body"] = bodies[0].body or bodies[0].id
    services = {m.concept.sector for m in vocabulary.match(text, ("service",)) if m.concept.sector}
    services |= {sector for sector, pattern in _SECTOR_WORDS if pattern.search(text)}
    if services:
        facts["sector"] = "mixed" if len(services) > 1 else services.pop()
    elif bodies and bodies[0].sector:
        facts["sector"] = bodies[0].sector
    started = procurement_start(text, today, uncued=follow_up and len(text.split()) <= SHORT_FOLLOW_UP)
    if started:
        facts["started"] = started
    value = contract_value(text)
    if value:
        facts["value"] = value
    return facts


def infer_context(
    question: str,
    history: Sequence[dict[str, str]] | None,
    vocabulary: Vocabulary,
    settings: ContextSettings | None = None,
    today: date | None = None,
) -> AskerContext:
    """The asker's context: the question first, then the UI's settings, then the conversation's
    earlier questions (latest first), then the defaults (today; nation and sector unknown)."""
    today = today or date.today()
    settings = settings or ContextSettings()
    values: dict[str, object] = {}
    origin: dict[str, str] = {}

    def take(facts: dict[str, object], source: str) -> None:
        for key, value in facts.items():
            if key not in values and value is not None:
                values[key] = value
                if key != "eu_country":
                    origin[key] = source

    earlier = [m.get("content", "") for m in history or () if m.get("role") == "user"]
    take(_facts(question, vocabulary, today, follow_up=bool(earlier)), "question")
    take({"nation": settings.nation, "started": settings.started}, "settings")
    for text in reversed(earlier):
        take(_facts(text, vocabulary, today), "conversation")
    if "started" not in values:
        values["started"], origin["started"] = today, "default"
    return AskerContext(
        nation=values.get("nation"),  # type: ignore[arg-type]
        body=values.get("body"),  # type: ignore[arg-type]
        sector=values.get("sector"),  # type: ignore[arg-type]
        started=values["started"],  # type: ignore[arg-type]
        value=values.get("value"),  # type: ignore[arg-type]
        eu_country=values.get("eu_country"),  # type: ignore[arg-type]
        origin=origin,
    )


def governing_regime(ctx: AskerContext) -> Regime:
    """Which instruments govern this asker, and what every other instrument is to them."""
    instruments = list(prov.INSTRUMENTS.values())
    relations: dict[str, str] = {}
    if ctx.nation == "Scotland":
        for inst in instruments:
            relations[inst.id] = "background" if inst.role in ("procurement", "health") else "other"
        return Regime((), relations, not_held="Scotland")
    nations = (ctx.nation,) if ctx.nation else UK_NATIONS

    def applies_to_asker(inst: prov.Instrument) -> bool:
        return any(n in inst.nations for n in nations)

    procurement = [i for i in instruments if i.role == "procurement" and applies_to_asker(i)]
    current = [i.id for i in procurement if i.applies_on(ctx.started)]
    health = [
        i.id for i in instruments
        if i.role == "health" and applies_to_asker(i) and i.applies_on(ctx.started)
    ]
    if ctx.sector == "health":
        governing = health + current
    elif ctx.sector == "mixed":
        governing = current + health
    else:
        governing = current
    for inst in instruments:
        if inst.id in governing:
            relations[inst.id] = "governing"
        elif inst.role == "procurement" and applies_to_asker(inst):
            relations[inst.id] = "earlier" if inst.applies_before and ctx.started >= inst.applies_before else "later"
        elif inst.role == "procurement":
            # The Directive is background to UK law; UK law is nothing to an EU asker.
            relations[inst.id] = "background" if "EU" in inst.nations else "other-nation"
        elif inst.role == "health":
            # A regime for health care elsewhere, or one the asker's sector does not reach.
            relations[inst.id] = "health" if applies_to_asker(inst) else "other-nation"
        elif inst.role == "duty":
            relations[inst.id] = "duty" if applies_to_asker(inst) else "other-nation"
        else:
            relations[inst.id] = inst.role or "other"
    return Regime(tuple(governing), relations)


# How close each relation is to the asker: answers lead with rank 0, then 1, and so on. Reports
# and articles come after the law unless the question names them.
RANKS = {
    "asked": 0, "governing": 1, "report": 2, "article": 2, "health": 2, "duty": 2, "earlier": 2,
    "later": 2, "other": 2, "background": 3, "other-nation": 3,
}


@dataclass(frozen=True)
class Ranking:
    """Orders passages for an asker: what the question names, then the governing regime, then
    earlier, parallel and background law."""

    regime: Regime
    asked: tuple[str, ...] = ()

    def relation(self, instrument: str) -> str:
        return "asked" if instrument in self.asked else self.regime.relation(instrument)

    def rank(self, instrument: str) -> int:
        return RANKS.get(self.relation(instrument), 2)

    def of_passage(self, provisions: Sequence[str]) -> tuple[int, str]:
        """(rank, instrument) of the closest instrument a passage is about; a passage about
        no known instrument ranks with the governing regime."""
        instruments = [pid.split(":", 1)[0] for pid in provisions]
        known = [i for i in dict.fromkeys(instruments) if i in prov.INSTRUMENTS]
        if not known:
            return RANKS["governing"], ""
        return min((self.rank(i), i) for i in known)


def describe(ctx: AskerContext, regime: Regime) -> str:
    """One line saying whom the answer is for: 'Wales · council · social care · procurement
    started on or after 24 February 2025 (assumed: today) → Procurement Act 2023'."""
    parts = []
    if ctx.nation == "EU":
        parts.append(f"an EU Member State ({ctx.eu_country})" if ctx.eu_country else "an EU Member State")
    else:
        parts.append(ctx.nation or "UK (nation not given)")
    if ctx.body:
        parts.append(_BODY_NAMES.get(ctx.body, ctx.body))
    if ctx.sector:
        parts.append({"health": "health care", "social": "social care", "mixed": "health and social care"}[ctx.sector])
    when = f"procurement started {ctx.started.day} {ctx.started:%B %Y}"
    if not ctx.started_given:
        when = "procurement starting now (assumed)"
    parts.append(when)
    if ctx.value:
        parts.append(f"value {ctx.value}")
    line = " · ".join(parts)
    if regime.not_held:
        return f"{line} → {regime.not_held}'s own rules, which procguide does not hold"
    names = [prov.INSTRUMENTS[i].short for i in regime.governing if i in prov.INSTRUMENTS]
    return f"{line} → {' and '.join(names)}" if names else line


_BODY_NAMES = {
    "council": "council", "nhs-trust": "NHS trust", "icb": "integrated care board",
    "lhb": "local health board", "nhs-england": "NHS England", "combined-authority": "combined authority",
    "hsc-trust": "health and social care trust", "health-board-scotland": "Scottish health board",
    "special-health-authority": "special health authority",
}
