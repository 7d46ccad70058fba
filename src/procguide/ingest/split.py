"""Split a SourceDocument into passages along its structure.

Legislation splits on Article / Regulation / Section / Recital / Annex headings and keeps paragraph
numbers in the locator ("Article 77(2)"); notes split on their headings; PDFs without structure
split by page; anything longer than the chunk size is split again with overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from procguide import provisions as prov
from procguide.ingest.document import SourceDocument
from procguide.ingest.structure import Heading, match_heading, match_paragraph
from procguide.passage import Passage, content_hash

_ALL_KINDS = ("art", "recital", "annex", "reg", "s", "sch")
# Parts whose numbered paragraphs become locators; recitals and annexes are cited whole.
_PARAGRAPHED = ("art", "reg", "s")


@dataclass
class _Paragraph:
    number: str | None
    texts: list[str]
    page: int


@dataclass
class _Unit:
    locator: str
    kind: str | None = None
    number: str = ""
    heading: str = ""
    provisions: tuple[str, ...] = ()
    explicit_heading: bool = False
    paragraphs: list[_Paragraph] = field(default_factory=list)

    def add(self, text: str, page: int, number: str | None = None) -> None:
        if number is None and self.paragraphs and self.paragraphs[-1].page == page:
            self.paragraphs[-1].texts.append(text)
        else:
            self.paragraphs.append(_Paragraph(number, [text], page))

    def is_empty(self) -> bool:
        return not self.paragraphs


def split_document(doc: SourceDocument, chunk_size: int = 1200, overlap: int = 150) -> list[Passage]:
    units = _units(doc)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )
    pieces: list[tuple[_Unit, str, tuple[str, ...], str, int]] = []
    for unit in units:
        for locator, provisions, text, page in _unit_chunks(doc, unit, chunk_size):
            for part in splitter.split_text(text) if len(text) > chunk_size else [text]:
                pieces.append((unit, locator, provisions, part.strip(), page))
    passages = []
    for position, (unit, locator, provisions, text, page) in enumerate(pieces):
        chunk_hash = content_hash(f"{locator}\n{text}")
        passages.append(
            Passage(
                id=f"{doc.doc_id}:{position:04d}:{chunk_hash[:10]}",
                text=text,
                doc_id=doc.doc_id,
                title=doc.title,
                locator=locator,
                provisions=provisions,
                jurisdiction=doc.jurisdiction,
                doc_type=doc.doc_type,
                url=_passage_url(doc, provisions),
                heading=unit.heading,
                in_force_from=doc.in_force_from,
                superseded_by=doc.superseded_by,
                superseded_from=doc.superseded_from,
                page=page,
                position=position,
                source=str(doc.path),
                source_hash=doc.source_hash,
                chunk_hash=chunk_hash,
                provenance=doc.provenance,
            )
        )
    return passages


def _instrument_and_kinds(doc: SourceDocument) -> tuple[str | None, tuple[str, ...]]:
    """Markdown notes split on their own headings only; other documents also on legal headings."""
    if doc.instrument and doc.instrument in prov.INSTRUMENTS:
        return doc.instrument, prov.INSTRUMENTS[doc.instrument].part_kinds or _ALL_KINDS
    if doc.instrument:
        return doc.instrument, _ALL_KINDS
    if doc.path.suffix.lower() in (".md", ".markdown"):
        return None, ()
    return re.sub(r"[^a-z0-9]+", "-", doc.doc_id.lower()).strip("-"), _ALL_KINDS


def _units(doc: SourceDocument) -> list[_Unit]:
    instrument, kinds = _instrument_and_kinds(doc)
    units = [_Unit(locator=doc.title, provisions=doc.provisions)]
    awaiting_subtitle = False
    for block in doc.blocks:
        cur = units[-1]
        explicit = block.level is not None
        heading = match_heading(block.text, kinds, explicit, in_unit=cur.kind in _PARAGRAPHED)
        if heading and heading.kind:
            unit = _legal_unit(heading, instrument or doc.doc_id)
            if cur.is_empty() and cur.explicit_heading and cur.kind is None and not unit.heading:
                unit.heading = cur.locator  # "Reserved contracts" heading above "77.—(1) ..."
                units.pop()
            units.append(unit)
            if heading.rest:
                unit.add(heading.rest, block.page, heading.paragraph)
            awaiting_subtitle = not heading.title and not heading.rest
            continue
        if awaiting_subtitle and cur.is_empty() and heading is None and _looks_like_subtitle(block.text):
            cur.heading = block.text.strip()  # EUR-Lex marks an Article's subtitle as a heading
            awaiting_subtitle = False
            continue
        if heading or explicit:
            if explicit and block.level == 1 and cur is units[0] and cur.is_empty():
                continue  # the document's own title
            units.append(
                _Unit(
                    locator=block.text.strip(),
                    heading=block.text.strip(),
                    provisions=block.provisions or doc.provisions,
                    explicit_heading=True,
                )
            )
            awaiting_subtitle = False
            continue
        awaiting_subtitle = False
        para = match_paragraph(block.text) if cur.kind in _PARAGRAPHED else None
        if para:
            cur.add(para[1], block.page, para[0])
        else:
            cur.add(block.text, block.page)
    units = [u for u in units if not u.is_empty()]
    if _has_pages_only(units):
        return _page_units(doc, units)
    return units


def _legal_unit(heading: Heading, instrument: str) -> _Unit:
    assert heading.kind is not None
    number = heading.number.upper() if heading.kind == "annex" else heading.number
    return _Unit(
        locator=prov.locator_for(heading.kind, number),
        kind=heading.kind,
        number=number,
        heading=heading.title,
        provisions=(prov.make_id(instrument, heading.kind, number),),
    )


def _looks_like_subtitle(text: str) -> bool:
    text = text.strip()
    return 0 < len(text) <= 120 and not text.endswith((".", ";", ":")) and not match_paragraph(text)


def _has_pages_only(units: list[_Unit]) -> bool:
    pages = {p.page for u in units for p in u.paragraphs}
    return len(units) == 1 and units[0].kind is None and bool(pages) and 0 not in pages


def _page_units(doc: SourceDocument, units: list[_Unit]) -> list[_Unit]:
    by_page: dict[int, _Unit] = {}
    for para in units[0].paragraphs:
        unit = by_page.setdefault(
            para.page, _Unit(locator=f"page {para.page}", provisions=doc.provisions)
        )
        unit.paragraphs.append(para)
    return list(by_page.values())


def _unit_chunks(
    doc: SourceDocument, unit: _Unit, chunk_size: int
) -> list[tuple[str, tuple[str, ...], str, int]]:
    """(locator, provisions, text, page) for each chunk of a unit, grouping numbered paragraphs."""
    page = unit.paragraphs[0].page
    whole = _join(unit.paragraphs)
    numbered = unit.kind in _PARAGRAPHED and any(p.number for p in unit.paragraphs)
    if not numbered or len(whole) <= chunk_size:
        return [(unit.locator, unit.provisions + _inner_ids(unit, unit.paragraphs), whole, page)]
    groups: list[list[_Paragraph]] = [[]]
    for para in unit.paragraphs:
        size = len(_join(groups[-1] + [para]))
        if groups[-1] and size > chunk_size:
            groups.append([])
        groups[-1].append(para)
    instrument = unit.provisions[0].split(":", 1)[0]
    chunks = []
    for group in groups:
        numbers = [p.number for p in group if p.number]
        if not numbers:
            locator, ids = unit.locator, unit.provisions
        else:
            span = f"({numbers[0]})" if len(numbers) == 1 else f"({numbers[0]})-({numbers[-1]})"
            locator = f"{unit.locator}{span}"
            ids = tuple(prov.make_id(instrument, unit.kind or "", unit.number, (n,)) for n in numbers)
        chunks.append((locator, ids, _join(group), group[0].page))
    return chunks


def _inner_ids(unit: _Unit, paragraphs: list[_Paragraph]) -> tuple[str, ...]:
    """Ids of the numbered paragraphs, or lettered points ("Article 4(d)"), a whole unit holds."""
    if unit.kind not in _PARAGRAPHED or not unit.provisions:
        return ()
    instrument = unit.provisions[0].split(":", 1)[0]
    numbers = [p.number for p in paragraphs if p.number]
    if not numbers:
        numbers = [
            m.group(1) for p in paragraphs for text in p.texts
            if (m := re.match(r"^\(([a-z]{1,2})\)\s", text))
        ]
    return tuple(prov.make_id(instrument, unit.kind or "", unit.number, (n,)) for n in numbers)


def _join(paragraphs: list[_Paragraph]) -> str:
    parts = []
    for para in paragraphs:
        body = "\n".join(para.texts)
        parts.append(f"({para.number}) {body}" if para.number else body)
    return "\n\n".join(parts)


def _passage_url(doc: SourceDocument, provisions: tuple[str, ...]) -> str:
    """Legislation, and notes about it, link to the provision a passage is about: the first
    provision with a part (a section, regulation or article, where the publisher allows), else the
    first report or instrument with an address. Other documents link to their source. A note
    about sources with no address gets no link: no link beats a link to something it does not
    cite. Only official documents get the catalogue's links: a local file that names an
    instrument links to nothing but the http(s) address its own metadata gives."""
    if doc.provenance == "official" and doc.doc_type in ("legislation", "note"):
        known = [pid for pid in provisions if pid.split(":", 1)[0] in prov.INSTRUMENTS]
        ordered = [pid for pid in known if ":" in pid] + [pid for pid in known if ":" not in pid]
        if ordered:
            return next((url for url in map(prov.official_url, ordered) if url), "")
    return doc.url
