"""The Training tab follows the page's language switch (issue 10, item 5): the scenario, the
revealed answer and the tab's messages are written in the language asked, from the string table,
while the sessions' titles and scenarios stay as their files wrote them; the tab's labels and
buttons are registered with the page's `Translations`, and the tab re-renders what is on screen
when the language switches. Fast: no browser, no model (a stand-in answer).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from procguide.answer.result import Answer
from procguide.config import Settings
from procguide.training import Session, load_scenario_file, load_session
from procguide.ui.i18n import Translations, language_radio
from procguide.ui.strings import t
from procguide.ui.training_tab import (
    TrainingRun,
    message_markdown,
    reveal_markdown,
    scenario_markdown,
    session_label,
    training_tab,
)
from tests.conftest import make_settings
from tests.test_training import FOLLOW_UP

pytestmark = pytest.mark.fast

ANSWER = Answer("q", "A reserved contract may last up to five years [1].", [], False)
DECLINED = Answer("q", "procguide's knowledge base does not cover employment law.", [], True)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("training-tab"))  # knowledge/ and its sessions


@pytest.fixture(scope="module")
def session(settings: Settings) -> Session:
    return load_session("reserved-contracts", settings)


def revealed(session: Session, position: int, answer: Answer = ANSWER) -> TrainingRun:
    run = TrainingRun(session=session, position=position)
    run.answers[position] = answer
    run.revealed = True
    return run


def out_of_scope(session: Session) -> int:
    return next(i for i, s in enumerate(session.scenarios) if s.abstain)


def answerable(session: Session) -> int:
    return next(i for i, s in enumerate(session.scenarios) if s.expected and s.discussion)


# The Markdown the handlers build ---------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "cy"])
def test_before_a_session_the_tab_says_what_to_do_first(lang: str) -> None:
    shown = scenario_markdown(TrainingRun(), lang)
    assert shown == t("training.choose_first", lang)
    assert reveal_markdown(TrainingRun(), lang) == ""


def test_what_to_do_first_is_said_in_english_and_in_welsh() -> None:
    assert scenario_markdown(TrainingRun(), "en") == "Choose a session, or load your own scenario file, to begin."
    assert scenario_markdown(TrainingRun(), "cy").startswith("Dewiswch sesiwn")


def test_a_scenario_in_english(session: Session) -> None:
    run = TrainingRun(session=session).move(1)
    md = scenario_markdown(run, "en")
    total = len(session.scenarios)
    assert md.startswith(f"## Scenario 2 of {total}\n\n")
    assert "Note your team's answer, then reveal procguide's." in md
    assert session.scenarios[1].question[:40] in md.replace("\\", "")


def test_a_scenario_in_welsh_keeps_its_title_and_question_as_written(session: Session) -> None:
    run = TrainingRun(session=session).move(1)
    md = scenario_markdown(run, "cy")
    assert md.startswith(f"## Senario 2 o {len(session.scenarios)}\n\n")
    assert "Nodwch ateb eich tîm, yna dangoswch ateb procguide." in md
    assert "Scenario" not in md and "Note your team" not in md
    plain = md.replace("\\", "")
    assert f"*{session.title}*" in plain  # content from the files is not translated
    assert session.scenarios[1].question[:40] in plain


@pytest.mark.parametrize(("lang", "commissioner", "earlier"), [("en", "Commissioner", "earlier"),
                                                               ("cy", "Comisiynydd", "yn gynharach")])
def test_earlier_turns_are_introduced_in_the_language(tmp_path: Path, lang: str, commissioner: str,
                                                      earlier: str) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(FOLLOW_UP) + "\n", encoding="utf-8")
    md = scenario_markdown(TrainingRun(session=load_scenario_file(path)), lang)
    assert f"{commissioner}, {earlier}: How long can a reserved contract last?" in md
    assert f"procguide, {earlier}: Up to five years under section 33 \\[1\\]." in md
    assert "*Scenarios from mine.jsonl*" in md  # a trainer's file keeps its English title (training.py)


def test_a_revealed_answer_in_english(session: Session) -> None:
    i = answerable(session)
    md = reveal_markdown(revealed(session, i), "en")
    assert md.startswith("### procguide's answer\n\n")
    assert "may last up to five years" in md and "pg-clip" in md  # shown as the chat shows it (ui/cards.py)
    assert f"### Expected provisions\n\n- {session.scenarios[i].expected[0]}" in md
    assert "### Discussion points\n\n- " in md


def test_a_revealed_answer_in_welsh_keeps_the_provisions_and_points_as_written(session: Session) -> None:
    i = answerable(session)
    scenario = session.scenarios[i]
    md = reveal_markdown(revealed(session, i), "cy")
    assert md.startswith("### Ateb procguide\n\n")
    assert "### Y darpariaethau disgwyliedig\n\n" in md and "### Pwyntiau trafod\n\n" in md
    assert "Expected" not in md and "Discussion points" not in md
    assert scenario.expected[0] in md and scenario.discussion[0][:30] in md.replace("\\", "")


@pytest.mark.parametrize(("lang", "heading", "decline"), [
    ("en", "### Expected\n\n", "This question is outside what procguide covers: it should decline."),
    ("cy", "### Yr hyn a ddisgwylir\n\n", "dylai wrthod ei ateb."),
])
def test_an_out_of_scope_scenario_expects_a_decline_in_the_language(session: Session, lang: str,
                                                                     heading: str, decline: str) -> None:
    md = reveal_markdown(revealed(session, out_of_scope(session), DECLINED), lang)
    assert heading in md and decline in md


def test_nothing_is_revealed_until_the_answer_is(session: Session) -> None:
    run = TrainingRun(session=session)
    assert reveal_markdown(run, "cy") == ""
    run.answers[0] = ANSWER
    assert reveal_markdown(run, "cy") == ""  # answered for the pack, not yet shown to the room


@pytest.mark.parametrize(("note", "lang", "shown"), [
    (None, "cy", ""),
    (("training.choose_first", {}), "cy", "Dewiswch sesiwn, neu lwythwch eich ffeil senarios eich hun, i ddechrau."),
    (("training.cannot_take", {"reason": "too *long*"}), "en",
     "procguide cannot take this scenario as written: too \\*long\\*"),
    (("training.file_not_loaded", {"reason": "x.jsonl: looks like a PDF document"}), "cy",
     "Ni lwythwyd y ffeil senarios. x.jsonl: looks like a PDF document"),
])
def test_a_message_is_kept_as_its_string_and_said_in_the_language(note: Any, lang: str, shown: str) -> None:
    assert message_markdown(TrainingRun(note=note), lang) == shown


def test_a_session_is_offered_by_its_title_and_length_in_the_language(settings: Settings) -> None:
    info = load_session("reserved-contracts", settings).info
    assert session_label(info, "en") == f"{info.title} ({info.duration} min)"
    assert session_label(info, "cy") == f"{info.title} ({info.duration} munud)"


# The tab as built ------------------------------------------------------------------------------

def build(settings: Settings, lang: str = "en") -> tuple[gr.Blocks, gr.Radio, Translations]:
    assistant: Any = SimpleNamespace(settings=settings)  # building reads only the settings
    with gr.Blocks() as demo:
        radio = language_radio(lang)
        translations = Translations()
        training_tab(assistant, radio, translations)
    return demo, radio, translations


def handler(demo: gr.Blocks, component: Any, event: str) -> Any:
    return next(f for f in demo.fns.values() if (component._id, event) in f.targets)


def test_the_tabs_labels_and_buttons_follow_the_switch(settings: Settings) -> None:
    _, _, translations = build(settings)
    assert len(translations) >= 10
    english, welsh = translations.updates("en"), translations.updates("cy")
    said = {u.get("label") or u.get("value") for u in english}
    assert {"Choose a session", "Start the session", "Reveal the answer", "Next scenario", "Previous scenario",
            "Presenter view (large text)", "Export the session pack (Word)",
            "Export the session pack (Markdown)"} <= said
    welsh_said = {u.get("label") or u.get("value") for u in welsh}
    assert {"Dewiswch sesiwn", "Dechrau'r sesiwn", "Dangos yr ateb", "Y senario nesaf",
            "Golwg y cyflwynydd (testun mawr)", "Allforio pecyn y sesiwn (Word)"} <= welsh_said
    chooser = next(u for u in welsh if u.get("label") == "Dewiswch sesiwn")
    assert [code for _, code in chooser["choices"]] == ["reserved-contracts", "light-touch-act", "wales-duties-psr"]
    assert all(label.endswith("munud)") for label, _ in chooser["choices"])


def test_the_tab_is_built_in_the_pages_language(settings: Settings) -> None:
    demo, _, _ = build(settings, "cy")
    config = demo.get_config_file()
    props = [c.get("props", {}) for c in config["components"]]
    assert any(p.get("value") == "Dechrau'r sesiwn" for p in props)
    assert any(p.get("elem_id") == "training-scenario" and p.get("value", "").startswith("Dewiswch sesiwn")
               for p in props)


def test_every_handler_reads_the_language(settings: Settings) -> None:
    demo, radio, _ = build(settings)
    for fn in demo.fns.values():
        if fn.fn is None or not any(isinstance(i, gr.State) for i in fn.inputs):
            continue
        assert radio in fn.inputs, fn.fn


def test_starting_a_session_speaks_the_language_chosen(settings: Settings) -> None:
    demo, _, _ = build(settings)
    start = next(f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "on_start")
    run, scenario, reveal, message = start.fn("reserved-contracts", TrainingRun(), "cy")
    assert run.session is not None and scenario.startswith("## Senario 1 o ")
    assert reveal == "" and message == ""
    run, scenario, _, message = start.fn(None, TrainingRun(), "cy")
    assert run.session is None and message == t("training.choose_first", "cy")


def test_switching_language_re_renders_the_scenario_on_screen(settings: Settings, session: Session) -> None:
    demo, radio, _ = build(settings)
    switch = handler(demo, radio, "change")
    assert switch.inputs[0] is radio and isinstance(switch.inputs[1], gr.State)
    assert [o.elem_id for o in switch.outputs] == ["training-scenario", "training-reveal", "training-message"]
    run = revealed(session, answerable(session))
    run.note = ("training.choose_first", {})
    scenario, reveal, message = switch.fn("cy", run)
    assert scenario == scenario_markdown(run, "cy") and scenario.startswith("## Senario ")
    assert reveal == reveal_markdown(run, "cy") and reveal.startswith("### Ateb procguide")
    assert message.startswith("Dewiswch sesiwn")
    scenario, reveal, message = switch.fn("en", run)
    assert scenario.startswith("## Scenario ") and reveal.startswith("### procguide's answer")
    assert message.startswith("Choose a session")
