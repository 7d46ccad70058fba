"""Provision ids (`eu-dir-2014-24:art-77(2)`): the known instruments, parsing, normalising, matching.

Knows nothing about storage: it turns text and metadata into canonical ids and compares them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

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
    # Official address of a part, by kind: "{n}" is the number, "{p}" the first paragraph.
    links: dict[str, str] = field(default_factory=dict)
    # To whom and when it applies (read by the context stage).
    role: str = ""
    nations: tuple[str, ...] = ()
    sector: str = ""
    applies_from: date | None = None
    applies_before: date | None = None

    def applies_on(self, day: date) -> bool:
        """Does it govern a procurement started on `day`?"""
        if self.applies_from and day < self.applies_from:
            return False
        return not (self.applies_before and day >= self.applies_before)


class CatalogueError(ValueError):
    """knowledge/instruments.yaml cannot be read; the message says where and what to fix."""


def load_catalogue(path: Path) -> dict[str, Instrument]:
    """Read the catalogue of instruments (knowledge/instruments.yaml)."""
    import yaml

    from procguide import yamlfile

    try:
        data = yamlfile.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue of instruments ({exc})") from exc
    out: dict[str, Instrument] = {}
    for entry in data.get("instruments") or []:
        try:
            inst = Instrument(
                id=str(entry["id"]),
                title=str(entry["title"]),
                short=str(entry.get("short") or entry["title"]),
                url=str(entry.get("url") or ""),
                jurisdiction=str(entry.get("jurisdiction") or ""),
                part_kinds=tuple(entry.get("parts") or ()),
                aliases=tuple(entry.get("aliases") or ())
                + tuple(welsh_pattern(a) for a in entry.get("cy") or ()),
                lookup_by_name=bool(entry.get("lookup_by_name", False)),
                superseded_by=entry.get("superseded_by"),
                superseded_from=entry.get("superseded_from"),
                links=dict(entry.get("links") or {}),
                role=str(entry.get("role") or ""),
                nations=tuple(entry.get("nations") or ()),
                sector=str(entry.get("sector") or ""),
                applies_from=entry.get("applies_from"),
                applies_before=entry.get("applies_before"),
            )
            for alias in inst.aliases:
                re.compile(alias)
        except (KeyError, TypeError, re.error) as exc:
            raise CatalogueError(f"{path}: instrument {entry.get('id', '?')}: {exc}") from exc
        if not _ID_RE.match(inst.id) or ":" in inst.id:
            raise CatalogueError(f"{path}: '{inst.id}' is not a valid instrument id")
        out[inst.id] = inst
    if not out:
        raise CatalogueError(f"{path}: lists no instruments")
    return out


def welsh_pattern(pattern: str) -> str:
    """A Welsh name as a pattern that also matches its first word mutated ("deddf" -> "ddeddf")."""
    from procguide.welsh import mutation_pattern

    m = re.match(r"[a-zâêîôûŵŷ]+", pattern)
    if not m:
        return pattern
    return mutation_pattern(m.group(0)) + pattern[m.end():]


class _Catalogue(Mapping[str, Instrument]):
    """The instruments, read from the catalogue file on first use (`use_catalogue` to change)."""

    def __init__(self) -> None:
        self._items: dict[str, Instrument] | None = None
        self.path: Path | None = None

    def _load(self) -> dict[str, Instrument]:
        if self._items is None:
            if self.path is None:
                from procguide.config import get_settings

                self.path = get_settings().instruments_file
            self._items = load_catalogue(self.path)
        return self._items

    def use(self, path: Path) -> None:
        self.path, self._items = Path(path), None
        _alias_patterns.cache_clear()
        alias_spans.cache_clear()

    def __getitem__(self, key: str) -> Instrument:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


INSTRUMENTS = _Catalogue()


def use_catalogue(path: Path) -> None:
    """Read the catalogue of instruments from `path` from now on."""
    INSTRUMENTS.use(path)


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
    """The official address of a provision, as deep as the publisher allows: the section,
    regulation, schedule paragraph or article itself, else the instrument."""
    pid = parse(provision_id)
    inst = INSTRUMENTS.get(pid.instrument)
    if inst is None:
        return ""
    if pid.part:
        m = re.fullmatch(_PART, pid.part)
        if m:
            paras = re.findall(r"\(([0-9a-z]+)\)", m["paras"])
            template = inst.links.get(f"{m['kind']}-paragraph") if paras else None
            template = template or inst.links.get(m["kind"])
            if template:
                return template.format(n=m["num"], N=m["num"].upper(), p=paras[0] if paras else "")
    return inst.url


def instrument_named_in(text: str) -> str | None:
    """The known instrument a title or heading names, if exactly one is recognisable."""
    found = [inst_id for inst_id, _pos in _alias_hits(text)]
    return found[0] if found else None


@lru_cache(maxsize=1)
def _alias_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (inst.id, re.compile(alias)) for inst in INSTRUMENTS.values() for alias in inst.aliases
    )


def _alias_hits(text: str) -> list[tuple[str, int]]:
    low = text.lower()
    hits = [(inst_id, m.start()) for inst_id, pattern in _alias_patterns() for m in pattern.finditer(low)]
    hits.sort(key=lambda h: h[1])
    return hits


@lru_cache(maxsize=16_384)
def alias_spans(text: str) -> tuple[tuple[str, int, int], ...]:
    """Every mention of a known instrument: (instrument id, start, end). Kept for the texts seen
    most recently: answering reads the same passages' sentences again and again, and each reading
    runs every alias's pattern over the text."""
    low = text.lower()
    return tuple(sorted(
        ((inst_id, m.start(), m.end()) for inst_id, pattern in _alias_patterns()
         for m in pattern.finditer(low)),
        key=lambda h: h[1],
    ))


def without_other_instruments(text: str, keep: set[str]) -> str:
    """Remove mentions of instruments not in `keep`, and of their provisions, from `text`:
    "the term under Article 77 of the Directive" -> "the term", when keep is {"uk-pa-2023"}."""
    spans = [(start, end) for inst_id, start, end in alias_spans(text) if inst_id not in keep]
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
    # English and Welsh: "Article 77", "erthygl 77"; "section 33", "adran 33"; "regulation 77",
    # "rheoliad 77"; "Schedule 2", "atodlen 2".
    ("art", re.compile(rf"\b(?:articles?|arts?\.?|h?erthygl(?:au)?)\s*(\d{{1,3}}[a-z]?)\b{_PARAS}", re.IGNORECASE)),
    ("recital", re.compile(r"\brecitals?\s*\(?(\d{1,3})\)?", re.IGNORECASE)),
    ("annex", re.compile(r"\bannex\s+([ivxlc]{1,6})\b", re.IGNORECASE)),
    # "regulation 77", "reg. 77", "regs 74-76"; not "Regulations 2015" or "Regulation (EU) 2016/679".
    ("reg", re.compile(rf"\b(?:regulations?|regs?\.?|r?h?eoliad(?:au)?)\s*(\d{{1,3}}[a-z]?)\b(?![/\d]){_PARAS}", re.IGNORECASE)),
    ("s", re.compile(rf"\b(?:sections?|ss?\.|ss?(?=\s*\d)|h?adran(?:nau)?)\s*(\d{{1,3}}[a-z]?)\b(?![/\d]){_PARAS}", re.IGNORECASE)),
    ("sch", re.compile(r"\b(?:sch(?:edule|\.)?|h?atodlen)\s*(\d{1,2})\b", re.IGNORECASE)),
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
