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


#: the shortest start of a word searched as a prefix (shorter ones match too much)
MIN_PREFIX = 2


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[tuple[str, ...], ...]
    phrases: tuple[tuple[str, ...], ...]
    prefix: str | None = None  # the last word typed so far, matched as the start of a word

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases or self.prefix)

    def lucene(self, reserved: frozenset[str] = frozenset({"AND", "OR", "NOT", "TO"})) -> str:
        def term(w: str) -> str:
            return w.lower() if w in reserved else w
        parts = ['"' + " ".join(term(w) for w in p) + '"' for p in self.phrases]
        parts += ["(" + " OR ".join(term(v) for v in group) + ")" for group in self.words]
        if self.prefix:
            parts.append(self.prefix.lower() + "*")
        return " ".join(parts)

    def redisearch(self) -> str:
        parts = ['"' + " ".join(p) + '"' for p in self.phrases]
        parts += ["(" + "|".join(group) + ")" for group in self.words]
        if self.prefix:
            parts.append(self.prefix + "*")
        return "|".join(parts)


def parse_search(text: str, *, prefix_last: bool = False) -> SearchQuery:
    """What ``text`` asks for; with ``prefix_last`` its last word (if not inside quotes) is the
    start of a word, as when someone is still typing it."""
    phrases: list[tuple[str, ...]] = []
    quoted: list[str] = []  # a quoted single word is a word
    for m in _PHRASE.finditer(text):
        inside = tuple(_WORD.findall(m.group(1)))
        if len(inside) > 1:
            phrases.append(inside)
        else:
            quoted.extend(inside)
    words: list[str] = _WORD.findall(_PHRASE.sub(" ", text))
    prefix = None
    if prefix_last and words and not text.rstrip().endswith('"') and len(words[-1]) >= MIN_PREFIX:
        prefix = words.pop()
    seen: set[str] = set()
    groups = []
    for w in quoted + words:
        if w.lower() not in seen:
            seen.add(w.lower())
            groups.append(_variants(w))
    return SearchQuery(words=tuple(groups), phrases=tuple(phrases), prefix=prefix)
