"""Place a quote again in a new version of its document, or say plainly that it cannot be placed.

In the spirit of Hypothesis's anchoring (a position selector checked against a quote selector with
its prefix and suffix), in four steps:

1. **exact** - the same text at the same position;
2. **moved** - the same text elsewhere, told apart from other copies by its context;
3. **fuzzy** - the region is found by approximate matching of prefix + quote + suffix (rapidfuzz),
   the quote's ends are carried over by an edit-distance alignment of that context with the region,
   and the result is kept only if the quote and its context are similar enough;
4. **orphaned** - nothing good enough: the quote keeps its old words, loses its position, and is
   reported. It is never attached to other words to look complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from kxgraph.loaders.anchoring import occurrences

__all__ = ["MIN_CONTEXT", "MIN_QUOTE", "OldQuote", "Placed", "reanchor"]

#: similarity (0-1) the found text must have with the old quote
MIN_QUOTE = 0.85
#: similarity the text around it must have with the old prefix and suffix; a short quote carries
#: little evidence of its own, so it needs more from its context
MIN_CONTEXT = 0.5
SHORT_QUOTE = 20
#: a quote at least this long is unlikely to recur by chance: its own text is evidence enough
LONG_QUOTE = 40
#: at most this many copies of a quote's text are compared by context
MAX_COPIES = 200


@dataclass(frozen=True)
class OldQuote:
    exact: str
    prefix: str
    suffix: str
    start: int | None
    end: int | None


@dataclass(frozen=True)
class Placed:
    status: str            # exact | moved | fuzzy | orphaned
    start: int | None
    end: int | None
    score: float           # similarity of the placed text to the old quote (0 when orphaned)

    def exact_in(self, text: str) -> str | None:
        return None if self.start is None or self.end is None else text[self.start:self.end]


def _sim(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return float(fuzz.ratio(a, b)) / 100.0


def _context(q: OldQuote, text: str, start: int, end: int) -> float:
    """How well the text around [start, end) matches the quote's old prefix and suffix (0-1)."""
    parts = []
    if q.prefix:
        parts.append(_sim(q.prefix, text[max(0, start - len(q.prefix)):start]))
    if q.suffix:
        parts.append(_sim(q.suffix, text[end:end + len(q.suffix)]))
    return sum(parts) / len(parts) if parts else 1.0


def _trusted(q: OldQuote, quote_score: float, context_score: float, unique_before: bool) -> bool:
    if quote_score < MIN_QUOTE:
        return False
    needed = MIN_CONTEXT if len(q.exact) >= LONG_QUOTE else 0.65 if len(q.exact) >= SHORT_QUOTE else 0.8
    if context_score >= needed:
        return True
    # a changed context: only a long quote whose words were unique may stand on its own words
    return unique_before and len(q.exact) >= LONG_QUOTE and quote_score >= 0.95


def _map(opcodes: list[tuple[str, int, int, int, int]], p: int, end_of_dst: int) -> int:
    """Carry a position of the old context over to the region, through an alignment."""
    for tag, i1, i2, j1, j2 in opcodes:
        if i1 <= p < i2:
            if tag in ("equal", "replace"):
                return j1 + min(p - i1, max(j2 - j1 - 1, 0))
            return j1  # deleted: the position falls where the deletion was
    return end_of_dst


def reanchor(q: OldQuote, text: str, *, old_text: str | None = None) -> Placed:
    """Where ``q`` is in ``text`` (the new version of its document), and how sure that is.

    ``old_text``, the version the quote was anchored in, tells whether the quote's words were unique
    there: only then may a long quote be placed on its own words when their context has changed."""
    n = len(q.exact)
    unique_before = old_text is not None and old_text.count(q.exact) <= 1
    # 1. exact (when the words recur, their context must agree too: a copy may have slid into place)
    if q.start is not None and q.end is not None and text[q.start:q.end] == q.exact and (
            old_text is None or unique_before or _trusted(q, 1.0, _context(q, text, q.start, q.end), False)):
        return Placed("exact", q.start, q.end, 1.0)
    # 2. moved: the same words elsewhere, the copy whose context fits best (then the nearest)
    expected = q.start or 0
    if old_text and q.start is not None:
        expected = round(q.start * len(text) / max(len(old_text), 1))
    copies = occurrences(text, q.exact, MAX_COPIES) if q.exact else []
    if copies:
        ranked = sorted(copies, key=lambda i: (-_context(q, text, i, i + n), abs(i - expected)))
        best = ranked[0]
        ctx = _context(q, text, best, best + n)
        ambiguous = len(ranked) > 1 and _context(q, text, ranked[1], ranked[1] + n) >= ctx - 1e-9 \
            and ctx < 1.0
        if _trusted(q, 1.0, ctx, unique_before) and not (ambiguous and n < LONG_QUOTE):
            return Placed("moved", best, best + n, 1.0)
    # 3. fuzzy: find the region, carry the quote's ends over, judge the result
    placed = _fuzzy(q, text, unique_before)
    if placed is not None:
        return placed
    # 4. orphaned
    return Placed("orphaned", None, None, 0.0)


def _fuzzy(q: OldQuote, text: str, unique_before: bool) -> Placed | None:
    if not q.exact or not text:
        return None
    context = q.prefix + q.exact + q.suffix
    if len(context) >= len(text):
        region_start, region_end = 0, len(text)
    else:
        found = fuzz.partial_ratio_alignment(context, text, score_cutoff=MIN_QUOTE * 100 * 0.8)
        if found is None:
            return None
        slack = len(context) // 4 + 8
        region_start = max(0, found.dest_start - slack)
        region_end = min(len(text), found.dest_end + slack)
    region = text[region_start:region_end]
    ops = [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
           for op in Levenshtein.opcodes(context, region)]
    first = len(q.prefix)
    last = len(q.prefix) + len(q.exact) - 1
    start = region_start + _map(ops, first, len(region))
    end = min(region_start + _map(ops, last, len(region)) + 1, len(text))
    if end <= start:
        return None
    # the alignment may leave a boundary on whitespace the old quote did not have at its ends
    while start < end and text[start].isspace() and not q.exact[0].isspace():
        start += 1
    while end > start and text[end - 1].isspace() and not q.exact[-1].isspace():
        end -= 1
    if end <= start:
        return None
    quote_score = _sim(q.exact, text[start:end])
    if not _trusted(q, quote_score, _context(q, text, start, end), unique_before):
        return None
    return Placed("fuzzy", start, end, round(quote_score, 4))
