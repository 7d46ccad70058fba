"""Source cards: one Answer as the content of one Gradio Chatbot message.

The message is Markdown (the answer with its [n] markers linked to their cards, whom it was for,
its notes), then one raw-HTML block of source cards, then a hidden <pre> holding what the page's
copy button copies. Gradio renders it in the browser and sanitises it, but keeps <img>: so all
text from a document, a model or a user is escaped here (escape_markdown outside HTML,
html.escape inside it), and the only links are the ones built here, http(s) URLs from safe_url
and in-page #pg-... anchors. '$' and '%' are escaped too: Gradio's LaTeX pass reads the raw
message before Markdown does.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from procguide import provisions as prov
from procguide.answer.render import escape_markdown, safe_url
from procguide.answer.result import Answer, Citation
from procguide.answer.sentences import _ABBREV_RE, _BOUNDARY, answer_sentences
from procguide.passage import Passage
from procguide.ui.strings import STRINGS, instrument_name, long_date, t

MAX_LINKS = 4
MAX_SUGGESTIONS = 4
LONG_PASSAGE = 900  # characters; a longer passage shows its cited sentences, the rest on request
MIN_SHARED = 3  # words an answer sentence and a passage sentence must share to mark it...
MIN_SHARE = 0.35  # ...and the share of the answer sentence's words they must be

_PART = re.compile(r"(?P<kind>[a-z]+)-(?P<num>[0-9]+[a-z]?|[ivxlc]+)(?P<paras>(?:\([0-9a-z]+\))*)")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STOP = frozenset({
    "that", "this", "with", "from", "which", "have", "their", "there", "they", "them", "than", "then",
    "when", "where", "what", "shall", "must", "will", "would", "could", "should", "such", "been", "were",
    "being", "into", "under", "upon", "also", "only", "other", "these", "those", "about", "after",
    "before", "over", "does", "each", "more", "most", "some", "your",
})

# GOV.UK colours: text #0b0c0c, secondary text #505a5f, link #1d70b8, border #b1b4b6, focus #ffdd00.
CARD_CSS = """
.pg-sources { margin-top: 1rem; color: #0b0c0c; }
.pg-sources h3 { font-size: 1.1875rem; font-weight: 700; margin: 0 0 0.5rem; color: #0b0c0c; }
.pg-card { border-left: 5px solid #b1b4b6; background: #ffffff; color: #0b0c0c; margin: 0 0 1rem;
  padding: 0.5rem 0 0.5rem 0.75rem; max-width: 100%; box-sizing: border-box; scroll-margin-top: 1rem; }
.pg-card:target, .pg-card:focus { outline: 3px solid #1d70b8; outline-offset: 2px; }
.pg-card h4 { font-size: 1rem; font-weight: 700; margin: 0 0 0.25rem; color: #0b0c0c; overflow-wrap: anywhere; }
.pg-card p, .pg-card details { margin: 0 0 0.5rem; }
.pg-card .pg-meta { color: #505a5f; font-size: 0.875rem; overflow-wrap: anywhere; }
.pg-card .pg-superseded { border-left: 5px solid #d4351c; padding: 0.25rem 0 0.25rem 0.5rem; color: #0b0c0c; }
.pg-card .pg-quote { border-left: 3px solid #b1b4b6; margin: 0 0 0.5rem; padding: 0 0 0 0.75rem;
  color: #0b0c0c; font-style: normal; overflow-wrap: anywhere; }
.pg-card .pg-quote mark { background: #ffdd00; color: #0b0c0c; }
.pg-card summary { color: #1d70b8; text-decoration: underline; cursor: pointer; }
.pg-card .pg-links { list-style: none; margin: 0; padding: 0; }
.pg-card .pg-link { color: #1d70b8; text-decoration: underline; overflow-wrap: anywhere; }
.pg-card .pg-link:visited { color: #4c2c92; }
.pg-card .pg-link:hover { color: #003078; }
.pg-card .pg-link:focus, .pg-card summary:focus { outline: 3px solid transparent; color: #0b0c0c;
  background: #ffdd00; box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c; text-decoration: none; }
.pg-card .pg-local { font-weight: 700; }
.pg-clip { display: none !important; }
"""


# Escaping ------------------------------------------------------------------------------------

def _inert(markdown: str) -> str:
    """escape_markdown's output inert to a plain reading too: no '<', no 'scheme:', no '](', and
    no '%%%' for the LaTeX pass (escape_markdown already escapes '$')."""
    markdown = markdown.replace("\\<", "&lt;").replace("\\>", "&gt;").replace("\\](", "\\]&#40;")
    return re.sub(r"(?<!\\):", r"\\:", markdown).replace("%", "\\%")


def _md(text: str) -> str:
    """Text as Markdown text: nothing in it is markup."""
    return _inert(escape_markdown(_CONTROL.sub("", str(text))))


def _esc(text: str) -> str:
    """Text as HTML text, exactly as given, without '$', '%', ':' or '](' in the raw markup."""
    text = html.escape(_CONTROL.sub("", str(text)))
    for char, ref in (("$", "&#36;"), ("%", "&#37;"), (":", "&#58;"), ("](", "]&#40;")):
        text = text.replace(char, ref)
    return text


def _line(text: str) -> str:
    """Document text as HTML text on one line (entities read as the characters they stand for,
    then escaped like any other character)."""
    return _esc(" ".join(html.unescape(str(text)).split()))


def _anchor(key: str, n: int) -> str:
    return f"pg-{re.sub(r'[^A-Za-z0-9_-]', '', key)[:32] or 'a'}-{n}"


# What a card says ----------------------------------------------------------------------------

def _name(p: Passage) -> str:
    """An official passage's title; a local document's file name first (a title can imitate the law)."""
    if p.official:
        return p.title or p.doc_id
    file_name = Path(p.source).name or p.doc_id
    title = p.title if len(p.title) <= 80 else p.title[:79].rstrip() + "…"
    return f"{file_name}: {title}" if title and title not in (file_name, Path(file_name).stem) else file_name


def _instrument(p: Passage) -> prov.Instrument | None:
    for pid in p.provisions if p.official else ():
        if prov.is_well_formed(pid) and (inst := prov.INSTRUMENTS.get(prov.parse(pid).instrument)):
            return inst
    return None


def _label(group: str, value: str, lang: str) -> str:
    key = f"card.{group}.{re.sub(r'[^a-z0-9]+', '_', value.lower()).strip('_')}"
    return t(key, lang) if key in STRINGS else value


def _where(p: Passage, lang: str) -> str:
    where = p.locator if p.locator and p.locator != p.title else ""
    if p.page and "page" not in where.lower():
        where = ", ".join(x for x in (where, t("card.page", lang, page=p.page)) if x)
    return where


def _meta(p: Passage, inst: prov.Instrument | None, lang: str) -> list[str]:
    if not p.official:
        return [x for x in (_where(p, lang), t("answer.local_label", lang)) if x]
    parts = [_where(p, lang)]
    if inst:
        parts += [instrument_name(inst.id, lang, inst.short), _label("regime", inst.role, lang)]
    parts.append(_label("jurisdiction", p.jurisdiction or (inst.jurisdiction if inst else ""), lang))
    return [x for x in parts if x]


def _superseded(p: Passage, inst: prov.Instrument | None, lang: str) -> str:
    """'Superseded by Procurement Act 2023 from 24 February 2025', or '' for law still in force."""
    new, when = (p.superseded_by, p.superseded_from) if p.official else ("", "")
    if not new and inst and inst.superseded_by:
        new, when = inst.superseded_by, inst.superseded_from
    if not new:
        return ""
    new_id = new.split(":")[0]
    target = prov.INSTRUMENTS.get(new_id)
    name = instrument_name(new_id, lang, target.short if target else new)
    if not when:
        return t("answer.superseded_by", lang, name=name)
    try:  # a date, or an ISO date as a passage's metadata holds it; anything else as written
        when = long_date(when if isinstance(when, date) else date.fromisoformat(str(when)[:10]), lang)
    except ValueError:
        pass
    return t("answer.superseded_by_from", lang, name=name, date=when)


def _part(part: str, lang: str) -> str:
    """'s-33' -> 's. 33'; 'sch-2(3)' -> 'sch. 2 para. 3'; 'annex-xiv' -> 'annex XIV'."""
    m = _PART.fullmatch(part)
    if not m:
        return part
    kind, num, paras = m["kind"], m["num"], re.findall(r"\(([0-9a-z]+)\)", m["paras"])
    num = num.upper() if kind == "annex" else num
    if kind == "sch" and paras:
        return t("card.part.sch_para", lang, n=num, p=paras[0] + "".join(f"({x})" for x in paras[1:]))
    n = num + "".join(f"({x})" for x in paras)
    return t(f"card.part.{kind}", lang, n=n) if f"card.part.{kind}" in STRINGS else f"{kind} {n}"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _links(p: Passage, lang: str) -> list[tuple[str, str]]:
    """(URL, link text) for each provision of an official passage, else for its own URL."""
    if not p.official:
        return []
    links: dict[str, str] = {}
    for pid in p.provisions:
        if len(links) == MAX_LINKS:
            break
        if not prov.is_well_formed(pid) or not (url := safe_url(prov.official_url(pid))) or url in links:
            continue
        parsed = prov.parse(pid)
        inst = prov.INSTRUMENTS.get(parsed.instrument)
        name = instrument_name(parsed.instrument, lang, inst.short if inst else parsed.instrument)
        cite = f"{name}, {_part(parsed.part, lang)}" if parsed.part else name
        links[url] = f"{cite} ({_host(url)})"
    if not links and (url := safe_url(p.url)):
        links[url] = f"{' '.join((p.title or p.doc_id).split())} ({_host(url)})"
    return list(links.items())


# The quote and its marked sentences -----------------------------------------------------------

def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, split as sentences.split_sentences splits."""
    protected = _ABBREV_RE.sub(lambda m: m[1] + "." + "\0" * (len(m[0]) - len(m[1]) - 1), text)
    cuts = [0, *(x for m in _BOUNDARY.finditer(protected) for x in m.span()), len(text)]
    spans = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        piece = text[a:b]
        if piece.strip():
            spans.append((a + len(piece) - len(piece.lstrip()), a + len(piece.rstrip())))
    return spans


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if (w.isdigit() or len(w) > 3) and w not in _STOP}


def _cited(answer_text: str, n: int, sentences: list[str]) -> set[int]:
    """Which passage sentences the answer's sentences marked [n] rest on: for each, the one
    sharing the most words with it, if they share enough."""
    marked = set()
    for s in answer_sentences(answer_text):
        if str(n) not in _MARKER.findall(s) or not (want := _words(_MARKER.sub(" ", s))):
            continue
        shared = [len(want & _words(x)) for x in sentences]
        best = max(range(len(shared)), key=shared.__getitem__, default=-1)
        enough = max(2, min(MIN_SHARED, len(want)))
        if best >= 0 and shared[best] >= enough and shared[best] >= MIN_SHARE * len(want):
            marked.add(best)
    return marked


def _quote(text: str, spans: list[tuple[int, int]], marked: set[int], shown: list[int]) -> str:
    """The sentences `shown` (in order), cited ones in <mark>, '…' where sentences are left out."""
    out, last = [], None
    for i in shown:
        a, b = spans[i]
        if last is None:
            out.append("… " if i > 0 else "")
        else:
            out.append(_esc(text[spans[last][1]:a]) if i == last + 1 else " … ")
        out.append(f"<mark>{_esc(text[a:b])}</mark>" if i in marked else _esc(text[a:b]))
        last = i
    if last is not None and last < len(spans) - 1:
        out.append(" …")
    body = re.sub(r"[ \t]*\n\s*", lambda m: "<br><br>" if m[0].count("\n") > 1 else "<br>", "".join(out))
    return f'<blockquote class="pg-quote">{body}</blockquote>'


def _passage_html(p: Passage, answer_text: str, n: int, lang: str) -> str:
    text = _CONTROL.sub("", html.unescape(p.text).replace("\r\n", "\n").replace("\r", "\n"))
    if not (spans := _spans(text)):
        return ""
    marked = _cited(answer_text, n, [text[a:b] for a, b in spans])
    every = list(range(len(spans)))
    if len(text) <= LONG_PASSAGE or len(spans) < 2:
        return _quote(text, spans, marked, every)
    near = sorted({j for i in marked for j in (i - 1, i, i + 1) if 0 <= j < len(spans)}) or [0, 1]
    summary = _esc(t("card.whole_passage", lang))
    return (_quote(text, spans, marked, near)
            + f"<details><summary>{summary}</summary>{_quote(text, spans, marked, every)}</details>")


def _card(c: Citation, answer: Answer, key: str, lang: str) -> str:
    p = c.passage
    inst = _instrument(p)
    # tabindex -1: following a marker to its card moves focus there, for keyboards and screen readers.
    out = [f'<article class="pg-card" id="{_anchor(key, c.n)}" tabindex="-1"><h4>[{c.n}] {_line(_name(p))}</h4>']
    if meta := _meta(p, inst, lang):
        out.append(f'<p class="pg-meta">{" · ".join(_line(x) for x in meta)}</p>')
    if superseded := _superseded(p, inst, lang):
        out.append(f'<p class="pg-superseded"><strong>{_line(t("answer.superseded", lang))}</strong>: '
                   f"{_line(superseded)}</p>")
    out.append(_passage_html(p, answer.text, c.n, lang))
    if links := _links(p, lang):  # Gradio opens them in a new tab; the title says so
        new_tab = _line(t("a11y.new_tab", lang))
        items = (f'<li><a class="pg-link" href="{html.escape(url)}" title="{new_tab}">{_line(text)}</a></li>'
                 for url, text in links)
        out.append(f'<ul class="pg-links">{"".join(items)}</ul>')
    if not p.official:
        out.append(f'<p class="pg-local">{_line(t("answer.not_law", lang))}</p>')
    return "".join(out) + "</article>"


# The message ---------------------------------------------------------------------------------

_MARKER_MD = re.compile(r"(!?)\\\[(\d{1,3})\\\](?![(:])")  # as answer_markdown keeps them
_PLACEHOLDER = re.compile("(\x01?)\x00(\\d+)\x00")


def _answer_text(answer: Answer, key: str) -> str:
    """The answer escaped, one paragraph a line, each marker of a citation linked to its card."""
    cited = {c.n for c in answer.citations}

    def placeholder(m: re.Match[str]) -> str:  # made a link once the rest is inert
        return ("\x01" if m[1] else "") + f"\x00{m[2]}\x00" if int(m[2]) in cited else m[0]

    def link(m: re.Match[str]) -> str:
        return ("\\!" if m[1] else "") + f"[[{m[2]}]](#{_anchor(key, int(m[2]))})"

    lines = (escape_markdown(_CONTROL.sub("", line.strip())) for line in answer.text.strip().splitlines())
    text = _MARKER_MD.sub(placeholder, "\n\n".join(x for x in lines if x))
    return _PLACEHOLDER.sub(link, _inert(text))


def _summary(answer: Answer) -> str:
    return " ".join(str(answer.context.get("summary") or "").split())


def answer_message(answer: Answer, lang: str, key: str, changeable: bool = True) -> str:
    """The whole chat message for an answer: text with linked markers, whom it was for, notes,
    the source cards and the hidden clipboard text. `key` makes the card ids unique on the page;
    `changeable` adds how to change the assumed context (the chat's controls: not in training)."""
    parts = [_answer_text(answer, key)]
    if summary := _summary(answer):
        said = t("context.answered_for", lang, summary=summary)
        if changeable:
            said += f" {t('context.how_to_change', lang)}"
        change = f" [{_md(t('context.change', lang))}](#pg-context)" if changeable else ""
        parts.append(f"*{_md(said)}{change}*")
    for notice in answer.notices:
        if lines := [_md(x.strip()) for x in str(notice).splitlines() if x.strip()]:
            parts.append(f"> **{_md(t('answer.note', lang))}** " + "\n> ".join(lines))
    if answer.citations:
        cards = "\n".join(_card(c, answer, key, lang) for c in answer.citations)
        parts.append(f'<section class="pg-sources"><h3>{_line(t("answer.sources", lang))}</h3>\n{cards}\n</section>')
    clip = _esc(clipboard_text(answer, lang)).replace("\n", "&#10;")
    parts.append(f'<pre class="pg-clip">{clip}</pre>')
    return "\n\n".join(x for x in parts if x)


def _plain_source(c: Citation, lang: str) -> list[str]:
    p = c.passage
    where = _where(p, lang)
    head = " ".join(f"[{c.n}] {_name(p)}".split()) + (f" — {' '.join(where.split())}" if where else "")
    if not p.official:
        return [f"{head} ({t('answer.local_label', lang)})", f"    {t('answer.not_law', lang)}"]
    lines = [head]
    if superseded := _superseded(p, _instrument(p), lang):
        lines.append(f"    {superseded}")
    return lines + [f"    {text}: {url}" for url, text in _links(p, lang)]


def clipboard_text(answer: Answer, lang: str) -> str:
    """One answer as plain text to copy: its text with [n] markers, whom it was for, its notes,
    each source with its links written out in full, and the disclaimer."""
    blocks = [answer.text.strip()]
    if summary := _summary(answer):
        blocks.append(t("context.answered_for", lang, summary=summary))
    blocks += [f"{t('answer.note', lang)} {n}" for n in answer.notices]
    if answer.citations:
        lines = [t("answer.sources", lang)]
        for c in answer.citations:
            lines += _plain_source(c, lang)
        blocks.append("\n".join(lines))
    blocks.append(t("app.disclaimer", lang))
    return "\n\n".join(b for b in blocks if b)


def suggestion_labels(answer: Answer) -> list[str]:
    """The topics a decline offers instead, as plain text for the chat's buttons (at most four)."""
    labels = dict.fromkeys(" ".join(str(s).split()) for s in answer.suggestions)
    return [s for s in labels if s][:MAX_SUGGESTIONS]
