"""The Training tab, for a facilitator running a session: choose a ready session or load your own
scenario file, show the scenarios one at a time, let the room discuss, then reveal procguide's
cited answer with the expected provisions and discussion points; a presenter view in large
text; at the end, the session pack as Word or Markdown. The logic lives in training.py; this is
the page and its state (one `TrainingRun` per browser session).

Every fixed string comes from strings.py in the page's language and follows the language switch:
labels and buttons through the page's `Translations`; the scenario, the revealed answer and the
message, which depend on the session's `TrainingRun`, through the tab's own handler on the
switch. The sessions' titles and scenarios are content from files and stay as written, and so do
the details of a refused file (training.py words them in English); procguide's answer is shown as
in the chat (ui/cards.py), its fixed phrases in the page's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from procguide.answer.render import escape_markdown
from procguide.answer.result import Answer
from procguide.assistant import Assistant
from procguide.evaluation.questions import QuestionFileError
from procguide.training import (
    Session,
    SessionInfo,
    list_sessions,
    load_scenario_file,
    load_session,
    run_scenario,
    session_pack,
)
from procguide.ui import cards
from procguide.ui.export import download_file
from procguide.ui.i18n import Translations
from procguide.ui.strings import language as known_language
from procguide.ui.strings import t

log = logging.getLogger(__name__)

CHOOSE_FIRST = "training.choose_first"  # the string's key: what to do before anything else
PRESENTER_CSS = """
.presenter, .presenter p, .presenter li, .presenter h2, .presenter h3 { font-size: 1.75rem !important; line-height: 1.4 !important; }
.presenter h2 { font-size: 2.25rem !important; }
"""

# A message as the key of its string and the values it is filled with, so it can be said again
# in the other language.
Note = tuple[str, dict[str, str]]


@dataclass
class TrainingRun:
    """Where a facilitator is in a session, the answers revealed so far, and the message shown."""

    session: Session | None = None
    position: int = 0
    answers: dict[int, Answer] = field(default_factory=dict)
    revealed: bool = False
    note: Note | None = None

    def start(self, session: Session) -> TrainingRun:
        return TrainingRun(session=session)

    def move(self, step: int) -> TrainingRun:
        if self.session is not None:
            self.position = max(0, min(len(self.session.scenarios) - 1, self.position + step))
            self.revealed = self.position in self.answers
        return self


def session_label(info: SessionInfo, lang: str) -> str:
    """A ready session as the dropdown offers it: its title (as written) and its length."""
    return t("training.session_choice", lang, title=info.title, minutes=info.duration) if info.duration else info.title


def scenario_markdown(run: TrainingRun, lang: str) -> str:
    """The scenario on screen: its number, its story, and any earlier turns (all from a file: text)."""
    if run.session is None or not run.session.scenarios:
        return escape_markdown(t(CHOOSE_FIRST, lang))
    scenario = run.session.scenarios[run.position]
    number = t("training.scenario_n", lang, n=run.position + 1, total=len(run.session.scenarios))
    parts = [f"## {escape_markdown(number)}", f"*{escape_markdown(run.session.title)}*"]
    for turn in scenario.history:
        who = t("training.commissioner", lang) if turn["role"] == "user" else "procguide"
        parts.append(escape_markdown(t("training.earlier_turn", lang, who=who, text=turn["content"])))
    parts.append(f"> {escape_markdown(scenario.question)}")
    parts.append(escape_markdown(t("training.note_team", lang)))
    return "\n\n".join(parts)


def reveal_markdown(run: TrainingRun, lang: str) -> str:
    """procguide's cited answer, the provisions a good answer rests on, and discussion points."""
    if run.session is None or not run.revealed or run.position not in run.answers:
        return ""
    scenario = run.session.scenarios[run.position]

    def heading(key: str) -> str:
        return f"### {escape_markdown(t(key, lang))}"

    answer = cards.answer_message(run.answers[run.position], lang, f"t{run.position + 1}", changeable=False)
    parts = [heading("training.answer_heading"), answer]
    if scenario.abstain:
        parts.append(f"{heading('training.expected_heading')}\n\n{escape_markdown(t('training.should_decline', lang))}")
    elif scenario.expected:
        parts.append(f"{heading('training.expected')}\n\n" + "\n".join(f"- {escape_markdown(e)}" for e in scenario.expected))
    if scenario.discussion:
        parts.append(f"{heading('training.discussion')}\n\n" + "\n".join(f"- {escape_markdown(d)}" for d in scenario.discussion))
    return "\n\n".join(parts)


def message_markdown(run: TrainingRun, lang: str) -> str:
    """The message last shown (what to do first, or why a session or file was refused), if any."""
    if run.note is None:
        return ""
    key, values = run.note
    return escape_markdown(t(key, lang, **values))


def answer_all(assistant: Assistant, run: TrainingRun) -> list[tuple[Any, Answer | None]]:
    """Every scenario with its answer, asking procguide for those not yet revealed."""
    assert run.session is not None
    out = []
    for i, scenario in enumerate(run.session.scenarios):
        if i not in run.answers:
            try:
                run.answers[i] = run_scenario(assistant, scenario)
            except ValueError as exc:  # a question the assistant cannot take as written
                log.warning("training scenario %s not answered: %s", scenario.id, exc)
        out.append((scenario, run.answers.get(i)))
    return out


def pack_file(assistant: Assistant, run: TrainingRun, kind: str, folder: Path | None = None) -> Path:
    """The session pack as a file to download. The pack is a document and stays in English
    whatever the page's language (training.session_pack words it)."""
    doc = session_pack(run.session, answer_all(assistant, run), generated=datetime.now(UTC))  # type: ignore[arg-type]
    return download_file(doc, kind, folder)


def training_tab(assistant: Assistant, language: gr.Radio, translations: Translations) -> None:
    """The tab's components and events, inside the caller's `gr.Tab`. `language` is the page's
    language switch: the tab's handlers read it, and its labels are registered with
    `translations`, which the page sends on a switch."""
    settings = assistant.settings
    lang = known_language(language.value)  # the language the page is built in
    infos = list_sessions(settings)

    def session_choices(lang: str) -> list[tuple[str, str]]:
        return [(session_label(info, lang), info.id) for info in infos]

    run_state = gr.State(TrainingRun())
    with gr.Row():
        chosen = gr.Dropdown(session_choices(lang), value=None, label=t("training.choose", lang), scale=3)
        start = gr.Button(t("training.start", lang), variant="primary", scale=1)
    own = gr.File(label=t("training.upload", lang), file_types=[".jsonl"], type="filepath", height=180)
    message = gr.Markdown("", elem_id="training-message")
    presenter = gr.Checkbox(label=t("training.presenter", lang), value=False)
    with gr.Column(elem_id="training-stage") as stage:
        scenario = gr.Markdown(scenario_markdown(TrainingRun(), lang), elem_id="training-scenario")
        with gr.Row():
            previous = gr.Button(t("training.previous", lang))
            reveal = gr.Button(t("training.reveal", lang), variant="primary")
            following = gr.Button(t("training.next", lang))
        revealed = gr.Markdown("", elem_id="training-reveal")
    with gr.Row():
        pack_word = gr.Button(t("training.export_word", lang), size="sm")
        pack_md = gr.Button(t("training.export_markdown", lang), size="sm")
    pack = gr.File(label=t("training.pack_file", lang), visible=False, interactive=False)

    translations.add(chosen, lambda lang: gr.update(label=t("training.choose", lang), choices=session_choices(lang)))
    translations.text(start, "training.start", "value")
    translations.text(own, "training.upload")
    translations.text(presenter, "training.presenter")
    translations.text(previous, "training.previous", "value")
    translations.text(reveal, "training.reveal", "value")
    translations.text(following, "training.next", "value")
    translations.text(pack_word, "training.export_word", "value")
    translations.text(pack_md, "training.export_markdown", "value")
    translations.text(pack, "training.pack_file")

    def shown(run: TrainingRun, lang: str, note: Note | None = None) -> tuple[TrainingRun, str, str, str]:
        run.note = note
        return run, scenario_markdown(run, lang), reveal_markdown(run, lang), message_markdown(run, lang)

    def on_start(session_id: str | None, run: TrainingRun, lang: str) -> tuple[TrainingRun, str, str, str]:
        if not session_id:
            return shown(run, lang, (CHOOSE_FIRST, {}))
        try:
            return shown(run.start(load_session(session_id, settings)), lang)
        except QuestionFileError as exc:
            return shown(run, lang, ("training.session_not_started", {"reason": str(exc)}))

    def on_upload(path: str | None, run: TrainingRun, lang: str) -> tuple[TrainingRun, str, str, str]:
        if not path:
            return shown(run, lang)
        try:
            return shown(run.start(load_scenario_file(path, settings)), lang)
        except QuestionFileError as exc:  # named by its file name, not the server's upload folder
            return shown(run, lang, ("training.file_not_loaded", {"reason": str(exc).replace(str(path), Path(path).name)}))

    def on_reveal(run: TrainingRun, lang: str) -> tuple[TrainingRun, str, str, str]:
        if run.session is None:
            return shown(run, lang, (CHOOSE_FIRST, {}))
        if run.position not in run.answers:
            try:
                run.answers[run.position] = run_scenario(assistant, run.session.scenarios[run.position])
            except ValueError as exc:
                return shown(run, lang, ("training.cannot_take", {"reason": str(exc)}))
        run.revealed = True
        return shown(run, lang)

    def on_pack(run: TrainingRun, lang: str, kind: str) -> tuple[Any, str, TrainingRun]:
        if run.session is None:
            run.note = (CHOOSE_FIRST, {})
            return gr.update(value=None, visible=False), message_markdown(run, lang), run
        run.note = None
        return gr.update(value=str(pack_file(assistant, run, kind)), visible=True), "", run

    def on_language(lang: str, run: TrainingRun) -> tuple[str, str, str]:
        """The scenario, the revealed answer and the message again, in the language switched to."""
        return scenario_markdown(run, lang), reveal_markdown(run, lang), message_markdown(run, lang)

    outputs = [run_state, scenario, revealed, message]
    hidden = {"api_visibility": "private"}
    start.click(on_start, inputs=[chosen, run_state, language], outputs=outputs, **hidden)
    own.upload(on_upload, inputs=[own, run_state, language], outputs=outputs, **hidden)
    reveal.click(on_reveal, inputs=[run_state, language], outputs=outputs, **hidden)
    previous.click(lambda r, lang: shown(r.move(-1), lang), inputs=[run_state, language], outputs=outputs, **hidden)
    following.click(lambda r, lang: shown(r.move(1), lang), inputs=[run_state, language], outputs=outputs, **hidden)
    presenter.change(lambda on: gr.update(elem_classes=["presenter"] if on else []), inputs=[presenter],
                     outputs=[stage], **hidden)
    pack_word.click(lambda r, lang: on_pack(r, lang, "docx"), inputs=[run_state, language],
                    outputs=[pack, message, run_state], **hidden)
    pack_md.click(lambda r, lang: on_pack(r, lang, "md"), inputs=[run_state, language],
                  outputs=[pack, message, run_state], **hidden)
    language.change(on_language, inputs=[language, run_state], outputs=[scenario, revealed, message],
                    queue=False, **hidden)
