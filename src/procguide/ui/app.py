"""The Gradio chat: answers stream in, each followed by its numbered sources with locator and link.
Holds no retrieval logic: every question goes through `Assistant`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any

import gradio as gr

from procguide.answer.llm import LLMUnavailable
from procguide.answer.render import DISCLAIMER, answer_markdown, escape_markdown, to_markdown
from procguide.answer.result import Answer
from procguide.assistant import Assistant
from procguide.config import Settings, get_settings
from procguide.context import ContextSettings
from procguide.feedback import FeedbackStore
from procguide.guard import QuestionRejected
from procguide.ui import actions
from procguide.ui.actions import Conversation
from procguide.ui.auth import authenticator, exposure_warning
from procguide.ui.theme import with_theme
from procguide.ui.training_tab import PRESENTER_CSS, training_tab

log = logging.getLogger(__name__)

INTERNAL_ERROR = "Something went wrong while answering; please try again. (The details are in the server log.)"
LLM_HINT = "Ask the administrator to check PROCGUIDE_LLM_BASE_URL, or try again later."

EXAMPLES = [
    "We're a Welsh council re-tendering home care. Can we ring-fence it for the staff mutual, and for how long?",
    "ICB re-commissioning community podiatry from April 2026: which rules apply?",
    "Our tender went out in November 2024. How long can a contract reserved for a mutual last?",
    "Can we talk to social enterprises before we advertise the contract?",
    "Beth yw contract a gedwir, ac am faint y gall bara?",
    "What did the PPIW recommend to grow social business models in Wales?",
]
NATIONS = {
    "Work it out from my question": None,
    "Wales": "Wales",
    "England": "England",
    "Northern Ireland": "Northern Ireland",
    "Scotland": "Scotland",
    "An EU Member State": "EU",
}
STARTS = {
    "Today (the default)": None,
    "On or after 24 February 2025": None,
    "Before 24 February 2025": date(2025, 2, 23),
}


def _history(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Chat history as plain role/content pairs (Gradio may hold content as parts)."""
    out = []
    for m in messages or []:
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        if m.get("role") in ("user", "assistant") and isinstance(content, str):
            out.append({"role": m["role"], "content": re.split(r"\n\n(?:\*Answered for|> \*\*Note|\*\*Sources)", content)[0]})
    return out


def context_settings(nation: str | None, started: str | None) -> ContextSettings:
    """The UI's choices as context settings; a choice the UI does not offer is refused."""
    if nation not in (None, *NATIONS) or started not in (None, *STARTS):
        raise ValueError(f"Unknown choice: nation {nation!r}, start {started!r}")
    return ContextSettings(nation=NATIONS.get(nation or ""), started=STARTS.get(started or ""))


def make_respond(assistant: Assistant):
    def respond(
        message: str, history: list[dict[str, Any]], nation: str | None = None, started: str | None = None,
        conversation: Conversation | None = None,
    ) -> Iterator[tuple[str, Conversation]]:
        conversation = conversation if conversation is not None else Conversation()
        text = ""
        try:
            settings = context_settings(nation, started)
            for event in assistant.stream(message, _history(history), context=settings):
                if isinstance(event, Answer):
                    yield to_markdown(event), conversation.add(event, nation, started)
                else:
                    text += event
                    yield answer_markdown(text), conversation  # streamed text is model or document text too
        except (QuestionRejected, ValueError) as exc:
            yield f"**I can't take that question as it is.** {escape_markdown(str(exc))}", conversation
        except LLMUnavailable as exc:
            log.warning("LLM unavailable: %s", exc)
            yield escape_markdown(f"The language model could not be reached. {LLM_HINT}"), conversation
        except Exception:
            # The traceback goes to the log; the user gets one line.
            log.exception("answering %r failed", message[:200])
            yield escape_markdown(INTERNAL_ERROR), conversation

    return respond


def glossary_markdown(assistant: Assistant) -> str:
    """The vocabulary's topics, kinds of organisation and body as a table: what you can say, in
    English and Welsh, and what procguide reads it as."""
    from procguide.answer.render import escape_markdown

    rows = ["| you can say | Cymraeg | procguide reads it as |", "| --- | --- | --- |"]
    for c in assistant.vocabulary.concepts:
        if c.kind not in ("topic", "organisation", "body"):
            continue
        said = ", ".join([*c.terms[:6], *c.acronyms[:3]])
        points = c.label + (f" ({', '.join(c.provisions[:3])})" if c.provisions else "")
        rows.append(f"| {escape_markdown(said)} | {escape_markdown(', '.join(c.cy[:4]))} | {escape_markdown(points)} |")
    return "\n".join(rows)


def feedback_and_export(assistant: Assistant, chatbot: gr.Chatbot, conversation: gr.State) -> None:
    """Thumbs on each answer and a comment on the one rated (ui/actions.py, into the feedback
    store), and the conversation as a Markdown or Word download."""
    store = FeedbackStore.for_settings(assistant.settings)

    def on_like(messages: list[dict[str, Any]], state: Conversation, like: gr.LikeData) -> str:
        return escape_markdown(actions.rate(store, assistant.settings, state, messages, like.index, like.liked))

    def on_comment(text: str, state: Conversation) -> tuple[str, str]:
        said = actions.comment(store, state, text)
        return escape_markdown(said), "" if said == actions.FEEDBACK_SAVED else text

    def on_export(state: Conversation, kind: str) -> Any:
        path = actions.export(state, "docx" if kind == "docx" else "md")
        if path is None:
            return gr.update(value=None, visible=False), escape_markdown(actions.NOTHING_TO_EXPORT)
        return gr.update(value=str(path), visible=True), ""

    with gr.Row():
        comment_box = gr.Textbox(label="Comment on the answer you rated (optional)", max_lines=3, scale=4,
                                 placeholder="What was wrong or missing? Please leave out names.")
        send_comment = gr.Button("Send comment", scale=1, size="sm")
    status = gr.Markdown("", elem_id="feedback-status")
    with gr.Row():
        as_markdown = gr.Button("Download the conversation (Markdown)", size="sm")
        as_word = gr.Button("Download the conversation (Word)", size="sm")
    download = gr.File(label="Your download", visible=False, interactive=False)
    chatbot.like(on_like, inputs=[chatbot, conversation], outputs=[status], api_visibility="private")
    for trigger in (send_comment.click, comment_box.submit):
        trigger(on_comment, inputs=[comment_box, conversation], outputs=[status, comment_box],
                api_visibility="private")
    as_markdown.click(lambda s: on_export(s, "md"), inputs=[conversation], outputs=[download, status],
                      api_visibility="private")
    as_word.click(lambda s: on_export(s, "docx"), inputs=[conversation], outputs=[download, status],
                  api_visibility="private")


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The Blocks, queued for several users at once (see `launch_options`)."""
    settings = assistant.settings
    # Gradio's copies of downloads are removed after an hour.
    with gr.Blocks(title="procguide", delete_cache=(1800, 3600)) as demo:
        gr.Markdown(
            elem_id="service-header",
            value="# procguide\n"
            "Ask how procurement law lets you commission health and social care with social "
            "enterprises, co-operatives, mutuals, staff spin-outs and user-led organisations. "
            "Every answer cites the provisions it rests on.\n\n"
            f"*{DISCLAIMER}*"
        )
        with gr.Tab("Ask procguide", id="ask"):
            with gr.Row():
                nation = gr.Dropdown(
                    list(NATIONS), value=next(iter(NATIONS)), label="Your nation",
                    info="Which law governs you depends on where you are",
                )
                started = gr.Dropdown(
                    list(STARTS), value=next(iter(STARTS)), label="When the procurement started",
                    info="Procurements started before 24 February 2025 stay under PCR 2015",
                )
            conversation = gr.State(Conversation())
            chatbot = gr.Chatbot(label="Conversation", height=520, sanitize_html=True,
                             feedback_options=("Like", "Dislike"), buttons=["copy", "copy_all"])
            gr.ChatInterface(
                fn=make_respond(assistant),
                additional_inputs=[nation, started, conversation],
                additional_outputs=[conversation],
                examples=[[q, next(iter(NATIONS)), next(iter(STARTS))] for q in EXAMPLES],
                cache_examples=False,
                chatbot=chatbot,
                textbox=gr.Textbox(label="Your question",
                                   placeholder="Ask about reserved contracts, the light-touch regime ...",
                                   max_lines=6, submit_btn=True),
                api_name="respond",
                flagging_mode="never",
                # A question waiting on a slow LLM holds one slot; the others answer meanwhile.
                concurrency_limit=settings.ui_concurrency,
            )
            feedback_and_export(assistant, chatbot, conversation)
            with gr.Accordion("Words procguide understands (glossary)", open=False):
                gr.Markdown(glossary_markdown(assistant))
        with gr.Tab("Training", id="training"):
            training_tab(assistant)
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    return demo


def launch_options(settings: Settings) -> dict[str, Any]:
    """Options for `Blocks.launch`: no public share, Gradio's upload route (used only for a
    trainer's scenario file) limited to `ui_max_upload`, the page's styles, and the login when
    PROCGUIDE_AUTH is set."""
    options = {"share": False, "max_file_size": settings.ui_max_upload, "show_error": False,
               "css": PRESENTER_CSS}
    check = authenticator(settings)  # AuthError says what to fix in PROCGUIDE_AUTH
    if check is not None:
        options |= {"auth": check, "auth_message": "Sign in with the name and password your administrator gave you."}
    return with_theme(options)


def launch(host: str | None = None, port: int | None = None, assistant: Assistant | None = None) -> None:
    settings = get_settings()
    options = launch_options(settings)  # first: a login that cannot be used stops here, at once
    assistant = assistant or Assistant(settings)
    # Load the index and the model (and choose the LLM's checker) before the first question.
    reason = assistant.warm_up(wait=False)
    if reason:
        print(f"Answers from {settings.llm_model} are checked by the {reason}")
    warning = exposure_warning(host or settings.host, "auth" in options)
    if warning:
        log.warning(warning)
        print(warning, file=sys.stderr)
    build_ui(assistant).launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        **options,
    )
