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


# Words written in more than one way that mean the same: "three" and "3", "max" and "maximum".
SAME_WORD = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "thirty": "30", "eighty": "80",
    "max": "maximum", "min": "minimum", "yrs": "years", "yr": "year", "co": "cooperative",
    "coop": "cooperative", "coops": "cooperatives", "organization": "organisation",
    "organizations": "organisations", "ringfence": "reserve", "ringfenced": "reserved",
}


_JOINED_PREFIX = re.compile(r"\b(co|re|pre|ring)[-\s](?=(?:op|oper|tender|procur|let|fenc|commission|market)\w*)")


def tokenize(text: str) -> list[str]:
    text = _JOINED_PREFIX.sub(r"\1", text.lower())
    words = [w.replace("’", "'").split("'")[0] for w in _WORD.findall(text)]
    words = [SAME_WORD.get(w, w) for w in words]
    return _stemmer().stemWords([w for w in words if w and w not in STOP_WORDS])
