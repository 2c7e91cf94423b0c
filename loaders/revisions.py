"""A document replaced by a new version: every quote on it placed again (see ``reanchoring``), its
outcome stored on the quote (``anchorStatus``, ``anchorScore``) and reported.

Used by ``kxgraph replace-document`` (one document in the store); the placing itself
(``reanchoring``) also places the quotes of edits made through the API when a load applies them to a
document whose text changed (``loaders/edits.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kxgraph.errors import InputError
from kxgraph.graph import cypher
from kxgraph.graph.schema import SEARCH_KEY, search_text
from kxgraph.graph.store import Row, Store
from kxgraph.loaders.anchoring import CONTEXT, sha256_text
from kxgraph.loaders.documents import read_new_document
from kxgraph.loaders.reanchoring import OldQuote, Placed, reanchor
from kxgraph.ontology.vocabulary import NodeLabel

__all__ = ["Outcome", "Revision", "anchor_props", "replace_document"]


@dataclass(frozen=True)
class Outcome:
    quote: str
    status: str
    score: float
    old: str
    new: str | None
    start: int | None
    end: int | None


@dataclass
class Revision:
    document: str
    sha256: str
    changed: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))


def anchor_props(old: OldQuote, placed: Placed, text: str, sha256: str) -> dict[str, Any]:
    """The quote's properties after placing it in ``text``."""
    if placed.start is None or placed.end is None:
        # the words stay as they were, the position goes: nothing points at text that is not the quote
        return {"start": None, "end": None, "anchorStatus": "orphaned", "anchorScore": 0.0}
    exact = text[placed.start:placed.end]
    return {"start": placed.start, "end": placed.end, "exact": exact,
            SEARCH_KEY: search_text(NodeLabel.EvidenceQuote, {"exact": exact}),
            "prefix": text[max(0, placed.start - CONTEXT):placed.start],
            "suffix": text[placed.end:placed.end + CONTEXT], "documentSha256": sha256,
            "anchorStatus": placed.status, "anchorScore": placed.score}


def place_all(rows: list[Row], old_text: str | None, text: str, sha256: str) -> tuple[list[Row], list[Outcome]]:
    """Place quotes (rows with id, exact, prefix, suffix, start, end) in ``text``."""
    updates, outcomes = [], []
    for r in rows:
        old = OldQuote(r["exact"] or "", r["prefix"] or "", r["suffix"] or "", r["start"], r["end"])
        placed = reanchor(old, text, old_text=old_text)
        props = anchor_props(old, placed, text, sha256)
        updates.append({"id": r["id"], "props": props})
        outcomes.append(Outcome(quote=r["id"], status=placed.status, score=placed.score, old=old.exact,
                                new=placed.exact_in(text), start=placed.start, end=placed.end))
    return updates, outcomes


async def replace_document(store: Store, document_id: str, path: Path) -> Revision:
    """Replace a document's text in the store with a new version of it and place its quotes again,
    in one transaction."""
    rows = await store.read(cypher.DOCUMENT_QUOTES, {"id": document_id})
    if not rows:
        raise InputError(f"no document {document_id!r} in the store", place="document id",
                         fix="give a document id as the API shows it, e.g. link-worker/document/<slug>")
    text, media = read_new_document(Path(path)) if Path(path).suffix.lower() != ".txt" else _plain(Path(path))
    sha = sha256_text(text)
    old_text = rows[0]["content"]
    quotes = [{"id": r["quote"], **{k: r[k] for k in ("exact", "prefix", "suffix", "start", "end")}}
              for r in rows if r["quote"] is not None]
    revision = Revision(document=document_id, sha256=sha, changed=sha != rows[0]["sha256"])
    if not revision.changed:
        revision.outcomes = [Outcome(q["id"], "exact", 1.0, q["exact"], q["exact"], q["start"], q["end"])
                             for q in quotes]
        return revision
    updates, revision.outcomes = place_all(quotes, old_text, text, sha)
    await store.execute(cypher.REPLACE_DOCUMENT, {
        "id": document_id, "quotes": updates,
        "document": {"content": text, "sha256": sha, "length": len(text), "mediaType": media}})
    return revision


def _plain(path: Path) -> tuple[str, str]:
    """A plain-text new version is taken as it is (as the study's own documents are), not normalised:
    its offsets must mean the same as those of the file a study keeps."""
    from kxgraph.loaders.sources import read_document

    return read_document(path, cited_from=str(path)), "text/plain"
