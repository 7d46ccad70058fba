"""The language switch's one mechanism: every component whose text depends on the language is
registered here with a function giving its update for a language (from strings.py), and the
switch sends all of them in one event. A part of the page adds its own components as it builds;
nothing else changes text on a language change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from procguide.ui.strings import DEFAULT_LANGUAGE, LANGUAGES, t

C = TypeVar("C", bound=gr.components.Component | gr.blocks.BlockContext)

# Runs in the browser after a switch: the page's language, for screen readers, the head script's
# button names and the browser's own spell checking.
SET_PAGE_LANGUAGE = "(lang) => { document.documentElement.lang = lang === 'cy' ? 'cy' : 'en'; return []; }"

# Runs in the browser as the page opens (before anyone can click): the first of the browser's
# languages that procguide offers, so a browser set to Welsh opens in Welsh.
BROWSER_LANGUAGE = """() => {
  const tags = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const tag of tags) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    if (base === "cy" || base === "en") return base;
  }
  return "en";
}"""


class Translations:
    """Components and how each reads in a language."""

    def __init__(self) -> None:
        self._items: list[tuple[Any, Callable[[str], Any]]] = []

    def add(self, component: C, update: Callable[[str], Any]) -> C:
        """Register `component`; `update(lang)` is its gr.update(...) (or new value) in `lang`."""
        self._items.append((component, update))
        return component

    def text(self, component: C, key: str, attribute: str = "label", **values: Any) -> C:
        """Register `component` whose `attribute` (label, value, placeholder, ...) is the string
        `key`."""
        return self.add(component, lambda lang: gr.update(**{attribute: t(key, lang, **values)}))

    def outputs(self) -> list[Any]:
        return [component for component, _ in self._items]

    def updates(self, lang: str) -> list[Any]:
        return [update(lang) for _, update in self._items]

    def __len__(self) -> int:
        return len(self._items)


def language_radio(lang: str = DEFAULT_LANGUAGE) -> gr.Radio:
    """The switch itself: each language named in itself, so either reader can find theirs."""
    return gr.Radio(
        [(name, code) for code, name in LANGUAGES.items()], value=lang,
        label=f"{t('language.label', 'en')} / {t('language.label', 'cy')}",
        elem_id="language", container=False,
    )


def connect(radio: gr.Radio, translations: Translations) -> None:
    """Switching language updates every registered component, then the page's own language
    attribute. Call it once the page is built (components registered later are not updated)."""
    radio.change(
        translations.updates, inputs=[radio], outputs=translations.outputs(), api_visibility="private",
        queue=False, show_progress="hidden",
    ).then(None, inputs=[radio], js=SET_PAGE_LANGUAGE)
