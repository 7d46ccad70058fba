"""The string table (issue 10, item 5): every interface string in English and Welsh, plain text,
with the same placeholders in both; `t()` fetches one, falling back to English for a language
procguide does not offer and failing clearly for a name it does not know.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from procguide import provisions as prov
from procguide.answer import abstain, annotate, llm
from procguide.answer.render import DISCLAIMER, LOCAL_LABEL
from procguide.guard import INJECTION_NOTICE
from procguide.ui import export
from procguide.ui.strings import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    SAME_IN_BOTH,
    STRINGS,
    choices,
    examples,
    instrument_name,
    language,
    long_date,
    placeholders,
    t,
)
from procguide.welsh import WELSH_NOTICE, is_welsh

pytestmark = pytest.mark.fast

KEYS = sorted(STRINGS)
# Characters Markdown or HTML would read as markup (or Gradio as LaTeX), once placeholders are
# taken out; the table holds plain text only, so no string is allowed any of them.
MARKUP = re.compile(r"[\\`*_{}\[\]<>#|~&$]|://")
# Line starts that would open a heading, list or quote.
MARKUP_START = re.compile(r"^\s*(?:[-+>#]|\d+[.)])")
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}")


def test_languages_are_english_and_welsh_named_in_themselves():
    assert LANGUAGES == {"en": "English", "cy": "Cymraeg"}
    assert DEFAULT_LANGUAGE == "en"


@pytest.mark.parametrize("key", KEYS)
def test_every_string_has_english_and_welsh(key):
    assert set(STRINGS[key]) == set(LANGUAGES), key
    for lang in LANGUAGES:
        assert STRINGS[key][lang].strip(), (key, lang)
        assert STRINGS[key][lang] == STRINGS[key][lang].strip(), (key, lang)


@pytest.mark.parametrize("key", KEYS)
def test_english_and_welsh_have_the_same_placeholders(key):
    assert placeholders(STRINGS[key]["en"]) == placeholders(STRINGS[key]["cy"]), key


@pytest.mark.parametrize("key", KEYS)
def test_welsh_is_a_translation_not_a_copy(key):
    same = STRINGS[key]["en"] == STRINGS[key]["cy"]
    assert same == (key in SAME_IN_BOTH), key


def test_the_same_in_both_list_names_only_proper_names_that_are_the_same():
    assert SAME_IN_BOTH <= set(STRINGS)
    assert all(STRINGS[key]["en"] == STRINGS[key]["cy"] for key in SAME_IN_BOTH)
    assert SAME_IN_BOTH == {"app.title"}


@pytest.mark.parametrize("key", KEYS)
def test_strings_are_plain_text_without_markup(key):
    for lang, text in STRINGS[key].items():
        bare = PLACEHOLDER.sub("", text)
        assert not MARKUP.search(bare), (key, lang, MARKUP.search(bare))
        assert not MARKUP_START.match(text), (key, lang)
        assert "\n" not in text, (key, lang)


def test_keys_are_stable_lower_case_names():
    for key in KEYS:
        assert re.fullmatch(r"[a-z0-9]+(?:\.[a-z0-9_-]+)+", key), key


def test_t_returns_the_string_in_the_language_asked():
    assert t("answer.sources", "en") == "Sources"
    assert t("answer.sources", "cy") == "Ffynonellau"


def test_t_fills_placeholders():
    filled = t("context.answered_for", "en", summary="Wales · council")
    assert filled == "Answered for: Wales · council."
    assert t("export.exported_on_at", "cy", date="3 Mawrth 2026", time="14:05") == (
        "Allforiwyd ar 3 Mawrth 2026 am 14:05"
    )


def test_t_leaves_values_as_given_for_the_renderer_to_escape():
    filled = t("feedback.error_detail", "en", reason="*locked*")
    assert filled == "Your feedback could not be saved: *locked*"


@pytest.mark.parametrize("lang", ["fr", "", None, "xx-YY", "english"])
def test_t_falls_back_to_english_for_an_unknown_language(lang):
    assert t("answer.sources", lang) == "Sources"


@pytest.mark.parametrize("lang", ["cy", "CY", "cy-GB", "cy_GB"])
def test_t_reads_regional_welsh_codes_as_welsh(lang):
    assert language(lang) == "cy"
    assert t("answer.sources", lang) == "Ffynonellau"


def test_t_defaults_to_english():
    assert t("answer.note") == "Note:"


def test_t_raises_a_clear_key_error_for_an_unknown_key():
    with pytest.raises(KeyError, match="no-such.string"):
        t("no-such.string", "cy")


def test_t_raises_a_clear_key_error_for_a_missing_value():
    with pytest.raises(KeyError, match=r"context\.answered_for.*summary"):
        t("context.answered_for", "cy")


def test_choices_give_stable_codes_with_labels_in_the_language():
    assert choices("nation", "en")[0] == ("Work it out from my question", "auto")
    codes = [code for _, code in choices("nation", "en")]
    assert [code for _, code in choices("nation", "cy")] == codes
    assert dict(choices("nation", "cy"))["Cymru"] == "wales"
    assert [code for _, code in choices("start", "cy")] == ["today", "on_or_after", "before"]


def test_examples_are_offered_in_each_language():
    english, welsh = examples("en"), examples("cy")
    assert len(english) == len(welsh) == 6
    assert not any(is_welsh(q) for q in english)
    assert all(is_welsh(q) for q in welsh)


def test_dates_are_written_out_in_each_language():
    assert long_date(date(2025, 2, 24), "en") == "24 February 2025"
    assert long_date(datetime(2026, 3, 3, 14, 5), "cy") == "3 Mawrth 2026"
    assert [t(f"month.{m}", "cy") for m in (1, 6, 11)] == ["Ionawr", "Mehefin", "Tachwedd"]


def test_instrument_names_in_english_are_the_catalogue_s_short_names():
    named = [key.removeprefix("instrument.") for key in STRINGS if key.startswith("instrument.")]
    assert named
    for instrument in named:
        assert instrument in prov.INSTRUMENTS, instrument
        assert t(f"instrument.{instrument}", "en") == prov.INSTRUMENTS[instrument].short


def test_instrument_names_use_their_welsh_form():
    assert instrument_name("uk-pa-2023", "cy") == "Deddf Caffael 2023"
    assert instrument_name("uk-pcr-2015", "cy") == "Rheoliadau Contractau Cyhoeddus 2015"
    assert instrument_name("report-ppiw-2016", "cy", default="PPIW 2016") == "PPIW 2016"


def test_english_matches_the_wording_the_code_uses_today():
    """Until the answer stages and exports read the table, their English and its English agree."""
    same = {
        "app.disclaimer": DISCLAIMER,
        "answer.local_label": LOCAL_LABEL,
        "answer.not_law": export.NOT_LAW,
        "answer.suggestions": export.SUGGESTIONS_LABEL,
        "notice.injection": INJECTION_NOTICE,
        "notice.directive": annotate.DIRECTIVE_NOTICE,
        "notice.llm_timeout": llm.TIMEOUT_NOTICE,
        "notice.llm_unchecked": llm.UNCHECKED_NOTICE,
        "notice.llm_cut": llm.CUT_NOTICE,
        "decline.not_covered": abstain.NOT_COVERED,
        "decline.only_questions": abstain.ONLY_QUESTIONS,
        "decline.nothing_in_scope": abstain.NOTHING_IN_SCOPE,
        "decline.scotland": abstain.SCOTLAND,
    }
    for key, text in same.items():
        assert t(key, "en") == text, key
    assert WELSH_NOTICE == f"{t('answer.in_english', 'cy')} ({t('answer.in_english', 'en')})"
    assert t("notice.llm_withheld_many", "en", n=3) == llm.withheld_notice(3)


def test_welsh_uses_the_established_terms():
    welsh = " ".join(entry["cy"] for entry in STRINGS.values())
    for term in ("caffael", "comisiynwyr", "mentrau cymdeithasol", "cwmnïau cydfuddiannol",
                 "cydweithfeydd", "contract a gedwir", "y Ddeddf Caffael 2023",
                 "Rheoliadau Contractau Cyhoeddus 2015", "y Drefn Dewis Darparwyr"):
        assert term in welsh, term
    # The vocabulary's unmutated search forms are not how the words are written.
    for wrong in ("a cedwir", "Deddf Caffael Cyhoeddus", "cyfundrefn dethol"):
        assert wrong not in welsh, wrong
