"""The web page: the service header, the language switch (English / Cymraeg), the chat tab
(ui/chat.py) and the Training tab (ui/training_tab.py); the `respond` API for scripts; and how
`procguide serve` launches it (theme, limits, optional login).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import gradio as gr

from procguide.answer.render import escape_markdown
from procguide.assistant import Assistant
from procguide.config import Settings, get_settings
from procguide.ui.auth import authenticator, exposure_warning
from procguide.ui.cards import CARD_CSS
from procguide.ui.chat import INTERNAL_ERROR, chat_tab, make_respond, respond_api
from procguide.ui.i18n import BROWSER_LANGUAGE, Translations, connect, language_radio
from procguide.ui.strings import t
from procguide.ui.theme import with_theme
from procguide.ui.training_tab import PRESENTER_CSS, training_tab

__all__ = ["INTERNAL_ERROR", "build_ui", "launch", "launch_options", "make_respond"]

log = logging.getLogger(__name__)


def header_markdown(lang: str) -> str:
    """The service's name, what it is for, and that it is not legal advice."""
    return (f"# {t('app.title', lang)}\n{escape_markdown(t('app.intro', lang))}\n\n"
            f"*{escape_markdown(t('app.disclaimer', lang))}*")


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The page: header, language switch, the chat and the Training tab, queued for several users
    at once (see `launch_options`). Every fixed string follows the language switch (ui/i18n.py)."""
    settings = assistant.settings
    tr = Translations()
    # Gradio's copies of downloads are removed after an hour.
    with gr.Blocks(title="procguide", delete_cache=(1800, 3600)) as demo:
        with gr.Row(elem_id="pg-top"):
            tr.add(gr.Markdown(header_markdown("en"), elem_id="service-header"), header_markdown)
            language = language_radio()
        with tr.text(gr.Tab(t("chat.tab"), id="ask"), "chat.tab"):
            chat_tab(assistant, language, tr)
        with tr.text(gr.Tab(t("training.tab"), id="training"), "training.tab"):
            training_tab(assistant, language, tr)
        # Scripts get the answer as Markdown, one question at a time.
        gr.api(respond_api(assistant), api_name="respond", concurrency_limit=settings.ui_concurrency,
               concurrency_id="answer")
        connect(language, tr)
        # The browser's preferred language chooses the first one (Welsh for cy, else English).
        demo.load(None, None, language, js=BROWSER_LANGUAGE, api_visibility="private", queue=False,
                  show_progress="hidden")
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    return demo


def launch_options(settings: Settings) -> dict[str, Any]:
    """Options for `Blocks.launch`: no public share, Gradio's upload route (used only for a
    trainer's scenario file) limited to `ui_max_upload`, the page's styles, and the login when
    PROCGUIDE_AUTH is set."""
    options = {"share": False, "max_file_size": settings.ui_max_upload, "show_error": False,
               "css": CARD_CSS + PRESENTER_CSS}
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
