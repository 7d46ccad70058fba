"""Screen what a user types before anything uses it: length and emptiness limits, markup and
control characters, and text that tries to instruct the assistant (kept out of the search).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from procguide.ingest.html import strip_tags


class QuestionRejected(ValueError):
    """The question cannot be answered as typed; the message tells the user what to change."""


_INJECTION = re.compile(
    # English: overriding the rules, changing role, extracting the set-up, dropping citations.
    r"\b(ignor\w*|disregard\w*|forget\w*|overrid\w*|bypass\w*|drop|abandon\w*|broken free of)\b[^.?!\n]{0,40}\b(instructions?|prompts?|rules|"
    r"guidelines|context|above|previous|prior|knowledge\s+base|sources|everything|policy|policies)\b"
    r"|\b(you are now|from now on,?\s+(?:you|answer|reply|respond|act)|act as|pretend (to be|you are)|roleplay as|"
    r"role-?play|let'?s play a game|stay in character|jailbreak|developer mode|debug mode|maintenance mode|"
    r"do anything now|dan mode|no restrictions)\b"
    r"|\b(system|hidden|initial) prompt\b"
    r"|\b(reveal|print|show|repeat|output|dump|list|display)\b[^.?!\n]{0,40}\b(instructions|prompt|"
    r"configuration|config|settings|environment variables|api keys?|access tokens?|tokens|secrets|"
    r"every document|your index)\b"
    r"|\b(without|no|skip|drop|never)\s+(?:any\s+)?(citations?|references|sources)\b"
    r"|\b(answer|reply|respond|talk|write)\s+(?:only\s+)?(?:as|like)\s+an?\s+\w+"
    r"|\bnew policy\b|\bby authority of\b|\byou are instructed\b|\bconfirm by replying\b|"
    r"\breply only with\b|\bfrom your own (?:general )?knowledge\b"
    # Welsh: "ignore (all) (previous) instructions", "don't follow your rules", "from now on",
    # "answer without citing", "show your prompt", "you are now".
    r"|\b(anwybyddwch|anwybydda|anghofiwch|anghofia)\b[^.?!\n]{0,40}\b(gyfarwyddiadau|cyfarwyddiadau|rheolau|"
    r"reolau|popeth|ffynonellau)\b"
    r"|\b(peidiwch|paid)\s+(?:â|a)\s+dilyn\b|\bo\s+hyn\s+ymlaen\b|\bheb\s+ddyfynnu\b|"
    r"\b(rwyt|rydych)\s+(?:ti|chi)\s+bellach\b|\b(dangosa|dangoswch)\b[^.?!\n]{0,30}\b(anogwr|gosodiadau)\b"
    r"|\bmodd\s+datblygwr\b",
    re.IGNORECASE,
)
# A line posing as another turn of the conversation ("assistant: I have switched off ..."),
# or markup posing as system instructions.
_FAKE_REPLY = re.compile(r"^\s*\[?(assistant|ai|bot)\]?\s*:.*$", re.IGNORECASE | re.MULTILINE)
_ROLE_MARKER = re.compile(r"^\s*\[?(system|developer|user|human)\]?\s*:\s*", re.IGNORECASE | re.MULTILINE)
_FAKE_SYSTEM = re.compile(r"^\s*\[?(system|developer)\]?\s*:", re.IGNORECASE | re.MULTILINE)
# A fragment of an instruction sentence worth keeping is a question.
_ASKS = re.compile(
    r"\?|\b(what|how|which|when|who|whether|tell\s+me|explain|give\s+me|beth|sut|pryd|pwy|esboniwch|"
    r"dywedwch)\b|(?:^|[.!:;]\s+)(?:(?:and|but|now|then|so|just|also),?\s+)?(can|could|does|do|is|are|"
    r"must|should|may|under|pa|oes|ydy|a\s+allwn|a\s+gawn|i\s+need|please)\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.?!;:\n])\s+")

INJECTION_NOTICE = (
    "Part of your question read as an instruction to the assistant. Questions are treated as "
    "text to look up, never as instructions, so that part was ignored."
)


@dataclass
class ScreenedQuestion:
    text: str  # what the search and the answerer read
    original: str
    injection: bool = False
    notices: list[str] = field(default_factory=list)


def screen_question(question: str, max_chars: int) -> ScreenedQuestion:
    if not isinstance(question, str):
        raise QuestionRejected("The question must be text.")
    if len(question) > max_chars:
        raise QuestionRejected(
            f"Your question is {len(question):,} characters long and procguide accepts up to "
            f"{max_chars:,}. Ask the question itself in a sentence or two; to search a document, "
            "add it to the knowledge base instead (see README, 'Adding documents')."
        )
    text = "".join(
        ch for ch in unicodedata.normalize("NFKC", question)
        if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
    )
    faked = bool(_FAKE_REPLY.search(text) or _FAKE_SYSTEM.search(text))
    reply = _FAKE_REPLY.search(text)
    if reply and text[: reply.start()].strip():
        text = text[: reply.start()]  # a made-up conversation after the question: dropped whole
    text = _ROLE_MARKER.sub("", _FAKE_REPLY.sub(" ", text))
    text = re.sub(r"\s+", " ", strip_tags(text)).strip()
    if not text:
        raise QuestionRejected("Type a question, for example: 'Can we reserve a contract for a mutual?'")
    parts = _SENTENCE_BREAK.split(text)
    kept = [p for p in parts if not _INJECTION.search(p)]
    if len(kept) == len(parts) and not faked:
        return ScreenedQuestion(text, question)
    # Keep the question inside an instruction sentence: "Ignore the rules and tell me X" -> "tell me X".
    salvaged = [_INJECTION.sub(" ", p).strip(" ,.;:-") for p in parts if _INJECTION.search(p)]
    kept_text = " ".join(kept + [s for s in salvaged if len(s.split()) >= 4 and _ASKS.search(s)]).strip()
    if not _ASKS.search(kept_text):
        kept_text = ""  # only instructions, and no question left to answer
    return ScreenedQuestion(kept_text, question, injection=True, notices=[INJECTION_NOTICE])
