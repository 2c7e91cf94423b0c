"""Re-anchoring benchmark: real texts, generated edits, every quote placed again and judged against
the truth.

Each edited version carries, for every character, the position it had in the old text (or none when
it was typed in), so the true place of each quote after the edits is known. A quote is:

- *re-anchored* when placed (exact, moved or fuzzy), *orphaned* otherwise;
- *wrong* when placed on words that are not mostly the quote's own: of the placed characters that
  were in the old text, fewer than half come from the quote's old span (characters typed in by the
  edit, such as a corrected letter, count neither way). The target is 0.

Texts: the bundled study's source (its 44 evidence quotes plus generated ones) and, when ../shared
is there, the two transcripts of the qc demo export with its 158 coded selections.

    python -m bench.reanchor [--versions 20] [--seed 7] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kxgraph.loaders.anchoring import CONTEXT
from kxgraph.loaders.reanchoring import OldQuote, reanchor

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_TEXT = ROOT / "data" / "studies" / "link-worker" / "documents" / "exeter-knowledge-exchange-blog.txt"
QC_DEMO = ROOT.parent / "shared" / "fixtures" / "refi-qda" / "qc-demo.qdpx"
WORDS = (
    "the", "patient", "said", "that", "support", "mattered", "more", "than", "the", "number", "of",
    "sessions", "offered", "to", "them", "link", "workers", "often", "decide", "how", "long", "to", "stay",
    "with", "someone", "and", "managers", "rarely", "intervene",
)


@dataclass
class Doc:
    name: str
    text: str
    quotes: list[tuple[int, int]]


class Edited:
    """A text under edit, every character remembering its old position (-1: typed in)."""

    def __init__(self, text: str) -> None:
        self.chars = list(text)
        self.origin = list(range(len(text)))

    def text(self) -> str:
        return "".join(self.chars)

    def insert(self, at: int, s: str) -> None:
        self.chars[at:at] = list(s)
        self.origin[at:at] = [-1] * len(s)

    def delete(self, a: int, b: int) -> tuple[list[str], list[int]]:
        cut = (self.chars[a:b], self.origin[a:b])
        del self.chars[a:b]
        del self.origin[a:b]
        return cut

    def replace(self, at: int, ch: str) -> None:
        self.chars[at] = ch
        self.origin[at] = -1

    def wrong(self, a: int, b: int, start: int, end: int) -> bool:
        """Whether [a, b) of the new text is mostly not the old quote [start, end)."""
        known = [o for o in self.origin[a:b] if o >= 0]
        return not known or sum(start <= o < end for o in known) < len(known) / 2

    def true_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where the quote's surviving characters are now, or None when fewer than half survive."""
        now = [i for i, o in enumerate(self.origin) if start <= o < end]
        if len(now) < (end - start) / 2:
            return None
        return min(now), max(now) + 1


def _sentence_ends(text: str) -> list[int]:
    return [m.end() for m in re.finditer(r"[.!?]\s|\n", text)]


def edit(text: str, kind: str, rng: random.Random) -> Edited:
    e = Edited(text)
    n = len(text)
    if kind == "insertions":
        for _ in range(rng.randint(3, 8)):
            at = rng.choice(_sentence_ends(e.text()) or [0])
            e.insert(at, " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 25))).capitalize() + ". ")
    elif kind == "deletions":
        for _ in range(rng.randint(2, 6)):
            cur = len(e.chars)
            a = rng.randrange(0, max(cur - 1, 1))
            e.delete(a, min(cur, a + rng.randint(1, 200)))
    elif kind == "whitespace":
        spaces = [m.start() for m in re.finditer(r" |\n", text)]
        for at in sorted(rng.sample(spaces, min(len(spaces), max(n // 150, 5))), reverse=True):
            if rng.random() < 0.5:
                e.insert(at, rng.choice([" ", "\n", "  "]))
            else:
                e.delete(at, at + 1)
    elif kind == "typos":
        letters = [m.start() for m in re.finditer(r"[a-z]", text)]
        for at in sorted(rng.sample(letters, min(len(letters), max(n // 300, 5))), reverse=True):
            op = rng.random()
            if op < 0.4:
                e.replace(at, rng.choice("abcdefghijklmnopqrstuvwxyz"))
            elif op < 0.7:
                e.delete(at, at + 1)
            else:
                e.insert(at, rng.choice("aeiost"))
    elif kind == "moved-paragraphs":
        for _ in range(rng.randint(1, 3)):
            cur = e.text()
            breaks = [0] + [m.end() for m in re.finditer(r"\n", cur)] + [len(cur)]
            if len(breaks) < 4:
                break
            k = rng.randrange(0, len(breaks) - 2)
            a, b = breaks[k], breaks[k + 1]
            chars, origin = e.delete(a, b)
            rest = [0] + [m.end() for m in re.finditer(r"\n", e.text())]
            at = rng.choice(rest)
            e.chars[at:at] = chars
            e.origin[at:at] = origin
    elif kind == "mixed":
        for sub in rng.sample(["insertions", "deletions", "whitespace", "typos", "moved-paragraphs"], 3):
            e2 = edit(e.text(), sub, rng)
            e2.origin = [e.origin[o] if o >= 0 else -1 for o in e2.origin]
            e = e2
    else:
        raise ValueError(kind)
    return e


KINDS = ("insertions", "deletions", "whitespace", "typos", "moved-paragraphs", "mixed")


def documents(rng: random.Random, generated: int = 150, *, real_exports: bool = True) -> list[Doc]:
    """The bundled study's source with its quotes and generated ones; with ``real_exports``, the qc
    demo's transcripts too when ../shared is there."""
    docs = []
    text = BUNDLED_TEXT.read_text(encoding="utf-8")
    from kxgraph.loaders.pipeline import prepare

    prep = prepare([BUNDLED_TEXT.parents[1]])
    quotes = sorted({(r["props"]["start"], r["props"]["end"])
                     for label, rows in prep.projected.nodes.items() if label.value == "EvidenceQuote" for r in rows})
    docs.append(Doc("link-worker blog (44 study quotes)", text, quotes))
    docs.append(Doc("link-worker blog (generated quotes)", text, _random_quotes(text, rng, generated)))
    if real_exports and QC_DEMO.is_file():
        with zipfile.ZipFile(QC_DEMO) as z:
            xml = z.read("project.qde").decode("utf-8")
            for src in re.finditer(r'<TextSource plainTextPath="([^"]+)"[^>]*>(.*?)</TextSource>', xml, re.S):
                body = z.read(f"sources/{src.group(1)}").decode("utf-8")
                spans = sorted({(int(a), int(b)) for a, b in
                                re.findall(r'startPosition="(\d+)" endPosition="(\d+)"', src.group(2))})
                docs.append(Doc(f"qc demo {src.group(1)} ({len(spans)} coded selections)", body, spans))
    return docs


def _random_quotes(text: str, rng: random.Random, n: int) -> list[tuple[int, int]]:
    """Up to ``n`` quotes of one to three sentences (or lines)."""
    ends = [0, *_sentence_ends(text)]
    spans = set()
    for k in range(len(ends) - 1):
        for width in (1, 2, 3):
            a, b = ends[k], ends[min(k + width, len(ends) - 1)]
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if 8 <= b - a <= 400:
                spans.add((a, b))
    return sorted(rng.sample(sorted(spans), min(n, len(spans))))


def run(versions: int = 20, seed: int = 7, *, real_exports: bool = True) -> dict[str, Any]:
    rng = random.Random(seed)
    docs = documents(rng, real_exports=real_exports)
    results: dict[str, Any] = {"versions": versions, "seed": seed, "kinds": {}, "documents": [d.name for d in docs]}
    started = time.perf_counter()
    placed_total = 0
    for kind in KINDS:
        c: Counter[str] = Counter()
        for doc in docs:
            for _ in range(versions):
                e = edit(doc.text, kind, rng)
                new = e.text()
                for start, end in doc.quotes:
                    old = OldQuote(doc.text[start:end], doc.text[max(0, start - CONTEXT):start],
                                   doc.text[end:end + CONTEXT], start, end)
                    p = reanchor(old, new, old_text=doc.text)
                    placed_total += 1
                    c["quotes"] += 1
                    c[p.status] += 1
                    if e.true_span(start, end) is not None:
                        c["survived"] += 1
                    if p.start is not None and p.end is not None and e.wrong(p.start, p.end, start, end):
                        c["wrong"] += 1
                        results.setdefault("wrong_examples", []).append(
                            {"edits": kind, "status": p.status, "score": p.score, "quote": old.exact,
                             "prefix": old.prefix, "suffix": old.suffix, "placed_on": new[p.start:p.end],
                             "placed_after": new[max(0, p.start - CONTEXT):p.start]})
        placed = c["exact"] + c["moved"] + c["fuzzy"]
        results["kinds"][kind] = {**dict(c), "reanchored_share": round(placed / c["quotes"], 4),
                                  "of_surviving_share": round(min(placed, c["survived"]) / max(c["survived"], 1), 4)}
    elapsed = time.perf_counter() - started
    results["seconds"] = round(elapsed, 2)
    results["ms_per_quote"] = round(1000 * elapsed / max(placed_total, 1), 3)
    return results


def table(results: dict[str, Any]) -> str:
    rows = ["| edits | quotes | exact | moved | fuzzy | orphaned | re-anchored | wrong |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, c in results["kinds"].items():
        rows.append(f"| {kind} | {c['quotes']} | {c.get('exact', 0)} | {c.get('moved', 0)} | {c.get('fuzzy', 0)} | "
                    f"{c.get('orphaned', 0)} | {100 * c['reanchored_share']:.1f} % | {c.get('wrong', 0)} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = run(args.versions, args.seed)
    print(table(results))
    print(f"\n{results['seconds']} s, {results['ms_per_quote']} ms per quote; documents: "
          + "; ".join(results["documents"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
