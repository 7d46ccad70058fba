"""The "Ask procguide" tab: the assumed context (nation, start date) as controls above the chat,
an opening panel saying what procguide covers with example questions that send at once, answers
streaming in with a source card per [n] (ui/cards.py), declines offering their nearest topics
as questions to click, thumbs and a comment on each answer, and the conversation as a download.
Holds no retrieval logic: every question goes through `Assistant`; every fixed string comes
from strings.py in the language the page is switched to.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import gradio as gr

from procguide.answer.llm import LLMUnavailable
from procguide.answer.render import answer_markdown, escape_markdown, to_markdown
from procguide.answer.result import Answer
from procguide.assistant import Assistant
from procguide.context import ContextSettings
from procguide.feedback import FeedbackStore
from procguide.guard import QuestionRejected
from procguide.ui import actions, cards
from procguide.ui.actions import Conversation
from procguide.ui.i18n import Translations
from procguide.ui.strings import STRINGS, choices, examples, t

log = logging.getLogger(__name__)
T = TypeVar("T")

# The choices' codes, whatever language their labels are shown in, and what each means.
NATIONS: dict[str, str | None] = {
    "auto": None, "wales": "Wales", "england": "England", "northern_ireland": "Northern Ireland",
    "scotland": "Scotland", "eu": "EU",
}
STARTS: dict[str, date | None] = {"today": None, "on_or_after": None, "before": date(2025, 2, 23)}

INTERNAL_ERROR = t("error.internal")
THINKING = "…"


def _code(value: str | None, group: str, codes: dict[str, Any]) -> str:
    """A choice's code from its code or its label in either language ("Wales", "Cymru" or
    "wales"); a choice the page does not offer is refused."""
    if value in (None, ""):
        return next(iter(codes))
    if value in codes:
        return value
    for key in codes:
        entry = STRINGS[f"{group}.choice.{key}"]
        if value in entry.values():
            return key
    raise ValueError(f"Unknown choice for {group}: {value!r}")


def context_settings(nation: str | None, started: str | None) -> ContextSettings:
    """The page's choices (codes or labels) as context settings."""
    return ContextSettings(nation=NATIONS[_code(nation, "nation", NATIONS)],
                           started=STARTS[_code(started, "start", STARTS)])


def _error_text(exc: BaseException, lang: str) -> str:
    """One line for the person asking; the details of an unexpected failure go to the log."""
    if isinstance(exc, QuestionRejected | ValueError):
        return f"**{escape_markdown(t('error.rejected', lang))}** {escape_markdown(str(exc))}"
    if isinstance(exc, LLMUnavailable):
        log.warning("LLM unavailable: %s", exc)
        hint = t("error.llm_hint", lang, setting="PROCGUIDE_LLM_BASE_URL")
        return escape_markdown(f"{t('error.llm_unreachable', lang)} {hint}")
    return escape_markdown(t("error.internal", lang))


def answering(assistant: Assistant, message: str, history: list[Any], nation: str | None,
              started: str | None, shown: Callable[[str, Any], T]) -> Iterator[T]:
    """One question through the pipeline, for the chat and the API alike: `shown("text", the
    answer so far)` as it streams, then `shown("answer", Answer)`; or `shown("error", exception)`
    instead, an unexpected failure logged first. What `shown` returns is yielded; its own failure
    is shown as one too."""
    text = ""
    try:
        settings = context_settings(nation, started)
        for event in assistant.stream(message, history, context=settings):
            if isinstance(event, Answer):
                yield shown("answer", event)
            else:
                text += event
                yield shown("text", text)
    except Exception as exc:  # each kind gets its one line; see _error_text
        if not isinstance(exc, QuestionRejected | ValueError | LLMUnavailable):
            log.exception("answering %r failed", message[:200])
        yield shown("error", exc)


def is_error_reply(reply: str) -> bool:
    """Whether a `respond` reply is the one line an error gets (_error_text) rather than an answer."""
    english = [escape_markdown(t(key)) for key in ("error.rejected", "error.internal", "error.llm_unreachable")]
    return any(reply.startswith((text, f"**{text}**")) for text in english)


def make_respond(assistant: Assistant):
    """The chat's answer as Markdown (sources listed under it, with their links), one question
    at a time, for scripts: the page's `respond` API. Yields (markdown, conversation)."""

    def respond(
        message: str, history: list[dict[str, Any]] | None = None, nation: str | None = None,
        started: str | None = None, conversation: Conversation | None = None,
    ) -> Iterator[tuple[str, Conversation]]:
        conversation = conversation if conversation is not None else Conversation()

        def shown(kind: str, value: Any) -> tuple[str, Conversation]:
            if kind == "answer":
                return to_markdown(value), conversation.add(value, nation, started)
            if kind == "text":
                return answer_markdown(value), conversation  # streamed text is document text too
            return _error_text(value, "en"), conversation

        yield from answering(assistant, message, history or [], nation, started, shown)

    return respond


def respond_api(assistant: Assistant):
    """`respond(message, nation, started) -> Markdown`, published as the page's API."""
    respond = make_respond(assistant)

    def api(message: str, nation: str | None = None, started: str | None = None) -> str:
        reply = ""
        for reply, _ in respond(message, [], nation, started):
            pass
        return reply

    return api


def opening_panel(lang: str) -> str:
    """What procguide covers, shown in the empty chat above the example questions."""
    paragraphs = [t(f"about.{part}", lang) for part in ("who", "what", "law", "limits", "how")]
    return "\n\n".join([f"## {escape_markdown(t('about.heading', lang))}",
                        *map(escape_markdown, paragraphs),
                        f"**{escape_markdown(t('examples.heading', lang))}**"])


def example_messages(lang: str) -> list[dict[str, str]]:
    return [{"text": q} for q in examples(lang)]


def _assumed(answer: Answer, lang: str) -> str:
    summary = answer.context.get("summary")
    if not summary:
        return ""
    return escape_markdown(f"{t('context.answered_for', lang, summary=summary)} {t('context.how_to_change', lang)}")


def _user(message: str) -> dict[str, str]:
    """A question as the chat shows it: plain text, whatever it contains."""
    return {"role": "user", "content": escape_markdown(message)}


# The question box while an answer comes in (emptied, and closed to a second question until it is
# done), and after.
BUSY = gr.update(value="", interactive=False)
OPEN = gr.update(value="", interactive=True)


def make_send(assistant: Assistant):
    """The chat's handler: the question and the answer as it streams in, then the answer with its
    source cards (and, for a decline, its suggestions as options to click)."""

    def send(message: str, messages: list[dict[str, Any]], nation: str, started: str,
             conversation: Conversation, lang: str) -> Iterator[tuple[Any, ...]]:
        message = (message or "").strip()
        if not message:
            yield messages, OPEN, conversation, gr.update()
            return
        messages = [*(messages or []), _user(message), {"role": "assistant", "content": THINKING}]
        yield messages, BUSY, conversation, gr.update()

        def shown(kind: str, value: Any) -> tuple[Any, ...]:
            if kind == "answer":
                conversation.add(value, nation, started)
                reply: dict[str, Any] = {
                    "role": "assistant",
                    "content": cards.answer_message(value, lang, uuid.uuid4().hex[:8]),
                }
                if labels := cards.suggestion_labels(value):
                    reply["options"] = [{"value": s, "label": s} for s in labels]
                messages[-1] = reply
                return messages, OPEN, conversation, _assumed(value, lang)
            if kind == "text":
                messages[-1] = {"role": "assistant", "content": answer_markdown(value)}
                return messages, gr.update(), conversation, gr.update()
            conversation.skip()
            messages[-1] = {"role": "assistant", "content": _error_text(value, lang)}
            return messages, OPEN, conversation, gr.update()

        yield from answering(assistant, message, conversation.history(), nation, started, shown)

    return send


def _picked(event: gr.SelectData) -> str:
    """The question an example or a suggestion carries."""
    value = event.value
    return str(value.get("text") or value.get("value") or "") if isinstance(value, dict) else str(value or "")


def feedback_and_export(assistant: Assistant, chatbot: gr.Chatbot, conversation: gr.State,
                        language: gr.Radio, tr: Translations) -> None:
    """Thumbs on each answer and a comment on the one rated (into the feedback store), and the
    conversation as a Markdown or Word download."""
    store = FeedbackStore.for_settings(assistant.settings)

    def on_like(messages: list[dict[str, Any]], state: Conversation, lang: str, like: gr.LikeData) -> str:
        return escape_markdown(actions.rate(store, assistant.settings, state, messages, like.index, like.liked, lang))

    def on_comment(text: str, state: Conversation, lang: str) -> tuple[str, str]:
        said = actions.comment(store, state, text, lang)
        return escape_markdown(said), "" if said == t("feedback.thanks", lang) else text

    def on_export(state: Conversation, kind: str, lang: str) -> Any:
        path = actions.export(state, "docx" if kind == "docx" else "md")
        if path is None:
            return gr.update(value=None, visible=False), escape_markdown(t("export.nothing", lang))
        return gr.update(value=str(path), visible=True), ""

    with gr.Row():
        comment_box = tr.text(gr.Textbox(label=t("feedback.comment"), max_lines=3, scale=4, elem_id="pg-comment",
                                         placeholder=t("feedback.comment_placeholder")), "feedback.comment")
        tr.text(comment_box, "feedback.comment_placeholder", "placeholder")
        send_comment = tr.text(gr.Button(t("feedback.send"), scale=1, size="sm"), "feedback.send", "value")
    status = gr.Markdown("", elem_id="feedback-status")
    with gr.Row():
        as_markdown = tr.text(gr.Button(t("export.markdown"), size="sm"), "export.markdown", "value")
        as_word = tr.text(gr.Button(t("export.word"), size="sm"), "export.word", "value")
    download = tr.text(gr.File(label=t("export.file"), visible=False, interactive=False), "export.file")
    private = {"api_visibility": "private"}
    chatbot.like(on_like, inputs=[chatbot, conversation, language], outputs=[status], **private)
    for trigger in (send_comment.click, comment_box.submit):
        trigger(on_comment, inputs=[comment_box, conversation, language], outputs=[status, comment_box], **private)
    as_markdown.click(lambda s, lang: on_export(s, "md", lang), inputs=[conversation, language],
                      outputs=[download, status], **private)
    as_word.click(lambda s, lang: on_export(s, "docx", lang), inputs=[conversation, language],
                  outputs=[download, status], **private)


def glossary_markdown(assistant: Assistant, lang: str = "en") -> str:
    """The vocabulary's topics, kinds of organisation and body as a table: what you can say, in
    English and Welsh, and what procguide reads it as."""
    head = [t(f"glossary.col_{c}", lang) for c in ("terms", "welsh", "reads")]
    rows = ["| " + " | ".join(map(escape_markdown, head)) + " |", "| --- | --- | --- |"]
    for c in assistant.vocabulary.concepts:
        if c.kind not in ("topic", "organisation", "body"):
            continue
        said = ", ".join([*c.terms[:6], *c.acronyms[:3]])
        points = c.label + (f" ({', '.join(c.provisions[:3])})" if c.provisions else "")
        rows.append(f"| {escape_markdown(said)} | {escape_markdown(', '.join(c.cy[:4]))} | {escape_markdown(points)} |")
    return "\n".join(rows)


def chat_tab(assistant: Assistant, language: gr.Radio, tr: Translations) -> None:
    """The chat and everything around it, inside the caller's tab."""
    settings = assistant.settings
    with gr.Group(elem_id="pg-context"):
        with gr.Row():
            nation = gr.Dropdown(choices("nation", "en"), value="auto", label=t("nation.label"),
                                 info=t("nation.info"), elem_id="pg-nation")
            started = gr.Dropdown(choices("start", "en"), value="today", label=t("start.label"),
                                  info=t("start.info"), elem_id="pg-started")
        assumed = gr.Markdown("", elem_id="pg-assumed")
    for box, group in ((nation, "nation"), (started, "start")):
        tr.add(box, lambda lang, g=group: gr.update(choices=choices(g, lang), label=t(f"{g}.label", lang),
                                                    info=t(f"{g}.info", lang)))
    conversation = gr.State(Conversation())
    chatbot = gr.Chatbot(
        label=t("chat.label"), height=760, sanitize_html=True, elem_id="pg-chat",
        placeholder=opening_panel("en"), examples=example_messages("en"),
        feedback_options=("Like", "Dislike"), buttons=["copy"],
    )
    tr.add(chatbot, lambda lang: gr.update(label=t("chat.label", lang), placeholder=opening_panel(lang),
                                           examples=example_messages(lang)))
    question = gr.Textbox(label=t("question.label"), placeholder=t("question.placeholder"), max_lines=6,
                          submit_btn=True, elem_id="pg-question", autofocus=True)
    tr.add(question, lambda lang: gr.update(label=t("question.label", lang),
                                            placeholder=t("question.placeholder", lang)))
    send = make_send(assistant)
    inputs = [question, chatbot, nation, started, conversation, language]
    outputs = [chatbot, question, conversation, assumed]
    options = {"concurrency_limit": settings.ui_concurrency, "api_visibility": "private",
               "concurrency_id": "answer"}
    question.submit(send, inputs, outputs, **options)
    # An example or a suggested question goes straight in, with the context as chosen.
    for select in (chatbot.example_select, chatbot.option_select):
        select(_picked, None, question, api_visibility="private", queue=False).then(send, inputs, outputs, **options)
    # Clearing the chat starts a new conversation: nothing earlier is read as context or exported.
    chatbot.clear(lambda: (Conversation(), ""), None, [conversation, assumed], api_visibility="private", queue=False)
    feedback_and_export(assistant, chatbot, conversation, language, tr)
    with tr.text(gr.Accordion(t("glossary.heading"), open=False), "glossary.heading"):
        glossary = gr.Markdown(glossary_markdown(assistant))
    tr.add(glossary, lambda lang: glossary_markdown(assistant, lang))
