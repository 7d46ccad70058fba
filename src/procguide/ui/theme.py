"""How the chat looks and what it does for accessibility: a GOV.UK-like theme, CSS (contrast, focus,
no Gradio footer, a 390 px layout) and a head script that names Gradio's icon-only buttons and keeps
focus in the question box. Gradio 6 takes all of these in `launch()`: see `launch_extras`.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr
from gradio.themes.utils import colors, sizes

from procguide.ui.strings import STRINGS

# GOV.UK Frontend's palette (https://design-system.service.gov.uk/styles/colour/).
TEXT = "#0b0c0c"
SECONDARY_TEXT = "#505a5f"
LINK = "#1d70b8"
LINK_HOVER = "#003078"
LINK_VISITED = "#4c2c92"
FOCUS = "#ffdd00"
BUTTON = "#00703c"
BUTTON_HOVER = "#005a30"
BUTTON_SHADOW = "#002d18"
BORDER = "#b1b4b6"
LIGHT_GREY = "#f3f2f1"
ERROR = "#d4351c"
# GOV.UK's own typeface (GDS Transport) is licensed for GOV.UK only; its fallback is Arial.
FONT = ("Arial", "Helvetica", "sans-serif")
FONT_MONO = ("ui-monospace", "Menlo", "Consolas", "monospace")

_GREEN = colors.Color(
    name="govuk_green", c50="#e5f1eb", c100="#cce2d8", c200="#99c5b1", c300="#66a98a",
    c400="#338c63", c500=BUTTON, c600=BUTTON_HOVER, c700="#004e2a", c800=BUTTON_SHADOW,
    c900="#001f10", c950="#001008",
)
_BLUE = colors.Color(
    name="govuk_blue", c50="#e8f1f8", c100="#d2e2f1", c200="#a5c6e3", c300="#77a9d4",
    c400="#4a8dc6", c500=LINK, c600="#1a65a6", c700=LINK_HOVER, c800="#0b2a4f",
    c900="#061a33", c950="#030d1a",
)
# Greys from GOV.UK's palette; every one from 400 up reads at 4.5:1 or better on white.
_GREY = colors.Color(
    name="govuk_grey", c50="#f8f8f8", c100=LIGHT_GREY, c200="#dbdad9", c300=BORDER,
    c400="#6f777b", c500=SECONDARY_TEXT, c600="#3d4448", c700="#2e3437", c800="#1f2324",
    c900=TEXT, c950="#000000",
)


def _theme() -> gr.themes.Base:
    theme = gr.themes.Base(
        primary_hue=_GREEN, secondary_hue=_BLUE, neutral_hue=_GREY,
        text_size=sizes.text_lg, radius_size=sizes.radius_none, font=FONT, font_mono=FONT_MONO,
    ).set(
        body_background_fill="white",
        body_text_color=TEXT,
        body_text_color_subdued=SECONDARY_TEXT,
        background_fill_primary="white",
        background_fill_secondary=LIGHT_GREY,
        border_color_primary=BORDER,
        border_color_accent=LINK,
        border_color_accent_subdued=BORDER,
        color_accent=LINK,
        color_accent_soft="#e8f1f8",
        link_text_color=LINK,
        link_text_color_hover=LINK_HOVER,
        link_text_color_active=TEXT,
        link_text_color_visited=LINK_VISITED,
        block_label_text_color=TEXT,
        block_title_text_color=TEXT,
        block_info_text_color=SECONDARY_TEXT,
        block_label_background_fill="white",
        accordion_text_color=TEXT,
        input_background_fill="white",
        input_border_color=TEXT,
        input_border_color_hover=TEXT,
        input_border_color_focus=TEXT,
        input_border_width="2px",
        input_placeholder_color=SECONDARY_TEXT,
        input_shadow_focus=f"inset 0 0 0 1px {TEXT}",
        button_border_width="2px",
        button_primary_background_fill=BUTTON,
        button_primary_background_fill_hover=BUTTON_HOVER,
        button_primary_border_color="transparent",
        button_primary_border_color_hover="transparent",
        button_primary_text_color="white",
        button_primary_shadow=f"0 2px 0 {BUTTON_SHADOW}",
        button_secondary_background_fill=LIGHT_GREY,
        button_secondary_background_fill_hover="#dbdad9",
        button_secondary_border_color="transparent",
        button_secondary_border_color_hover="transparent",
        button_secondary_text_color=TEXT,
        button_secondary_shadow="0 2px 0 #929191",
        button_cancel_background_fill=ERROR,
        button_cancel_background_fill_hover="#aa2a16",
        button_cancel_text_color="white",
        button_cancel_text_color_hover="white",
        checkbox_border_color=TEXT,
        checkbox_label_text_color=TEXT,
        table_text_color=TEXT,
        table_border_color=BORDER,
        table_odd_background_fill="white",
        table_even_background_fill="white",
        error_text_color=ERROR,
        error_border_color=ERROR,
        error_icon_color=ERROR,
        error_background_fill="white",
        loader_color=LINK,
    )
    # One look whatever the visitor's colour scheme: each dark value is its light one.
    for name in list(vars(theme)):
        if name.endswith("_dark") and hasattr(theme, name[:-5]):
            setattr(theme, name, getattr(theme, name[:-5]))
    return theme


THEME = _theme()

_LINK_FOCUS = (f"outline: 3px solid transparent !important; color: {TEXT} !important; transition: none; "
               f"background-color: {FOCUS} !important; "
               f"box-shadow: 0 -2px {FOCUS}, 0 4px {TEXT} !important; text-decoration: none !important;")

CSS = f"""
:root {{ color-scheme: light; }}
body, gradio-app, .gradio-container {{ background: #ffffff !important; color: {TEXT}; }}

/* The service name as GOV.UK's header: a black band across the page with a blue rule under the
   name. The first heading of the page is the service name (app.py's intro Markdown); the band is
   its shadow, which paints past the edges without widening the page. */
#service-header, main.contain > .column:first-child > .block:first-child {{ overflow: visible !important; }}
#service-header h1:first-child,
main.contain > .column:first-child > .block:first-child .prose h1:first-child {{
  background: {TEXT}; color: #ffffff !important; font-size: 1.5rem !important; font-weight: 700;
  line-height: 1.25; margin: 0 0 20px !important; padding: 12px 0 8px;
  border-bottom: 10px solid {LINK};
  box-shadow: 0 0 0 100vmax {TEXT}; clip-path: inset(-100vmax -100vmax 0 -100vmax);
}}

/* Contrast: hint text under the fields, labels and placeholders at 4.5:1 or better. */
.gradio-container .info-text {{
  color: {SECONDARY_TEXT} !important; font-size: 1rem;
}}
.gradio-container textarea::placeholder, .gradio-container input::placeholder {{
  color: {SECONDARY_TEXT} !important; opacity: 1;
}}

/* Gradio shows chat messages at 80% opacity, which takes links in them below 4.5:1. */
.gradio-container .message-wrap .prose.chatbot.md {{ opacity: 1 !important; }}

/* Links as GOV.UK's: blue, underlined. */
.gradio-container a:not(.button) {{
  color: {LINK} !important; text-decoration: underline; text-decoration-thickness: max(1px, .0625rem);
  text-underline-offset: .1578em;
}}
.gradio-container a:not(.button):visited {{ color: {LINK_VISITED} !important; }}
.gradio-container a:not(.button):hover {{ color: {LINK_HOVER} !important; text-decoration-thickness: max(3px, .1875rem); }}

/* Visible focus, GOV.UK's yellow with a black edge. */
.gradio-container a:not(.button):focus-visible, .gradio-container [role="tab"]:focus-visible,
.gradio-container button:focus-visible, .gradio-container [role="button"]:focus-visible,
.gradio-container summary:focus-visible {{ {_LINK_FOCUS} }}
.gradio-container button:focus-visible svg {{ color: {TEXT} !important; }}
.gradio-container textarea:focus, .gradio-container input:focus, .gradio-container select:focus {{
  outline: 3px solid {FOCUS} !important; outline-offset: 0 !important;
  box-shadow: inset 0 0 0 2px {TEXT} !important;
}}
.gradio-container :focus-visible {{ outline: 3px solid {FOCUS}; outline-offset: 0; box-shadow: 0 0 0 6px {TEXT}; }}
/* A dropdown's input sits inside its box: the ring goes round the box. */
.gradio-container .wrap:has(> .wrap-inner input[role="combobox"]:focus) {{
  outline: 3px solid {FOCUS} !important; outline-offset: 0; box-shadow: inset 0 0 0 2px {TEXT} !important;
}}
.gradio-container input[role="combobox"]:focus {{ outline: none !important; box-shadow: none !important; }}

/* The send button as a GOV.UK button: green, square, white arrow. */
.gradio-container .submit-button {{
  background: {BUTTON} !important; color: #ffffff !important; border-radius: 0 !important;
  box-shadow: 0 2px 0 {BUTTON_SHADOW}; min-width: 44px; min-height: 40px;
}}
.gradio-container .submit-button:hover {{ background: {BUTTON_HOVER} !important; }}
.gradio-container .submit-button:focus-visible {{ background: {FOCUS} !important; color: {TEXT} !important; }}

/* The language switch sits in the header band: no box of its own around the choices. */
#language, #language > .wrap {{ background: transparent !important; border: none !important; box-shadow: none !important; }}
#pg-top {{ align-items: flex-start; }}
/* The opening panel's example questions wrap onto as many rows as they need. */
#pg-chat .examples {{ flex-wrap: wrap !important; }}

/* What the last answer assumed, under the controls that change it. */
#pg-assumed {{ background: #ffffff !important; padding: 4px 12px; color: {TEXT}; }}
#pg-assumed:empty, #pg-assumed:has(.prose:empty) {{ padding: 0; }}

/* Gradio's upload prompt at this theme's larger text would not fit a short file box. */
.gradio-container .upload-container .wrap {{ font-size: var(--text-md) !important; line-height: 1.25; }}
.gradio-container .upload-container .wrap .or {{ font-size: var(--text-sm) !important; }}

/* No developer footer ("Use via API", "Built with Gradio", "Settings"): launch_extras() asks
   Gradio for none, and this hides it should a launch forget to. */
.gradio-container footer[aria-label="Gradio footer navigation"] {{ display: none !important; }}

/* The chat's label and toolbar share a row above the messages, not over them. */
.gradio-container .wrapper:has(> .bubble-wrap) {{
  display: grid; grid-template-columns: minmax(0, 1fr) auto; grid-template-rows: auto minmax(0, 1fr);
}}
.gradio-container .wrapper:has(> .bubble-wrap) > label[data-testid="block-label"] {{
  position: static; grid-row: 1; grid-column: 1; justify-self: start;
}}
.gradio-container .wrapper:has(> .bubble-wrap) > .icon-button-wrapper.top-panel {{
  position: static; grid-row: 1; grid-column: 2; align-self: start;
}}
.gradio-container .wrapper > .bubble-wrap {{
  grid-row: 2; grid-column: 1 / -1; border-top: 1px solid {BORDER}; background: #ffffff !important;
}}

/* 390 px wide (a phone): one column, nothing wider than the screen. Gradio scopes rules inside
   @media to the app's own container, so these selectors start inside it (and use no commas
   inside :is() or :has(), which its scoping would split). */
@media (max-width: 640px) {{
  .row, .row > .form {{ flex-direction: column !important; }}
  .row > *, .row > .form > * {{ width: 100% !important; min-width: 0 !important; flex: 0 0 auto !important; }}
  /* The examples table: the question is what matters; the other columns are the defaults. */
  .table-wrap th:nth-child(n+2), .table-wrap td:nth-child(n+2) {{ display: none; }}
  .table-wrap th, .table-wrap td {{ text-align: left; }}
}}
"""

# Names for Gradio's icon-only buttons that have none, by the page's language (strings.py).
BUTTON_NAMES = {
    "send": STRINGS["a11y.send"],
    "stop": {"en": "Stop the answer", "cy": "Stopio'r ateb"},
    "share": STRINGS["a11y.share"],
    "copy": STRINGS["a11y.copy"],
    "copy_question": {"en": "Copy your question", "cy": "Copïo eich cwestiwn"},
    "like": STRINGS["feedback.like"],
    "dislike": STRINGS["feedback.dislike"],
    "clear": STRINGS["a11y.clear"],
    "more_tabs": {"en": "More tabs", "cy": "Rhagor o dabiau"},
}
# Gradio's own words in the page (its locales have no Welsh), by their English.
GRADIO_TEXT = {
    "Drop File Here": {"en": "Drop File Here", "cy": "Gollyngwch ffeil yma"},
    "- or -": {"en": "- or -", "cy": "- neu -"},
    "Click to Upload": {"en": "Click to Upload", "cy": "Cliciwch i lwytho ffeil i fyny"},
}

_SCRIPT = """
(() => {
  "use strict";
  const NAMES = __NAMES__;
  // Gradio's icon-only buttons, known by their class or, for the share button, by its icon.
  const KINDS = [
    ["send", (b) => b.matches(".submit-button, [data-testid='submit-button']")],
    ["stop", (b) => b.matches(".stop-button, [data-testid='stop-button']")],
    ["share", (b) => b.querySelector("svg path[d^='M23,20a5,5']") !== null],
  ];
  const language = () => ((document.documentElement.lang || "en").toLowerCase().startsWith("cy") ? "cy" : "en");
  // Gradio's named buttons whose English name is renamed by the page's language.
  const RENAMED = {
    "Copy message": (b) => (b.closest(".message-buttons-left") ? "copy" : "copy_question"),
    "Like": () => "like",
    "Dislike": () => "dislike",
    "Clear": () => "clear",
    "More tabs": () => "more_tabs",
  };
  const TEXT = __TEXT__;
  const ORIGINAL = new WeakMap();
  function translateText() {
    const lang = language();
    for (const root of document.querySelectorAll(".upload-container")) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const original = ORIGINAL.get(n) || n.nodeValue.trim();
        if (!TEXT[original]) continue;
        ORIGINAL.set(n, original);
        if (n.nodeValue.trim() !== TEXT[original][lang]) n.nodeValue = TEXT[original][lang];
      }
    }
  }
  const named = (b) =>
    ["aria-label", "aria-labelledby", "title"].some((a) => (b.getAttribute(a) || "").trim()) ||
    (b.textContent || "").trim() !== "" || b.querySelector("img[alt]:not([alt=''])") !== null;

  function nameButtons() {
    const lang = language();
    for (const b of document.querySelectorAll("button")) {
      const given = b.getAttribute("aria-label") || "";
      const kind = b.dataset.pgName || (RENAMED[given] && RENAMED[given](b)) ||
        (!named(b) && (KINDS.find(([, is]) => is(b)) || [])[0]);
      if (!kind) continue;
      const name = NAMES[kind][lang];
      if (b.getAttribute("aria-label") !== name) {
        b.dataset.pgName = kind;
        b.setAttribute("aria-label", name);
        b.setAttribute("title", name);
      }
    }
  }

  // Gradio labels each message with its raw source (Markdown and the cards' HTML): the message's
  // own text is what a screen reader should read.
  function unlabelMessages() {
    for (const m of document.querySelectorAll("[data-testid='bot'][aria-label], [data-testid='user'][aria-label]")) {
      m.removeAttribute("aria-label");
    }
    // The opening panel's example questions are buttons in a "list" without list items.
    for (const l of document.querySelectorAll(".examples[role='list']")) l.setAttribute("role", "group");
  }

  // "Copy" on an answer copies the answer with its sources: the plain text procguide put in the
  // message for it (ui/cards.py), not the message's Markdown and HTML.
  document.addEventListener("click", (e) => {
    const b = e.target instanceof Element && e.target.closest(".message-buttons-left button");
    if (!b || b.dataset.pgName !== "copy") return;
    const row = b.closest(".message-buttons").previousElementSibling;
    const clip = row && row.querySelector(".pg-clip");
    if (!clip || !navigator.clipboard) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    navigator.clipboard.writeText(clip.textContent).then(() => {
      b.classList.add("pg-copied");
      setTimeout(() => b.classList.remove("pg-copied"), 2000);
    });
  }, true);

  // A [n] marker takes you (and the keyboard's focus) to its source card; "change" to the
  // nation and start-date controls.
  document.addEventListener("click", (e) => {
    const a = e.target instanceof Element && e.target.closest("a[href^='#pg-']");
    if (!a) return;
    const target = document.getElementById(a.getAttribute("href").slice(1));
    if (!target) return;
    e.preventDefault();
    const focusable = target.id === "pg-context" ? target.querySelector("input") : target;
    if (focusable === target) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "nearest" });
    if (focusable) focusable.focus({ preventScroll: true });
  }, true);

  // After a question is sent, focus goes back to its box (Gradio disables the box while it
  // answers, which drops focus to the page), unless the person has moved on elsewhere.
  let returnTo = null;
  const chatBox = (el) => {
    const button = el && el.closest(".submit-button, .stop-button");
    const box = button ? button.parentElement.querySelector("textarea") : el;
    return box && box.matches("textarea") && box.parentElement.querySelector(".submit-button, .stop-button") ? box : null;
  };
  const sameControl = (el) => returnTo && el && returnTo.parentElement && returnTo.parentElement.contains(el);
  document.addEventListener("click", (e) => {
    const box = e.target instanceof Element && chatBox(e.target.closest(".submit-button"));
    if (box) returnTo = box;
  }, true);
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || !(e.target instanceof Element)) return;
    const box = chatBox(e.target);
    if (box) returnTo = box;
  }, true);
  document.addEventListener("pointerdown", (e) => { if (!sameControl(e.target)) returnTo = null; }, true);
  document.addEventListener("focusin", (e) => { if (!sameControl(e.target)) returnTo = null; }, true);

  function restoreFocus() {
    if (!returnTo) return;
    if (!returnTo.isConnected) {
      returnTo = chatBox(document.querySelector(".submit-button, .stop-button"));
      if (!returnTo) return;
    }
    const active = document.activeElement;
    // Focus left on the page or on the send button goes back; focus the person moved is left.
    const lost = !active || active === document.body || active === document.documentElement ||
      active.matches(".submit-button");
    if (lost && active !== returnTo && !returnTo.disabled && !returnTo.readOnly) returnTo.focus({ preventScroll: true });
  }

  let queued = false;
  const update = () => {
    if (queued) return;
    queued = true;
    setTimeout(() => { queued = false; nameButtons(); unlabelMessages(); translateText(); restoreFocus(); }, 0);
  };
  new MutationObserver(update).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["lang", "aria-label", "disabled", "class"],
  });
  document.addEventListener("focusout", update, true);
  update();
})();
"""

# "<" escaped so that no string can close the script element.
_NAMES_JSON = json.dumps(BUTTON_NAMES, ensure_ascii=False).replace("<", "\\u003c")
_TEXT_JSON = json.dumps(GRADIO_TEXT, ensure_ascii=False).replace("<", "\\u003c")
HEAD = "<script>" + _SCRIPT.replace("__NAMES__", _NAMES_JSON).replace("__TEXT__", _TEXT_JSON) + "</script>"



def launch_extras(css: str | None = None) -> dict[str, Any]:
    """The keyword arguments for `Blocks.launch` (Gradio 6 takes theme, css and head there, not in
    `Blocks()`): the theme, this module's CSS followed by `css`, the head script, and no footer."""
    return {"theme": THEME, "css": CSS + (css or ""), "head": HEAD, "footer_links": []}


def with_theme(options: dict[str, Any]) -> dict[str, Any]:
    """`options` for `Blocks.launch` with `launch_extras` added, keeping any css they carry;
    options already themed are returned as they are."""
    css = options.get("css") or ""
    if CSS in css:
        return dict(options)
    return {**options, **launch_extras(css)}
