"""Search: by the words (the stores' full-text indexes), by meaning (text embeddings and the
stores' vector indexes, ``loaders/embedding.py``), or both fused; and the evidence nearest a node.

By meaning, a quote also ranks as high as the nearest claim it is evidence for (``via`` names that
claim, and the quote comes straight after it): a claim says in the researcher's words what its quote
means, and a small model often matches those words better than the participant's own
(BENCHMARKS.md: the issue's example "patients relying too much on the link worker" finds its quote
through the claim it backs).

Both rankings are fused by reciprocal rank (each hit scores ``1 / (60 + rank)`` in each list it is
in, as Elasticsearch's and OpenSearch's hybrid search do), so neither list's scale decides.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from kxgraph.api.graphql import types as t
from kxgraph.api.graphql.common import ctx
from kxgraph.api.graphql.errors import RequestError
from kxgraph.graph import cypher, queries
from kxgraph.loaders import embedding
from kxgraph.ontology.vocabulary import NodeLabel as L

__all__ = ["ConceptSuggestion", "SearchHit", "SearchMode", "search", "similar", "snippet", "suggested_concepts"]

#: what word search looks in
SEARCHED = (L.EvidenceQuote, L.DiscussionPoint, L.Concept, L.Consequence)
MAX_SEARCH_TEXT = 500
#: reciprocal rank fusion's constant
RRF_K = 60


@strawberry.type
class SearchHit:
    score: float = strawberry.field(description=(
        "WORDS: the full-text score; MEANING: cosine similarity (-1 to 1), of the claim in `via` when there is "
        "one; BOTH: the fused rank score"))
    kind: str
    snippet: str
    node: t.Entity
    via: t.Claim | None = strawberry.field(default=None, description=(
        "search by meaning: the claim this quote is evidence for, which is what matched (its score is the claim's)"))


@strawberry.enum(description="How search matches: by the words, by meaning, or both rankings fused.")
class SearchMode(Enum):
    WORDS = "words"
    MEANING = "meaning"
    BOTH = "both"


@strawberry.type(description=(
    "A concept suggested for a quote because the evidence nearest to it in meaning bears on that concept: "
    "a coding aid for the researcher to accept or not, never a coding"))
class ConceptSuggestion:
    concept: t.ConceptLike
    score: float = strawberry.field(description="the cosine similarity of the nearest evidence behind it")
    already_linked: bool = strawberry.field(description="the quote already bears on this concept")
    because: list[SearchHit] = strawberry.field(description="the nearest quotes and claims behind it, nearest first")


def snippet(label: L, props: dict[str, Any]) -> str:
    if label in (L.Concept, L.Continuum):
        text = " - ".join(x for x in (props.get("name"), props.get("definition")) if x)
    else:
        text = props.get("exact") or props.get("text") or props.get("name") or props.get("title") or ""
    return text if len(text) <= 240 else text[:237] + "..."


def _hit(label: str, props: dict[str, Any], score: float) -> SearchHit:
    lab = L(label)
    return SearchHit(score=score, kind=label, snippet=snippet(lab, props), node=t.build(label, props))


def _meaning_or_refuse() -> None:
    reason = embedding.unavailable()
    if reason is not None:
        raise RequestError(reason, "NOT_INSTALLED")


async def _words(info: Info, text: str, limit: int, prefix: bool) -> list[SearchHit]:
    hits: list[SearchHit] = []
    found = await ctx(info).store.fulltext_many([label.value for label in SEARCHED], text, limit, prefix=prefix)
    for label, rows in zip(SEARCHED, found, strict=True):
        hits.extend(_hit(label.value, r["node"], float(r["score"])) for r in rows)
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


async def _nearest(info: Info, vector: list[float], limit: int, skip: str | None = None,
                   study: str | None = None, evidence: dict[str, list[dict[str, Any]]] | None = None
                   ) -> list[SearchHit]:
    """The ``limit`` nodes nearest ``vector`` (leaving out ``skip`` and, with ``study``, other
    studies'); ``evidence``, when given, gets each hit's evidence quotes by its id."""
    # asked for more than the page: the node itself, and other studies' nodes, are left out after
    rows = [r for r in await ctx(info).store.nearest(vector, limit * 3 + 1)
            if r["node"].get("id") != skip and (study is None or r["node"].get("study") == study)][:limit]
    if evidence is not None:
        evidence.update((r["node"]["id"], sorted(r["evidence"] or [], key=lambda q: q["id"])) for r in rows)
    return [_hit(r["label"], r["node"], round(float(r["score"]), 6)) for r in rows]


def _with_evidence(hits: list[SearchHit], evidence: dict[str, list[dict[str, Any]]], limit: int) -> list[SearchHit]:
    """``hits`` (nearest first) with each claim's evidence quotes ranked as the claim: straight after
    it, unless a quote is nearer on its own."""
    placed: dict[str, tuple[float, int, SearchHit]] = {}  # id -> (score, place, hit)
    for rank, h in enumerate(hits):
        key = h.node.props["id"]
        if key not in placed or placed[key][0] < h.score:
            placed[key] = (h.score, 2 * rank, h)
        if L(h.kind) not in t.CLAIM_LABELS:
            continue
        for props in evidence.get(key, []):
            q = props["id"]
            if q not in placed or placed[q][0] < h.score:
                placed[q] = (h.score, 2 * rank + 1, SearchHit(score=h.score, kind=L.EvidenceQuote.value,
                                                               snippet=snippet(L.EvidenceQuote, props),
                                                               node=t.build(L.EvidenceQuote.value, props),
                                                               via=h.node))  # type: ignore[arg-type]
    order = sorted(placed.values(), key=lambda x: (-x[0], x[1]))
    return [h for _, _, h in order][:limit]


def _fuse(*rankings: list[SearchHit], limit: int) -> list[SearchHit]:
    scores: dict[str, float] = {}
    first: dict[str, SearchHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            key = hit.node.props["id"]
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(key, hit)
    order = sorted(scores, key=lambda k: (-scores[k], k))[:limit]
    return [SearchHit(score=round(scores[k], 6), kind=first[k].kind, snippet=first[k].snippet, node=first[k].node)
            for k in order]


def _check(info: Info, text: str | None, limit: int) -> None:
    if text is not None and len(text) > MAX_SEARCH_TEXT:
        raise RequestError(f"search text is limited to {MAX_SEARCH_TEXT} characters", "TOO_LONG")
    if not 1 <= limit <= ctx(info).settings.max_page_size:
        raise RequestError(f"'limit' must be between 1 and {ctx(info).settings.max_page_size}", "PAGE_SIZE")


async def search(info: Info, text: str, limit: int, prefix: bool, mode: SearchMode) -> list[SearchHit]:
    _check(info, text, limit)
    if mode is SearchMode.WORDS:
        return await _words(info, text, limit, prefix)
    _meaning_or_refuse()
    meaning: list[SearchHit] = []
    if text.strip():
        evidence: dict[str, list[dict[str, Any]]] = {}
        hits = await _nearest(info, embedding.embed([text], query=True)[0], limit, evidence=evidence)
        meaning = _with_evidence(hits, evidence, limit)
    if mode is SearchMode.MEANING:
        return meaning
    return _fuse(await _words(info, text, limit, prefix), meaning, limit=limit)


async def similar(info: Info, ident: str, limit: int, all_studies: bool) -> list[SearchHit]:
    """The quotes and claims nearest in meaning to a node's own text (itself left out)."""
    _check(info, None, limit)
    _meaning_or_refuse()
    rows = await ctx(info).store.read(cypher.EMBEDDING_OF_NODE, {"id": ident})
    if not rows or rows[0]["vector"] is None:
        return []
    study = None if all_studies else ident.split("/", 1)[0]
    return await _nearest(info, list(rows[0]["vector"]), limit, skip=ident, study=study)


async def _concepts(info: Info, hits: list[tuple[str, str]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The concepts each (label, id) bears on (``queries.concepts_of``), by id: one statement per label."""
    by_label: dict[str, list[str]] = {}
    for label, ident in hits:
        by_label.setdefault(label, []).append(ident)
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for label, ids in by_label.items():
        for r in await ctx(info).store.read(queries.concepts_of(L(label)), {"ids": ids}):
            out.setdefault(r["id"], []).append((r["label"], r["props"]))
    return out


async def suggested_concepts(info: Info, quote: str, limit: int) -> list[ConceptSuggestion]:
    """The concepts of the evidence nearest a quote in meaning, nearest first (a concept scores as
    its nearest piece of evidence does)."""
    _check(info, None, limit)
    _meaning_or_refuse()
    rows = await ctx(info).store.read(cypher.EMBEDDING_OF_NODE, {"id": quote})
    if not rows or rows[0]["vector"] is None:
        return []
    hits = [h for h in await _nearest(info, list(rows[0]["vector"]), 30, skip=quote, study=quote.split("/", 1)[0])
            if h.kind != L.Concept.value]
    concepts = await _concepts(info, [(L.EvidenceQuote.value, quote), *((h.kind, h.node.props["id"]) for h in hits)])
    own = {props["id"] for _, props in concepts.get(quote, [])}
    found: dict[str, ConceptSuggestion] = {}
    for hit in hits:  # nearest first: a concept's score is its first hit's
        for label, props in concepts.get(hit.node.props["id"], []):
            s = found.get(props["id"])
            if s is None:
                s = found[props["id"]] = ConceptSuggestion(concept=t.build(label, props), score=hit.score,
                                                           already_linked=props["id"] in own, because=[])
            if len(s.because) < 3:
                s.because.append(hit)
    return sorted(found.values(), key=lambda s: (-s.score, s.concept.props["id"]))[:limit]
