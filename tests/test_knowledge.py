"""Checks on the shipped knowledge base: metadata on every note, well-formed provision ids of known
instruments, and each fact commissioners rely on present next to its provision (one row a fact).
"""

import re
from pathlib import Path

import frontmatter
import pytest

from procguide import provisions as prov
from procguide.ingest.document import DOC_TYPES, JURISDICTIONS
from tests.conftest import KNOWLEDGE

NOTES = sorted(p for p in KNOWLEDGE.glob("*.md") if p.name != "README.md")
# A report has no in-force date; everything else says when the law it describes took effect.
REQUIRED = ("doc_id", "title", "jurisdiction", "doc_type", "url", "provisions", "sources",
            "in_force_from", "updated")
TAG = re.compile(r"<!--\s*provisions\s*:\s*(.*?)\s*-->")


def note_ids(path: Path) -> list[str]:
    post = frontmatter.load(path)
    ids = [str(i) for i in post.metadata.get("provisions") or []]
    for tag in TAG.findall(post.content):
        ids.extend(i for i in re.split(r"[,\s]+", tag) if i)
    return ids


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.name)
def test_every_note_has_the_required_metadata(path):
    meta = frontmatter.load(path).metadata
    required = [k for k in REQUIRED if not (k == "in_force_from" and meta.get("doc_type") == "report")]
    missing = [k for k in required if not meta.get(k)]
    assert not missing, f"{path.name} lacks {missing}"
    assert meta["jurisdiction"] in JURISDICTIONS and meta["doc_type"] in DOC_TYPES
    assert meta["url"].startswith(("https://", "http://"))
    # A source with no official address says so (the seed article about the King's Fund report).
    assert all(s.get("title") and (s.get("url") or s.get("address")) for s in meta["sources"])
    assert bool(meta.get("superseded_by")) == bool(meta.get("superseded_from"))
    if meta.get("superseded_by"):
        assert prov.is_known(str(meta["superseded_by"]))


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.name)
def test_every_section_says_which_provisions_it_is_about(path):
    content = frontmatter.load(path).content
    sections = re.split(r"^## ", content, flags=re.MULTILINE)[1:]
    untagged = [s.splitlines()[0] for s in sections if not TAG.search(s.split("\n\n")[0] + "\n" + s)]
    assert not untagged, f"{path.name}: sections without a provisions tag: {untagged}"


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.name)
def test_every_provision_id_is_well_formed_and_names_a_known_instrument(path):
    bad = [i for i in note_ids(path) if not prov.is_known(i)]
    assert not bad, f"{path.name}: unknown or malformed ids {bad}"


def test_doc_ids_are_unique():
    ids = [frontmatter.load(p).metadata["doc_id"] for p in NOTES]
    assert len(ids) == len(set(ids))


# (fact as a case-insensitive regular expression, the provision it must sit beside)
FACTS = [
    (r"750[  ,]?000", "eu-dir-2014-24:art-4"),
    (r"light.touch", "eu-dir-2014-24:art-74"),
    (r"contract notice|prior information notice", "eu-dir-2014-24:art-75"),
    (r"quarter", "eu-dir-2014-24:art-75"),
    (r"transparency and equal treatment|equal treatment and transparency", "eu-dir-2014-24:art-76"),
    (r"continuity", "eu-dir-2014-24:art-76"),
    (r"best price-quality ratio", "eu-dir-2014-24:art-76"),
    (r"public service mission", "eu-dir-2014-24:art-77"),
    (r"reinvest", "eu-dir-2014-24:art-77"),
    (r"employee ownership|participatory", "eu-dir-2014-24:art-77"),
    (r"three years|3 years", "eu-dir-2014-24:art-77"),
    (r"refer to Article 77", "eu-dir-2014-24:art-77"),
    (r"30 ?%|30 per ?cent", "eu-dir-2014-24:art-20"),
    (r"sheltered", "eu-dir-2014-24:art-20"),
    (r"proportion", "eu-dir-2014-24:art-18"),
    (r"legal form", "eu-dir-2014-24:art-19"),
    (r"distort competition", "eu-dir-2014-24:art-40"),
    (r"main reasons|divide or explain", "eu-dir-2014-24:art-46"),
    (r"twice", "eu-dir-2014-24:art-58"),
    (r"best price-quality ratio", "eu-dir-2014-24:art-67"),
    (r"staff", "eu-dir-2014-24:art-67"),
    (r"social|employment", "eu-dir-2014-24:art-70"),
    (r"80 ?%|80 per ?cent", "eu-dir-2014-24:art-12"),
    (r"without.{0,40}public contracts|licen[cs]", "eu-dir-2014-24:recital-114"),
    (r"continuity of public services", "eu-dir-2014-24:recital-118"),
    (r"three years", "uk-pcr-2015:reg-77"),
    (r"30 ?%|30 per ?cent", "uk-pcr-2015:reg-20"),
    (r"twice", "uk-pcr-2015:reg-58"),
    (r"transparency and equal treatment|equal treatment", "uk-pcr-2015:reg-76"),
    (r"24 February 2025", "uk-pa-2023"),
    (r"five years|5 years", "uk-pa-2023:s-33"),
    (r"three years", "uk-pa-2023:s-33"),
    (r"employees", "uk-pa-2023:s-33"),
    (r"not-for-profit|members", "uk-pa-2023:s-33"),
    (r"30 ?%|30 per ?cent", "uk-pa-2023:s-32"),
    (r"market engagement", "uk-pa-2023:s-16"),
    (r"lots", "uk-pa-2023:s-18"),
    (r"economic, social and environmental well-being", "uk-sva-2012:s-1"),
    (r"Welsh devolved|devolved Welsh", "uk-sva-2012:s-1"),
    (r"social enterprises", "wales-sswba-2014:s-16"),
    (r"user-led", "wales-sswba-2014:s-16"),
    (r"2015/1500", "wales-sswba-2014:s-16"),
    (r"socially responsible procurement", "wales-spppa-2023"),
    (r"1 January 2024", "uk-psr-2023"),
    (r"England", "uk-psr-2023"),
    # Further facts of the brief, and what the law has done since it was written.
    (r"18 April 2016", "eu-dir-2014-24:art-90"),
    (r"time limits|sharing|share", "eu-dir-2014-24:art-41"),
    (r"number of lots|maximum number|limit", "eu-dir-2014-24:art-46"),
    (r"price.{0,20}only|cost.{0,20}only|price or cost alone", "eu-dir-2014-24:art-67"),
    (r"Annex X\b|environmental, social and labour", "eu-dir-2014-24:art-18"),
    (r"performance|subject.matter", "eu-dir-2014-24:art-70"),
    (r"Schedule 1", "uk-pa-2023:s-9"),
    (r"Procurement Regulations 2024", "uk-pa-2023:s-9"),
    (r"consult", "uk-sva-2012:s-1"),
    (r"WPPN 02/21", "uk-pcr-2015:reg-77"),
    (r"WPPN 009", "uk-pa-2023:s-33"),
    (r"no longer binds|stopped binding|no longer bind", "eu-dir-2014-24"),
    (r"24 February 2025", "wales-psr-2025"),
    (r"any qualified provider", "report-kingsfund-2011"),
    (r"primary care trust", "post-dpulo-social-enterprise"),
    (r"Right to Request", "post-dpulo-social-enterprise"),
    (r"support programme", "report-kingsfund-2011"),
    (r"job security", "report-ppiw-2016"),
    (r"Italy", "report-ppiw-2016"),
    (r"consortia", "report-ppiw-2016"),
    (r"track record", "report-ppiw-2016"),
    (r"training", "report-ppiw-2016"),
    (r"Millar", "report-ppiw-2016"),
    (r"Addicott", "report-kingsfund-2011"),
]


def passages_tagged(kb_index, provision: str):
    return [p for p in kb_index.passages() if prov.any_matches(p.provisions, provision)]


@pytest.mark.parametrize("fact, provision", FACTS, ids=[f"{p} {f}" for f, p in FACTS])
def test_each_fact_sits_beside_its_provision(kb_index, fact, provision):
    tagged = passages_tagged(kb_index, provision)
    assert tagged, f"no passage carries {provision}"
    assert any(re.search(fact, p.text, re.IGNORECASE) for p in tagged), f"'{fact}' is not stated beside {provision}"


# --- links, vocabulary and catalogue ----------------------------------------------------------

def test_every_source_link_points_to_the_provision_itself(kb_index):
    """A passage about a provision links to that provision (a section, regulation, schedule
    paragraph or article anchor), never to the whole instrument or to another instrument; a
    passage about a report links to the report."""
    for p in kb_index.passages():
        known = [pid for pid in p.provisions if pid.split(":")[0] in prov.INSTRUMENTS]
        if not known:
            continue
        ordered = [pid for pid in known if ":" in pid] + [pid for pid in known if ":" not in pid]
        linked = [pid for pid in ordered if prov.official_url(pid)]
        assert p.url == (prov.official_url(linked[0]) if linked else ""), (p.doc_id, p.locator, p.url)
        if linked and ":" in linked[0]:
            assert p.url != prov.INSTRUMENTS[linked[0].split(":")[0]].url, (p.doc_id, p.locator)


def test_every_provision_the_vocabulary_points_to_is_in_the_knowledge_base(kb_index):
    from procguide.vocabulary import load_vocabulary

    carried = [pid for p in kb_index.passages() for pid in p.provisions]
    vocabulary = load_vocabulary(KNOWLEDGE / "vocabulary.yaml")
    missing = {
        pid for c in vocabulary.concepts for pid in c.provisions if not prov.any_matches(carried, pid)
        and not any(prov.matches(pid, have) for have in carried)
    }
    assert not missing, f"vocabulary points to provisions no passage carries: {sorted(missing)}"


def test_the_vocabulary_is_well_formed():
    from procguide.context import NATIONS
    from procguide.vocabulary import load_vocabulary

    vocabulary = load_vocabulary(KNOWLEDGE / "vocabulary.yaml")
    kinds = {c.kind for c in vocabulary.concepts}
    assert {"topic", "body", "service", "place", "out-of-scope", "cue"} <= kinds
    for c in vocabulary.concepts:
        assert c.terms or c.acronyms or c.cy, c.id
        if c.kind == "place":
            assert c.nation in NATIONS, c.id
        if c.kind == "service":
            assert c.sector in ("", "health", "social"), c.id
        if c.kind == "out-of-scope":
            assert c.reason, c.id
    assert sum(bool(c.cy) for c in vocabulary.concepts if c.kind == "topic") >= 30  # Welsh terms


def test_the_catalogue_says_to_whom_and_when_each_regime_applies():
    regimes = {i.id: i for i in prov.INSTRUMENTS.values() if i.role in ("procurement", "health")}
    assert set(regimes) == {"eu-dir-2014-24", "uk-pcr-2015", "uk-pa-2023", "uk-psr-2023", "wales-psr-2025"}
    assert regimes["uk-pcr-2015"].applies_before.isoformat() == "2025-02-24"
    assert regimes["uk-pa-2023"].applies_from.isoformat() == "2025-02-24"
    assert regimes["wales-psr-2025"].nations == ("Wales",) and regimes["uk-psr-2023"].nations == ("England",)
