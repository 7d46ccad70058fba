"""Word tokens for keyword search and overlap scoring: lower case, stop words dropped, stemmed."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# Short English stop list; words such as "may", "must" and "not" stay, because they carry law.
STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "me", "my", "of", "on", "or", "our", "ours", "out", "over", "she", "so", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "about", "also", "any", "each", "just", "only", "own", "same", "some", "both", "few", "more", "most", "other"]
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    words = [w.replace("’", "'").split("'")[0] for w in _WORD.findall(text.lower())]
    return _stemmer().stemWords([w for w in words if w and w not in STOP_WORDS])
