"""The Training tab, for a facilitator running a session: choose a ready session or load your own
scenario file, show the scenarios one at a time, let the room discuss, then reveal procguide's
cited answer with the expected provisions and discussion points; a presenter view in large
text; at the end, the session pack as Word or Markdown. The logic lives in training.py; this is
the page and its state (one `TrainingRun` per browser session).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from procguide.answer.render import escape_markdown, to_markdown
from procguide.answer.result import Answer
from procguide.assistant import Assistant
from procguide.evaluation.questions import QuestionFileError
from procguide.training import (
    Session,
    list_sessions,
    load_scenario_file,
    load_session,
    run_scenario,
    session_pack,
)
from procguide.ui.export import download_file

log = logging.getLogger(__name__)

CHOOSE_FIRST = "Choose a session, or load your own scenario file, to begin."
PRESENTER_CSS = """
.presenter, .presenter p, .presenter li, .presenter h2, .presenter h3 { font-size: 1.75rem !important; line-height: 1.4 !important; }
.presenter h2 { font-size: 2.25rem !important; }
"""


@dataclass
class TrainingRun:
    """Where a facilitator is in a session, and the answers revealed so far."""

    session: Session | None = None
    position: int = 0
    answers: dict[int, Answer] = field(default_factory=dict)
    revealed: bool = False

    def start(self, session: Session) -> TrainingRun:
        return TrainingRun(session=session)

    def move(self, step: int) -> TrainingRun:
        if self.session is not None:
            self.position = max(0, min(len(self.session.scenarios) - 1, self.position + step))
            self.revealed = self.position in self.answers
        return self


def scenario_markdown(run: TrainingRun) -> str:
    """The scenario on screen: its number, its story, and any earlier turns (all from a file: text)."""
    if run.session is None or not run.session.scenarios:
        return escape_markdown(CHOOSE_FIRST)
    scenario = run.session.scenarios[run.position]
    parts = [f"## Scenario {run.position + 1} of {len(run.session.scenarios)}",
             f"*{escape_markdown(run.session.title)}*"]
    for turn in scenario.history:
        who = "Commissioner" if turn["role"] == "user" else "procguide"
        parts.append(f"{who}, earlier: {escape_markdown(turn['content'])}")
    parts.append(f"> {escape_markdown(scenario.question)}")
    parts.append("Note your team's answer, then reveal procguide's.")
    return "\n\n".join(parts)


def reveal_markdown(run: TrainingRun) -> str:
    """procguide's cited answer, the provisions a good answer rests on, and discussion points."""
    if run.session is None or not run.revealed or run.position not in run.answers:
        return ""
    scenario = run.session.scenarios[run.position]
    parts = ["### procguide's answer", to_markdown(run.answers[run.position])]
    if scenario.abstain:
        parts.append("### Expected\n\nThis question is outside what procguide covers: it should decline.")
    elif scenario.expected:
        parts.append("### Expected provisions\n\n" + "\n".join(f"- {escape_markdown(e)}" for e in scenario.expected))
    if scenario.discussion:
        parts.append("### Discussion points\n\n" + "\n".join(f"- {escape_markdown(d)}" for d in scenario.discussion))
    return "\n\n".join(parts)


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
    doc = session_pack(run.session, answer_all(assistant, run), generated=datetime.now(UTC))  # type: ignore[arg-type]
    return download_file(doc, kind, folder)


def training_tab(assistant: Assistant) -> None:
    """The tab's components and events, inside the caller's `gr.Tab`."""
    settings = assistant.settings
    sessions = {f"{s.title} ({s.duration} min)" if s.duration else s.title: s.id for s in list_sessions(settings)}
    run_state = gr.State(TrainingRun())
    with gr.Row():
        chosen = gr.Dropdown(list(sessions), value=None, label="Choose a session", scale=3)
        start = gr.Button("Start the session", variant="primary", scale=1)
    own = gr.File(label="Or load your own scenario file (questions in the eval format, .jsonl)",
                  file_types=[".jsonl"], type="filepath", height=180)
    message = gr.Markdown("", elem_id="training-message")
    presenter = gr.Checkbox(label="Presenter view (large text)", value=False)
    with gr.Column(elem_id="training-stage") as stage:
        scenario = gr.Markdown(escape_markdown(CHOOSE_FIRST), elem_id="training-scenario")
        with gr.Row():
            previous = gr.Button("Previous scenario")
            reveal = gr.Button("Reveal the answer", variant="primary")
            following = gr.Button("Next scenario")
        revealed = gr.Markdown("", elem_id="training-reveal")
    with gr.Row():
        pack_word = gr.Button("Export the session pack (Word)", size="sm")
        pack_md = gr.Button("Export the session pack (Markdown)", size="sm")
    pack = gr.File(label="Session pack", visible=False, interactive=False)

    def shown(run: TrainingRun, note: str = "") -> tuple[TrainingRun, str, str, str]:
        return run, scenario_markdown(run), reveal_markdown(run), escape_markdown(note)

    def on_start(label: str | None, run: TrainingRun) -> tuple[TrainingRun, str, str, str]:
        if not label:
            return shown(run, CHOOSE_FIRST)
        try:
            return shown(run.start(load_session(sessions[label], settings)))
        except (QuestionFileError, KeyError) as exc:
            return shown(run, str(exc))

    def on_upload(path: str | None, run: TrainingRun) -> tuple[TrainingRun, str, str, str]:
        if not path:
            return shown(run)
        try:
            return shown(run.start(load_scenario_file(path, settings)))
        except QuestionFileError as exc:  # named by its file name, not the server's upload folder
            return shown(run, str(exc).replace(str(path), Path(path).name))

    def on_reveal(run: TrainingRun) -> tuple[TrainingRun, str, str, str]:
        if run.session is None:
            return shown(run, CHOOSE_FIRST)
        if run.position not in run.answers:
            try:
                run.answers[run.position] = run_scenario(assistant, run.session.scenarios[run.position])
            except ValueError as exc:
                return shown(run, f"procguide cannot take this scenario as written: {exc}")
        run.revealed = True
        return shown(run)

    def on_pack(run: TrainingRun, kind: str) -> tuple[Any, str]:
        if run.session is None:
            return gr.update(value=None, visible=False), escape_markdown(CHOOSE_FIRST)
        return gr.update(value=str(pack_file(assistant, run, kind)), visible=True), ""

    outputs = [run_state, scenario, revealed, message]
    hidden = {"api_visibility": "private"}
    start.click(on_start, inputs=[chosen, run_state], outputs=outputs, **hidden)
    own.upload(on_upload, inputs=[own, run_state], outputs=outputs, **hidden)
    reveal.click(on_reveal, inputs=[run_state], outputs=outputs, **hidden)
    previous.click(lambda r: shown(r.move(-1)), inputs=[run_state], outputs=outputs, **hidden)
    following.click(lambda r: shown(r.move(1)), inputs=[run_state], outputs=outputs, **hidden)
    presenter.change(lambda on: gr.update(elem_classes=["presenter"] if on else []), inputs=[presenter],
                     outputs=[stage], **hidden)
    pack_word.click(lambda r: on_pack(r, "docx"), inputs=[run_state], outputs=[pack, message], **hidden)
    pack_md.click(lambda r: on_pack(r, "md"), inputs=[run_state], outputs=[pack, message], **hidden)
