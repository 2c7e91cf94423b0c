"""What a person types into search, read the same way for both stores: words, any of which may
match (the more match, the higher the hit), each with its plural or singular (GP / GPs), and
"quoted phrases" that must match as written. Each backend writes it in its own query language
(Lucene for Neo4j, RediSearch for FalkorDB); only words (letters and digits) reach either, so no
text is ever a syntax error."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SearchQuery", "parse_search"]

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")


def _variants(word: str) -> tuple[str, ...]:
    """The word, and its plural or singular by the plain English -s rule (stemming in the index
    handles the rest: waited / waiting / wait)."""
    if word.lower().endswith("s") and len(word) >= 3:
        return (word, word[:-1])
    return (word, word + "s")


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[tuple[str, ...], ...]
    phrases: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    def lucene(self, reserved: frozenset[str] = frozenset({"AND", "OR", "NOT", "TO"})) -> str:
        def term(w: str) -> str:
            return w.lower() if w in reserved else w
        parts = ['"' + " ".join(term(w) for w in p) + '"' for p in self.phrases]
        parts += ["(" + " OR ".join(term(v) for v in group) + ")" for group in self.words]
        return " ".join(parts)

    def redisearch(self) -> str:
        parts = ['"' + " ".join(p) + '"' for p in self.phrases]
        parts += ["(" + "|".join(group) + ")" for group in self.words]
        return "|".join(parts)


def parse_search(text: str) -> SearchQuery:
    phrases = []
    for m in _PHRASE.finditer(text):
        words = tuple(_WORD.findall(m.group(1)))
        if len(words) > 1:
            phrases.append(words)
        elif words:  # a quoted single word is a word
            text += " " + words[0]
    rest = _PHRASE.sub(" ", text)
    seen: set[str] = set()
    groups = []
    for w in _WORD.findall(rest):
        if w.lower() not in seen:
            seen.add(w.lower())
            groups.append(_variants(w))
    return SearchQuery(words=tuple(groups), phrases=tuple(phrases))
