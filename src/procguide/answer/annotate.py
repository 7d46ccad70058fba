"""Notices shown with an answer: law that has been superseded, and how the question was handled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from procguide import provisions as prov
from procguide.passage import Passage


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
