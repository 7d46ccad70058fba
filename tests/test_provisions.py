import pytest

from procguide import provisions as prov


@pytest.mark.parametrize(
    "candidate, expected, result",
    [
        ("eu-dir-2014-24:art-77(2)", "eu-dir-2014-24:art-77", True),
        ("eu-dir-2014-24:art-77", "eu-dir-2014-24:art-77", True),
        ("eu-dir-2014-24:art-77", "eu-dir-2014-24:art-77(2)", False),
        ("eu-dir-2014-24:art-7", "eu-dir-2014-24:art-77", False),
        ("eu-dir-2014-24:art-770", "eu-dir-2014-24:art-77", False),
        ("uk-pa-2023:s-33(5)", "uk-pa-2023", True),
        ("uk-pcr-2015:reg-77", "uk-pa-2023", False),
        ("report-ppiw-2016", "report-ppiw-2016", True),
    ],
)
def test_a_passage_matches_its_own_provision_or_a_more_specific_one(candidate, expected, result):
    assert prov.matches(candidate, expected) is result


@pytest.mark.parametrize("bad", ["art 77", "eu-dir-2014-24:article77", "EU DIR:art-77", ":art-77", "x:art-"])
def test_malformed_ids_are_rejected_with_a_readable_message(bad):
    assert not prov.is_well_formed(bad)
    with pytest.raises(ValueError, match="INSTRUMENT:PART"):
        prov.parse(bad)


def test_ids_are_normalised_to_lower_case_and_trimmed():
    assert prov.normalise(" EU-DIR-2014-24:Art-77(2) ") == "eu-dir-2014-24:art-77(2)"
    assert not prov.is_well_formed("eu-dir-2014-24:art 77")


def test_known_ids_belong_to_a_known_instrument_with_that_kind_of_part():
    assert prov.is_known("eu-dir-2014-24:annex-xiv")
    assert prov.is_known("uk-pa-2023:s-33(6)")
    assert not prov.is_known("uk-pa-2023:art-33")
    assert not prov.is_known("made-up-act:s-1")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("How long can a contract under Article 77(3) last?", [("eu-dir-2014-24", "art-77(3)")]),
        ("What does regulation 77 of the PCR say?", [("uk-pcr-2015", "reg-77")]),
        ("section 33 of the Procurement Act", [("uk-pa-2023", "s-33")]),
        ("Is s. 16 of the SSWB Act relevant?", [("wales-sswba-2014", "s-16")]),
        ("regs 74-76", [(None, "reg-74"), (None, "reg-75"), (None, "reg-76")]),
        ("recital (114) and Annex XIV", [("eu-dir-2014-24", "recital-114"), ("eu-dir-2014-24", "annex-xiv")]),
        ("What did the King's Fund report find?", [("report-kingsfund-2011", None)]),
        ("the Public Contracts Regulations 2015 and Regulation (EU) 2016/679", []),
    ],
)
def test_questions_naming_a_provision_yield_a_reference(text, expected):
    found = [(r.instrument, r.part) for r in prov.find_references(text)]
    assert sorted(found, key=str) == sorted(expected, key=str)


def test_a_reference_without_instrument_matches_that_part_in_any_instrument():
    ref = prov.Reference(None, "s-33")
    assert ref.matches("uk-pa-2023:s-33(2)")
    assert not ref.matches("uk-pa-2023:s-3")


def test_descriptions_and_official_addresses():
    assert prov.describe("uk-pcr-2015:reg-77(1)") == "PCR 2015, Regulation 77(1)"
    assert prov.describe("eu-dir-2014-24:annex-xiv") == "Directive 2014/24/EU, Annex XIV"
    assert prov.official_url("uk-pa-2023:s-33(2)") == "https://www.legislation.gov.uk/ukpga/2023/54/section/33"
    # Every link goes to the provision itself: the article anchor on EUR-Lex, the section,
    # regulation or schedule paragraph on legislation.gov.uk.
    assert prov.official_url("eu-dir-2014-24:art-77") == "https://eur-lex.europa.eu/eli/dir/2014/24/oj/eng#art_77"
    assert prov.official_url("eu-dir-2014-24:recital-114") == "https://eur-lex.europa.eu/eli/dir/2014/24/oj/eng#rct_114"
    assert prov.official_url("uk-pcr-2015:reg-77(1)") == "https://www.legislation.gov.uk/uksi/2015/102/regulation/77"
    assert prov.official_url("uk-pa-2023:sch-2(2)") == "https://www.legislation.gov.uk/ukpga/2023/54/schedule/2/paragraph/2"
    assert prov.official_url("wales-psr-2025:reg-7") == "https://www.legislation.gov.uk/wsi/2025/99/regulation/7"
    assert prov.official_url("report-ppiw-2016") == "http://ppiw.org.uk/ppiw-report"
