"""Provision ids (`eu-dir-2014-24:art-77(2)`): the known instruments, parsing, normalising, matching.

Knows nothing about storage: it turns text and metadata into canonical ids and compares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# Part kinds and how they read in a citation locator.
PART_LABELS = {
    "art": "Article",
    "recital": "Recital",
    "annex": "Annex",
    "reg": "Regulation",
    "s": "Section",
    "sch": "Schedule",
}


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    short: str
    url: str
    jurisdiction: str
    part_kinds: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # Reports and articles are looked up when a question names them; Acts are too large for that.
    lookup_by_name: bool = False
    superseded_by: str | None = None
    superseded_from: date | None = None
    # Path segment legislation.gov.uk uses for a part kind ("regulation", "section").
    url_parts: dict[str, str] = field(default_factory=dict)


INSTRUMENTS: dict[str, Instrument] = {
    i.id: i
    for i in (
        Instrument(
            "eu-dir-2014-24",
            "Directive 2014/24/EU on public procurement",
            "Directive 2014/24/EU",
            "https://eur-lex.europa.eu/eli/dir/2014/24/oj",
            "EU",
            ("art", "recital", "annex"),
            (r"directive\s+2014/24(?:/eu)?", r"2014/24/eu", r"(?:the|eu|procurement)\s+directive"),
        ),
        Instrument(
            "uk-pcr-2015",
            "Public Contracts Regulations 2015 (SI 2015/102)",
            "PCR 2015",
            "https://www.legislation.gov.uk/uksi/2015/102",
            "UK",
            ("reg", "sch"),
            (r"public\s+contracts?\s+regulations(?:\s+2015)?", r"\bpcrs?(?:\s*2015)?\b", r"si\s+2015/102"),
            superseded_by="uk-pa-2023",
            superseded_from=date(2025, 2, 24),
            url_parts={"reg": "regulation", "sch": "schedule"},
        ),
        Instrument(
            "uk-pa-2023",
            "Procurement Act 2023",
            "Procurement Act 2023",
            "https://www.legislation.gov.uk/ukpga/2023/54",
            "UK",
            ("s", "sch"),
            (r"procurement\s+act(?:\s+2023)?", r"\bpa\s*2023\b", r"\bthe\s+new\s+act\b"),
            url_parts={"s": "section", "sch": "schedule"},
        ),
        Instrument(
            "uk-sva-2012",
            "Public Services (Social Value) Act 2012",
            "Social Value Act 2012",
            "https://www.legislation.gov.uk/ukpga/2012/3",
            "UK",
            ("s",),
            (r"social\s+value\s+act(?:\s+2012)?", r"public\s+services\s+\(social\s+value\)\s+act"),
            url_parts={"s": "section"},
        ),
        Instrument(
            "wales-sswba-2014",
            "Social Services and Well-being (Wales) Act 2014",
            "SSWB (Wales) Act 2014",
            "https://www.legislation.gov.uk/anaw/2014/4",
            "Wales",
            ("s", "sch"),
            (r"social\s+services\s+and\s+well-?being\s+\(wales\)\s+act", r"\bsswb\s*a(?:ct)?\b", r"\bsswba\b"),
            url_parts={"s": "section", "sch": "schedule"},
        ),
        Instrument(
            "wales-spppa-2023",
            "Social Partnership and Public Procurement (Wales) Act 2023",
            "SPPP (Wales) Act 2023",
            "https://www.legislation.gov.uk/asc/2023/1",
            "Wales",
            ("s", "sch"),
            (r"social\s+partnership\s+and\s+public\s+procurement\s+\(wales\)\s+act", r"\bspppa\b", r"\bsppp\s+act\b"),
            url_parts={"s": "section", "sch": "schedule"},
        ),
        Instrument(
            "uk-psr-2023",
            "Health Care Services (Provider Selection Regime) Regulations 2023 (SI 2023/1348)",
            "Provider Selection Regime 2023",
            "https://www.legislation.gov.uk/uksi/2023/1348",
            "England",
            ("reg", "sch"),
            (r"provider\s+selection\s+regime(?!\)?\s*\(wales\))", r"\bpsr\b(?!\s+wales)"),
            url_parts={"reg": "regulation", "sch": "schedule"},
        ),
        Instrument(
            "wales-psr-2025",
            "Health Services (Provider Selection Regime) (Wales) Regulations 2025 (SI 2025/99)",
            "Provider Selection Regime (Wales) 2025",
            "https://www.legislation.gov.uk/wsi/2025/99",
            "Wales",
            ("reg", "sch"),
            (r"provider\s+selection\s+regime\)?\s+\(wales\)", r"\bpsr\s+wales\b", r"welsh\s+(?:provider\s+selection\s+regime|psr)"),
            url_parts={"reg": "regulation", "sch": "schedule"},
        ),
        Instrument(
            "report-kingsfund-2011",
            "The King's Fund, Social enterprise in health care (Addicott, 2011)",
            "King's Fund 2011",
            "https://www.kingsfund.org.uk/publications/social-enterprise-health-care",
            "England",
            aliases=(r"king'?s\s+fund",),
            lookup_by_name=True,
        ),
        Instrument(
            "report-ppiw-2016",
            "PPIW, Increasing the Role of Social Business Models in Health and Social Care (2016)",
            "PPIW 2016",
            "http://ppiw.org.uk/ppiw-report",
            "Wales",
            aliases=(r"\bppiw\b", r"public\s+policy\s+institute\s+for\s+wales"),
            lookup_by_name=True,
        ),
        Instrument(
            "post-dpulo-social-enterprise",
            "Article: social enterprise in health care, from the perspective of DPULOs",
            "DPULO commentary",
            "",
            "UK",
            lookup_by_name=True,
        ),
        Instrument(
            "post-ppiw-publication",
            "Article: the PPIW announces its report on social business models",
            "PPIW announcement",
            "http://ppiw.org.uk/ppiw-report",
            "Wales",
            lookup_by_name=True,
        ),
    )
}

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_PART = r"(?P<kind>[a-z]+)-(?P<num>[0-9]+[a-z]?|[ivxlc]+)(?P<paras>(?:\([0-9a-z]+\))*)"
_ID_RE = re.compile(rf"^(?P<inst>{_SLUG})(?::{_PART})?$")


@dataclass(frozen=True)
class ProvisionId:
    instrument: str
    part: str | None = None

    def __str__(self) -> str:
        return f"{self.instrument}:{self.part}" if self.part else self.instrument


def parse(provision_id: str) -> ProvisionId:
    """Parse a canonical id; raise ValueError with a readable message if it is malformed."""
    text = normalise(provision_id)
    m = _ID_RE.match(text)
    if not m:
        raise ValueError(
            f"'{provision_id}' is not a provision id: write INSTRUMENT:PART, "
            "for example eu-dir-2014-24:art-77(2) or uk-pa-2023:s-33"
        )
    part = text.split(":", 1)[1] if ":" in text else None
    return ProvisionId(m["inst"], part)


def normalise(provision_id: str) -> str:
    return provision_id.strip().lower()


def is_well_formed(provision_id: str) -> bool:
    try:
        parse(provision_id)
    except ValueError:
        return False
    return True


def is_known(provision_id: str) -> bool:
    """True when the id names a known instrument and, if it has a part, a part kind it has."""
    try:
        pid = parse(provision_id)
    except ValueError:
        return False
    inst = INSTRUMENTS.get(pid.instrument)
    if inst is None:
        return False
    if pid.part is None:
        return True
    return pid.part.split("-", 1)[0] in inst.part_kinds


def matches(candidate: str, expected: str) -> bool:
    """Does a passage tagged `candidate` satisfy a search for `expected`?

    `art-77(2)` satisfies `art-77`; an instrument id alone is satisfied by any of its parts.
    """
    c, e = normalise(candidate), normalise(expected)
    c_inst, _, c_part = c.partition(":")
    e_inst, _, e_part = e.partition(":")
    if c_inst != e_inst:
        return False
    if not e_part:
        return True
    return c_part == e_part or c_part.startswith(e_part + "(")


def any_matches(candidates: list[str] | tuple[str, ...], expected: str) -> bool:
    return any(matches(c, expected) for c in candidates)


def make_id(instrument: str, kind: str, number: str, paragraphs: tuple[str, ...] = ()) -> str:
    return f"{instrument}:{kind}-{number.lower()}" + "".join(f"({p.lower()})" for p in paragraphs)


def locator_for(kind: str, number: str, paragraphs: tuple[str, ...] = ()) -> str:
    """Human locator: ("art", "77", ("2",)) -> "Article 77(2)"; annex numbers in capitals."""
    label = PART_LABELS.get(kind, kind.capitalize())
    num = number.upper() if kind == "annex" else number
    return f"{label} {num}" + "".join(f"({p})" for p in paragraphs)


def describe(provision_id: str) -> str:
    """'uk-pcr-2015:reg-77(1)' -> 'PCR 2015, Regulation 77(1)'."""
    pid = parse(provision_id)
    inst = INSTRUMENTS.get(pid.instrument)
    name = inst.short if inst else pid.instrument
    if not pid.part:
        return name
    m = re.fullmatch(_PART, pid.part)
    if not m:
        return f"{name}, {pid.part}"
    paras = tuple(re.findall(r"\(([0-9a-z]+)\)", m["paras"]))
    return f"{name}, {locator_for(m['kind'], m['num'], paras)}"


def official_url(provision_id: str) -> str:
    """The official address of a provision, as deep as the publisher allows."""
    pid = parse(provision_id)
    inst = INSTRUMENTS.get(pid.instrument)
    if inst is None:
        return ""
    if pid.part:
        kind, _, rest = pid.part.partition("-")
        number = re.match(r"[0-9a-z]+", rest)
        segment = inst.url_parts.get(kind)
        if segment and number:
            return f"{inst.url}/{segment}/{number.group(0)}"
    return inst.url


def instrument_named_in(text: str) -> str | None:
    """The known instrument a title or heading names, if exactly one is recognisable."""
    found = [inst_id for inst_id, _pos in _alias_hits(text)]
    return found[0] if found else None


def _alias_hits(text: str) -> list[tuple[str, int]]:
    hits: list[tuple[str, int]] = []
    low = text.lower()
    for inst in INSTRUMENTS.values():
        for alias in inst.aliases:
            for m in re.finditer(alias, low):
                hits.append((inst.id, m.start()))
    hits.sort(key=lambda h: h[1])
    return hits


def without_other_instruments(text: str, keep: set[str]) -> str:
    """Remove mentions of instruments not in `keep`, and of their provisions, from `text`:
    "the term under Article 77 of the Directive" -> "the term", when keep is {"uk-pa-2023"}."""
    low = text.lower()
    spans: list[tuple[int, int]] = []
    for inst in INSTRUMENTS.values():
        if inst.id in keep:
            continue
        for alias in inst.aliases:
            spans.extend(m.span() for m in re.finditer(alias, low))
    aliases = _alias_hits(text)
    for kind, pattern in _REF_PATTERNS:
        for m in pattern.finditer(text):
            instrument = _resolve_instrument(kind, m.start(), m.end(), aliases)
            if instrument is not None and instrument not in keep:
                spans.append(m.span())
    out = text
    for start, end in sorted(spans, reverse=True):
        # Take a connecting "under the", "of the", "in" with the mention.
        lead = re.search(r"(?:\b(?:under|of|in|by|from)\s+)?(?:the\s+)?$", out[:start], re.IGNORECASE)
        cut = lead.start() if lead else start
        out = out[:cut] + out[end:]
    return re.sub(r"\s{2,}", " ", out).strip()


def instruments_named(text: str) -> set[str]:
    return {inst_id for inst_id, _pos in _alias_hits(text)}


# --- references in free text (questions) -------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """A provision named in a question. `instrument` is None when the text does not say which."""

    instrument: str | None
    part: str | None

    def matches(self, provision_id: str) -> bool:
        pid = parse(provision_id)
        if self.instrument and pid.instrument != self.instrument:
            return False
        if self.part is None:
            return True
        return pid.part is not None and (
            pid.part == self.part or pid.part.startswith(self.part + "(")
        )


_PARAS = r"((?:\s?\(\s?[0-9a-z]{1,4}\s?\))*)"
_REF_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("art", re.compile(rf"\b(?:articles?|arts?\.?)\s*(\d{{1,3}}[a-z]?)\b{_PARAS}", re.IGNORECASE)),
    ("recital", re.compile(r"\brecitals?\s*\(?(\d{1,3})\)?", re.IGNORECASE)),
    ("annex", re.compile(r"\bannex\s+([ivxlc]{1,6})\b", re.IGNORECASE)),
    # "regulation 77", "reg. 77", "regs 74-76"; not "Regulations 2015" or "Regulation (EU) 2016/679".
    ("reg", re.compile(rf"\b(?:regulations?|regs?\.?)\s*(\d{{1,3}}[a-z]?)\b(?![/\d]){_PARAS}", re.IGNORECASE)),
    ("s", re.compile(rf"\b(?:sections?|ss?\.|ss?(?=\s*\d))\s*(\d{{1,3}}[a-z]?)\b(?![/\d]){_PARAS}", re.IGNORECASE)),
    ("sch", re.compile(r"\bsch(?:edule|\.)?\s*(\d{1,2})\b", re.IGNORECASE)),
)
_RANGE_RE = re.compile(r"\s*(?:-|–|to)\s*(\d{1,3})\b")
_INSTRUMENT_WINDOW = 60


def find_references(text: str) -> list[Reference]:
    """Provisions a piece of text names: 'Article 77', 'regulation 77', 's. 33 of the Procurement Act'.

    The instrument is the nearest one named around the reference that has parts of that kind; when
    only one known instrument has such parts (Articles: the Directive) it is that one.
    """
    refs: list[Reference] = []
    aliases = _alias_hits(text)
    for kind, pattern in _REF_PATTERNS:
        for m in pattern.finditer(text):
            instrument = _resolve_instrument(kind, m.start(), m.end(), aliases)
            paras = _paragraphs(m.group(2)) if pattern.groups >= 2 else ()
            numbers = [m.group(1)]
            tail = _RANGE_RE.match(text, m.end())
            if tail and m.group(1).isdigit() and 0 < int(tail.group(1)) - int(m.group(1)) <= 10:
                numbers = [str(n) for n in range(int(m.group(1)), int(tail.group(1)) + 1)]
                paras = ()
            for number in numbers:
                part = f"{kind}-{number.lower()}" + "".join(f"({p})" for p in paras)
                refs.append(Reference(instrument, part))
    for inst_id, _pos in aliases:
        if INSTRUMENTS[inst_id].lookup_by_name:
            refs.append(Reference(inst_id, None))
    return list(dict.fromkeys(refs))


def _paragraphs(text: str | None) -> tuple[str, ...]:
    return tuple(p.lower() for p in re.findall(r"\(\s?([0-9a-z]+)\s?\)", text or "", re.IGNORECASE))


def _resolve_instrument(kind: str, start: int, end: int, aliases: list[tuple[str, int]]) -> str | None:
    compatible = [i for i in INSTRUMENTS.values() if kind in i.part_kinds]
    near = [
        (min(abs(pos - start), abs(pos - end)), inst_id)
        for inst_id, pos in aliases
        if kind in INSTRUMENTS[inst_id].part_kinds
        and (start - _INSTRUMENT_WINDOW <= pos <= end + _INSTRUMENT_WINDOW)
    ]
    if near:
        return min(near)[1]
    if len(compatible) == 1:
        return compatible[0].id
    return None
