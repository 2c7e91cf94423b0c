"""Evidence quotes: find a quote's exact text in its document and describe where it sits, as the
W3C Web Annotation selectors do (TextPositionSelector: start/end in Unicode code points, end
exclusive; TextQuoteSelector: exact, prefix, suffix)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick
from rapidfuzz import fuzz

from kxgraph.errors import QuoteError

__all__ = ["CONTEXT", "Anchor", "DocumentIndex", "anchor_quote", "check_anchor", "occurrences", "sha256_text"]

#: characters of prefix and suffix kept with each quote
CONTEXT = 32


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str

    @classmethod
    def at(cls, text: str, start: int, end: int) -> Anchor:
        return cls(start=start, end=end, exact=text[start:end],
                   prefix=text[max(0, start - CONTEXT):start], suffix=text[end:end + CONTEXT])


def occurrences(text: str, exact: str, limit: int | None = None) -> list[int]:
    """Every start of ``exact`` in ``text`` (overlapping ones too), at most ``limit``."""
    found: list[int] = []
    i = text.find(exact)
    while i != -1 and (limit is None or len(found) < limit):
        found.append(i)
        i = text.find(exact, i + 1)
    return found


class DocumentIndex:
    """Every start of many passages (a document's quotes and hints) in one document, found in one
    pass over its text with an Aho-Corasick automaton: finding each quote on its own read the whole
    document once per quote (twice ``str.find``: the first start, then whether there is another),
    which grows with quotes x document length. The starts are :func:`occurrences`' (overlapping ones
    too, in order); a passage not given here is looked up in the text as before."""

    def __init__(self, text: str, passages: Iterable[str]) -> None:
        self.text = text
        self._starts: dict[str, list[int]] = {p: [] for p in passages if p}
        if self._starts:
            automaton = ahocorasick.Automaton()
            for passage in self._starts:
                automaton.add_word(passage, passage)
            automaton.make_automaton()
            for end, passage in automaton.iter(text):
                self._starts[passage].append(end - len(passage) + 1)

    def occurrences(self, passage: str) -> list[int]:
        found = self._starts.get(passage)
        return list(found) if found is not None else occurrences(self.text, passage)


#: characters that change how text looks or joins but are easy to lose when copying (an emoji's
#: joiner, variation selectors, soft hyphen, zero-width space)
INVISIBLE = dict.fromkeys(map(ord, "\u200d\u200c\ufe0e\ufe0f\u00ad\u200b\u2060"))
#: typographic quotes and dashes, and what people type instead
TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u00a0": " "})
#: the least similarity (0-100) at which the nearest passage is worth showing
NEAREST_MIN = 60


def why_not_found(text: str, exact: str) -> str:
    """What makes ``exact`` differ from the document, in words: white space, Unicode forms,
    invisible joiners, typographic quotes or dashes; else the nearest passage and where it is."""
    def folded(s: str) -> str:
        return " ".join(s.split())

    checks = (
        (folded, "it differs only in white space or line breaks (quote the words as the document "
                 "breaks them; a YAML block scalar keeps line breaks)"),
        (lambda s: unicodedata.normalize("NFC", s), "it matches once both are in the same Unicode form: an "
         "accented letter is one character on one side and a letter plus a combining accent on the other "
         "(copy it from the document, or save both as NFC)"),
        (lambda s: s.translate(INVISIBLE), "it differs only in invisible characters (a zero-width joiner "
         "U+200D, as inside emoji, a variation selector U+FE0F, or a soft hyphen)"),
        (lambda s: s.translate(TYPOGRAPHIC), "it differs only in quotes, dashes or spaces: the document "
         "has typographic ones (\u2018 \u2019 \u201c \u201d \u2013 \u2014 or a no-break space)"),
    )
    for norm, why in checks:
        n = norm(exact)
        if n and n in norm(text):
            return f" ({why})"
    best = fuzz.partial_ratio_alignment(exact, text, score_cutoff=NEAREST_MIN)
    if best is None:
        return ""
    near = text[best.dest_start:best.dest_end]
    shown = near if len(near) <= 80 else near[:77] + "..."
    return (f"; the nearest passage ({best.score:.0f} % alike) is at characters {best.dest_start}-{best.dest_end}: "
            f"{shown!r}")


def anchor_quote(text: str, exact: str, *, hint: str | None = None, occurrence: int | None = None,
                 file: str, place: str, document: str | None = None, index: DocumentIndex | None = None) -> Anchor:
    """Where ``exact`` sits in ``text``. Ambiguity is resolved by ``hint`` (a longer passage of the
    document that contains the quote once) or ``occurrence`` (1-based); otherwise it is an error.
    ``index``: the text's :class:`DocumentIndex`, when many quotes of one document are anchored."""
    if not exact or not exact.strip():
        raise QuoteError("an evidence quote is empty", file=file, place=place,
                         fix="write the exact words of the source that support the claim")
    find = index.occurrences if index is not None and index.text is text else (lambda s: occurrences(text, s))
    starts = find(exact)
    short = exact if len(exact) <= 80 else exact[:77] + "..."
    if not starts:
        which = f" {document!r}" if document else ""
        raise QuoteError(f"the quote {short!r} is not in the document{which}{why_not_found(text, exact)}",
                         file=file, place=place,
                         fix="copy the words exactly as they stand in the source, quotes and dashes included")
    if hint is not None:
        hints = find(hint)
        if len(hints) != 1:
            raise QuoteError(f"the hint {hint[:60]!r} occurs {len(hints)} times in the document",
                             file=file, place=place, fix="give a hint passage that occurs exactly once")
        h = hints[0]
        inside = [s for s in starts if h <= s and s + len(exact) <= h + len(hint)]
        if len(inside) != 1:
            raise QuoteError(f"the quote {short!r} occurs {len(inside)} times inside its hint",
                             file=file, place=place, fix="give a hint that contains the quote exactly once")
        starts = inside
    elif occurrence is not None:
        if not 1 <= occurrence <= len(starts):
            raise QuoteError(f"occurrence {occurrence} asked for, but the quote {short!r} occurs "
                             f"{len(starts)} time(s)", file=file, place=place,
                             fix=f"use an occurrence between 1 and {len(starts)}")
        starts = [starts[occurrence - 1]]
    if len(starts) > 1:
        raise QuoteError(f"the quote {short!r} is ambiguous: it occurs {len(starts)} times (at "
                         f"{', '.join(map(str, starts[:5]))})", file=file, place=place,
                         fix="add 'hint: <a longer passage around it>' or 'occurrence: N'")
    return Anchor.at(text, starts[0], starts[0] + len(exact))


def check_anchor(text: str, checksum: str, *, start: int, end: int, exact: str,
                 document_sha256: str | None, file: str, place: str) -> Anchor:
    """A quote that already has offsets (RDF input): they must point at its exact text."""
    if document_sha256 is not None and document_sha256 != checksum:
        raise QuoteError(f"the quote was made against another version of the document "
                         f"(sha256 {document_sha256[:12]}…, the document is {checksum[:12]}…)",
                         file=file, place=place, fix="re-anchor the quote against the current text")
    if not (0 <= start < end <= len(text)) or text[start:end] != exact:
        got = text[start:end] if 0 <= start < end <= len(text) else "(outside the document)"
        raise QuoteError(f"the quote's offsets {start}-{end} hold {got[:60]!r}, not {exact[:60]!r}",
                         file=file, place=place, fix="correct start/end, or give the exact text only")
    return Anchor.at(text, start, end)
