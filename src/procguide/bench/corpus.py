"""A synthetic, legal-style corpus for the bench: councils' commissioning guidance notes, written as
the Markdown files with front matter that `procguide ingest` reads, so the bench ingests them by
the same path a council's own documents take.

Each passage is one `##` section: a heading, a `<!-- provisions: ... -->` tag with one to three
provision ids drawn from the catalogue's instruments (sections, regulations, articles, recitals,
annexes and schedules, some with paragraph numbers), and four to seven sentences built from
templates over a vocabulary of procurement terms that name the same provisions in words.

Deterministic: passage i depends only on the seed and i, and document j only on the seed and j,
so a corpus of 1,000 passages is the first 1,000 passages of one of 10,000 (cached vectors carry
over from size to size).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from procguide import provisions as prov

PASSAGES_PER_DOCUMENT = 50
MAX_PASSAGE_CHARS = 1000  # under the splitter's 1200, so each section is exactly one passage

# The highest part number used per kind, with instrument-specific limits where an instrument is
# short; annexes are written in Roman numerals.
_MAX_PART = {"art": 94, "recital": 138, "annex": 15, "reg": 122, "s": 127, "sch": 11}
_MAX_PART_BY_INSTRUMENT = {
    ("uk-sva-2012", "s"): 4,
    ("uk-psr-2023", "reg"): 27,
    ("uk-psr-2023", "sch"): 2,
    ("wales-psr-2025", "reg"): 30,
    ("wales-psr-2025", "sch"): 2,
    ("wales-spppa-2023", "s"): 48,
    ("wales-spppa-2023", "sch"): 2,
    ("wales-sswba-2014", "s"): 197,
    ("wales-sswba-2014", "sch"): 3,
    ("uk-pcr-2015", "sch"): 6,
}
_KIND_WEIGHTS = {"art": 6, "recital": 1, "annex": 1, "reg": 6, "s": 6, "sch": 1}
_PARAGRAPHED = ("art", "reg", "s")

_PLACE_START = ("Ash", "Bryn", "Cold", "Elm", "Fair", "Glen", "High", "Long", "Mill", "North",
                "Oak", "Red", "South", "Stone", "West", "Wood", "Aber", "Llan", "Pen", "Brook")
_PLACE_END = ("ford", "ham", "ley", "bury", "field", "mouth", "wick", "ton", "dale", "gate",
              "well", "cote")
_BODY_KINDS = ("County Council", "Borough Council", "City Council", "Metropolitan Borough Council",
               "Integrated Care Board", "University Health Board", "Combined Authority")
_BODIES = ("county council", "borough council", "unitary authority", "integrated care board",
           "health board", "combined authority", "NHS trust", "joint commissioning unit")
_SERVICES = ("domiciliary care", "supported living", "reablement", "community mental health support",
             "day opportunities", "carers' respite", "extra care housing", "independent advocacy",
             "drug and alcohol recovery services", "homelessness outreach", "home adaptations",
             "community equipment", "care home placements", "learning disability day services",
             "social prescribing", "children's short breaks", "falls prevention",
             "hospital discharge support", "meals on wheels", "befriending services")
_PROVIDERS = ("public service mutual", "co-operative", "social enterprise",
              "community interest company", "supported employment provider", "registered charity",
              "consortium of small providers", "employee-owned company", "user-led organisation",
              "community benefit society")
_ACTIONS = ("reserve the contract", "run a competitive flexible procedure", "make a direct award",
            "set award criteria that weigh quality above price", "divide the contract into lots",
            "apply the light touch regime", "run preliminary market engagement",
            "set proportionate conditions of participation", "modify the contract",
            "extend the contract term", "award the contract to a consortium",
            "use a dynamic market", "establish a framework agreement")
_NOTICES = ("tender notice", "contract notice", "prior information notice",
            "transparency notice", "contract award notice", "contract details notice",
            "preliminary market engagement notice", "planned procurement notice")
_CRITERIA = ("continuity of care", "user involvement", "social value", "workforce stability",
             "quality of the service", "innovation", "accessibility", "local employment",
             "environmental impact", "value for money")
_CONDITIONS = ("the organisation's objective is the pursuit of a public service mission",
               "profits are reinvested to achieve the organisation's objective",
               "the management is based on employee ownership or participatory principles",
               ("the organisation has not been awarded a reserved contract for the same services "
               "in the last three years"),
               "the change does not alter the overall nature of the contract",
               "the increase in value stays within ten per cent of the original value",
               "the supplier meets the conditions of participation at the time of award")
_KPIS = ("the share of visits made on time", "staff turnover", "the number of missed calls",
         "outcomes reported by people who use the service", "response times to referrals",
         "the proportion of local staff employed")
_SOCIAL_VALUE = ("apprenticeships for care leavers", "local employment", "volunteering hours",
                 "carbon reduction", "support for unpaid carers", "community wealth building")
_TOPICS = ("reserved contracts", "light touch services", "award criteria", "lots",
           "conditions of participation", "market engagement", "contract modifications",
           "direct awards", "social value", "provider selection", "contract performance",
           "consortia and joint bids", "thresholds", "notices and standstill")

_TEMPLATES = (
    ("Under {ref}, a {body} may {action} when it buys {service}, provided the decision is recorded "
    "before the {notice} is published."),
    ("{Ref} requires the contracting authority to set out in the {notice} how {criterion} will be "
    "weighed against price for {service}."),
    ("Where a {provider} bids for {service}, the authority should check against {ref} that "
    "{condition}."),
    ("A contract for {service} reserved under {ref} may last no longer than {years} years, and the "
    "same {provider} cannot be awarded a further reserved contract for the same services within "
    "that period."),
    ("The standstill period under {ref} is {days} working days, and a {body} should not enter into "
    "the contract for {service} until it has ended."),
    ("Officers commissioning {service} should record in the procurement file why {ref} applies and "
    "which award criteria, such as {criterion}, were used."),
    ("In {year}, the {body} applied {ref} to {service} and set a minimum turnover of no more than "
    "{mult} times the estimated annual value."),
    ("{Ref} does not prevent a {body} from dividing {service} into {lots} lots by locality, so that "
    "a {provider} can bid for one area only."),
    ("If the estimated value of {service} is below the threshold of £{amount}, {ref} does not "
    "apply, but the {body} must still act transparently."),
    "The key performance indicators published under {ref} for {service} include {kpi}.",
    ("At least {pct} per cent of the workforce of a {provider} must be disabled or disadvantaged "
    "for a reservation under {ref}."),
    ("Preliminary market engagement under {ref} lets a {body} talk to each {provider} about "
    "{service} before it publishes a {notice}, provided no supplier is put at an unfair advantage."),
    "A modification to a contract for {service} is permitted under {ref} only where {condition}.",
    ("Social value, such as {social}, may be included as an award criterion under {ref} where it "
    "relates to the subject matter of the contract for {service}."),
    ("Before 24 February 2025, a {body} procuring {service} would have relied on {ref} rather than "
    "the new rules."),
    ("The {body} must publish a {notice} under {ref} within {days} days of entering into the "
    "contract for {service}."),
    ("Conditions of participation under {ref} must be proportionate, so a {body} should not require "
    "a {provider} to hold insurance of more than £{amount} for {service}."),
    ("A {provider} may join others to bid for {service} without first forming a legal entity, as "
    "{ref} allows the authority to require a structure only once the contract is awarded."),
    ("Guidance issued with {ref} suggests that {service} be commissioned over {years} years to give "
    "continuity of care to the people who use it."),
    ("Where no suitable tenders are received for {service}, {ref} permits a direct award, and the "
    "{body} must publish a {notice} first."),
)


@dataclass(frozen=True)
class SyntheticPassage:
    number: int  # position in the corpus, from 0
    doc_id: str
    heading: str
    provisions: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class SyntheticDocument:
    doc_id: str
    title: str
    jurisdiction: str
    instrument: str
    updated: str


@dataclass(frozen=True)
class CorpusFiles:
    folder: Path
    documents: int
    passages: int
    bytes: int


def legal_instruments(catalogue: Mapping[str, prov.Instrument]) -> list[prov.Instrument]:
    """The catalogue's instruments that have parts (the Acts, regulations and the Directive)."""
    return [inst for inst in catalogue.values() if inst.part_kinds]


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + numeral, n - value
    return out


def _provision(rng: random.Random, inst: prov.Instrument) -> tuple[str, str]:
    """(provision id, how a sentence names it): ('uk-pa-2023:s-33(2)', 'section 33(2) of the
    Procurement Act 2023')."""
    kinds = list(inst.part_kinds)
    kind = rng.choices(kinds, weights=[_KIND_WEIGHTS.get(k, 1) for k in kinds])[0]
    top = _MAX_PART_BY_INSTRUMENT.get((inst.id, kind), _MAX_PART.get(kind, 20))
    value = rng.randint(1, top)
    number = _roman(value) if kind == "annex" else str(value)
    paragraphs: tuple[str, ...] = ()
    if kind in _PARAGRAPHED and rng.random() < 0.5:
        paragraphs = (str(rng.randint(1, 6)),)
        if rng.random() < 0.25:
            paragraphs += (rng.choice("abcdef"),)
    pid = prov.make_id(inst.id, kind, number, paragraphs)
    locator = prov.locator_for(kind, number, paragraphs)
    return pid, f"{locator[0].lower()}{locator[1:]} of {inst.short}"


def document(seed: int, j: int, catalogue: Mapping[str, prov.Instrument]) -> SyntheticDocument:
    """Document j of the corpus (its passages are numbers j*50 to j*50+49)."""
    rng = random.Random(f"{seed}:doc:{j}")
    inst = rng.choice(legal_instruments(catalogue))
    place = rng.choice(_PLACE_START) + rng.choice(_PLACE_END)
    body = f"{place} {rng.choice(_BODY_KINDS)}"
    topic = rng.choice(_TOPICS)
    return SyntheticDocument(
        doc_id=f"bench-{seed}-{j:05d}",
        title=f"{body} commissioning guidance {j + 1}: {topic} under {inst.short}",
        jurisdiction=inst.jurisdiction if inst.jurisdiction in ("EU", "UK", "England", "Wales") else "UK",
        instrument=inst.id,
        updated=f"20{rng.randint(19, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    )


def passage(seed: int, i: int, catalogue: Mapping[str, prov.Instrument]) -> SyntheticPassage:
    """Passage i of the corpus: a heading, its provision ids and four to seven sentences."""
    doc = document(seed, i // PASSAGES_PER_DOCUMENT, catalogue)
    rng = random.Random(f"{seed}:passage:{i}")
    instruments = legal_instruments(catalogue)
    main = catalogue[doc.instrument]
    refs = [_provision(rng, main if rng.random() < 0.75 else rng.choice(instruments))
            for _ in range(rng.randint(1, 3))]
    ids = tuple(dict.fromkeys(pid for pid, _ in refs))
    service = rng.choice(_SERVICES)
    heading = (f"{rng.choice(_TOPICS).capitalize()} for {service} "
               f"({refs[0][1].split(' of ')[0]}, note {i % PASSAGES_PER_DOCUMENT + 1})")
    sentences: list[str] = []
    length = 0
    for _ in range(rng.randint(4, 7)):
        ref = rng.choice(refs)[1]
        sentence = rng.choice(_TEMPLATES).format(
            ref=ref, Ref=ref[0].upper() + ref[1:], body=rng.choice(_BODIES),
            action=rng.choice(_ACTIONS), service=rng.choice((service, rng.choice(_SERVICES))),
            notice=rng.choice(_NOTICES), criterion=rng.choice(_CRITERIA),
            provider=rng.choice(_PROVIDERS), condition=rng.choice(_CONDITIONS),
            years=rng.randint(2, 7), days=rng.choice((5, 8, 10, 30)), year=rng.randint(2016, 2026),
            mult=rng.choice(("two", "three")), lots=rng.randint(2, 9),
            amount=f"{rng.randint(60, 900) * 1000:,}", kpi=rng.choice(_KPIS),
            pct=rng.choice((30, 51)), social=rng.choice(_SOCIAL_VALUE),
        )
        if sentences and length + len(sentence) + 1 > MAX_PASSAGE_CHARS:
            break
        sentences.append(sentence)
        length += len(sentence) + 1
    # A reference number keeps every passage's text distinct, as in a real note.
    sentences.append(f"(Ref. {doc.doc_id.upper()}/{i % PASSAGES_PER_DOCUMENT + 1:02d})")
    return SyntheticPassage(i, doc.doc_id, heading, ids, _articles(" ".join(sentences)))


_AN_RE = re.compile(r"\b([Aa]) (?=[aeioAEIO]|NHS\b)")


def _articles(text: str) -> str:
    """'a employee-owned company' -> 'an employee-owned company' (not before 'u': 'a user-led')."""
    return _AN_RE.sub(lambda m: m.group(1) + "n ", text)


def passages(n: int, seed: int, catalogue: Mapping[str, prov.Instrument]) -> Iterator[SyntheticPassage]:
    for i in range(n):
        yield passage(seed, i, catalogue)


def document_markdown(doc: SyntheticDocument, items: list[SyntheticPassage]) -> str:
    """One note as `procguide ingest` reads it: front matter, a title, one `##` section per passage."""
    lines = [
        "---",
        f"doc_id: {doc.doc_id}",
        f'title: "{doc.title}"',
        f"jurisdiction: {doc.jurisdiction}",
        "doc_type: guidance",
        f"provisions: [{doc.instrument}]",
        f"updated: {doc.updated}",
        "---",
        "",
        f"# {doc.title}",
        "",
    ]
    for item in items:
        lines += [f"## {item.heading}", f"<!-- provisions: {', '.join(item.provisions)} -->", "",
                  item.text, ""]
    return "\n".join(lines)


def write_corpus(
    folder: Path, n: int, seed: int, catalogue: Mapping[str, prov.Instrument]
) -> CorpusFiles:
    """Write n passages as notes of 50 sections each into `folder` (replacing its notes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("bench-*.md"):
        old.unlink()
    size = documents = 0
    for j in range((n + PASSAGES_PER_DOCUMENT - 1) // PASSAGES_PER_DOCUMENT):
        first = j * PASSAGES_PER_DOCUMENT
        items = [passage(seed, i, catalogue) for i in range(first, min(n, first + PASSAGES_PER_DOCUMENT))]
        doc = document(seed, j, catalogue)
        text = document_markdown(doc, items)
        (folder / f"{doc.doc_id}.md").write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
        documents += 1
    return CorpusFiles(folder, documents, n, size)
