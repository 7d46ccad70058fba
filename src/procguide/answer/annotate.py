"""The annotate stage: notices shown with an answer. Law that has been superseded or does not bind
the asker, a question asked in Welsh and answered from English sources, and how the question was
handled (set by the screen stage)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from procguide import provisions as prov
from procguide.context import Ranking
from procguide.passage import Passage
from procguide.welsh import WELSH_NOTICE

DIRECTIVE_NOTICE = (
    "Directive 2014/24/EU binds EU Member States. It no longer binds UK bodies: it stopped applying "
    "to the UK when the Brexit transition period ended on 31 December 2020."
)


def notices_for(
    cited: Sequence[Passage], ranking: Ranking, language: str, screened: Sequence[str] = ()
) -> list[str]:
    """Every notice an answer needs, in the order they are shown."""
    notices = list(screened)
    if language == "cy":
        notices.append(WELSH_NOTICE)
    # The Directive notice goes to every asker it does not bind, whether or not they named it.
    relations = {ranking.regime.relation(pid.split(":", 1)[0]) for p in cited for pid in p.provisions}
    notices += superseded_notices(
        p for p in cited if ranking.relation(_instrument_of(p)) not in ("governing",)
    )
    if "background" in relations and any(
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
