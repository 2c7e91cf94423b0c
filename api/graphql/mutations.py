"""The two audited writes (``addEvidenceQuote``, ``addDiscussionPoint``) and who may make them."""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import strawberry
from strawberry.types import Info

from kxgraph.api.graphql import types as t
from kxgraph.api.graphql.common import CLAIMS, ctx
from kxgraph.api.graphql.common import node as _node
from kxgraph.errors import KxError, RequestError
from kxgraph.graph import cypher, queries
from kxgraph.graph.schema import SEARCH_KEY, search_text
from kxgraph.loaders import embedding
from kxgraph.loaders.anchoring import anchor_quote
from kxgraph.loaders.pipeline import embedding_rows
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.ontology.vocabulary import label_of_id
from kxgraph.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["DiscussionPointInput", "Mutation", "QuoteInput", "principal_for"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


def principal_for(settings: Settings, authorization: str | None) -> str | None:
    """The token's name for a valid ``Authorization: Bearer <token>``, compared in constant time."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    given = authorization[7:].strip().encode()
    name = None
    for token, who in settings.tokens().items():
        if hmac.compare_digest(given, token.encode()):
            name = who
    return name


def _require_writer(info: Info) -> str:
    c = ctx(info)
    if not c.settings.tokens():
        raise RequestError("writes are off: no API tokens are configured (KXGRAPH_API_TOKENS)", "WRITES_OFF")
    if c.principal is None:
        raise RequestError("writes need 'Authorization: Bearer <token>' with a valid token", "UNAUTHENTICATED")
    return c.principal


def _edit(operation: str, agent: str) -> dict[str, Any]:
    now = datetime.now(timezone.utc).isoformat()
    ident = f"edit/{now[:19].replace(':', '')}-{uuid.uuid4().hex[:8]}"
    return {"id": ident, "iri": f"https://w3id.org/kxgraph/id/{ident}", "study": "", "startedAt": now,
            "agentName": agent, "operation": operation}


@strawberry.input
class QuoteInput:
    text: str = strawberry.field(description="the exact words of the document")
    hint: str | None = strawberry.field(default=None, description="a longer passage containing them once")
    occurrence: int | None = strawberry.field(default=None, description="which occurrence (1-based)")
    document: strawberry.ID | None = strawberry.field(default=None,
                                                      description="the document; optional if the study has one")


@strawberry.input
class DiscussionPointInput:
    study: str
    slug: str = strawberry.field(description="lower-case letters, digits and hyphens")
    text: str
    raised_in: strawberry.ID
    concerns: list[strawberry.ID]
    affects: list[strawberry.ID] = strawberry.field(default_factory=list)
    evidence: list[QuoteInput]


async def _anchor(info: Info, study: str, q: QuoteInput, place: str) -> tuple[dict[str, Any], str]:
    """The quote's properties, anchored in its document as the loader does, and the document id."""
    c = ctx(info)
    doc_id = str(q.document) if q.document else None
    if doc_id is None:
        docs = await c.store.read(queries.STUDY_DOCUMENTS, {"study": study})
        if len(docs) != 1:
            raise RequestError(f"{place}: say which document the quote is from ('document')", "BAD_INPUT")
        doc = docs[0]["props"]
        doc_id = doc["id"]
    else:
        doc = await c.loaders.nodes(L.SourceDocument).load(doc_id)
        if doc is None or doc.get("study") != study:
            raise RequestError(f"{place}: no document {doc_id!r} in study {study!r}", "NOT_FOUND")
    a = anchor_quote(doc["content"], q.text, hint=q.hint, occurrence=q.occurrence, file=doc_id, place=place,
                     document=doc_id)
    ident = f"{study}/quote/{doc_id.rsplit('/', 1)[-1]}/{a.start}-{a.end}/{uuid.uuid4().hex[:8]}"
    props = {"id": ident, "iri": f"https://w3id.org/kxgraph/id/{ident}", "study": study, "origin": "api",
             "exact": a.exact, "start": a.start, "end": a.end, "prefix": a.prefix, "suffix": a.suffix,
             "documentSha256": doc["sha256"], "documentIds": [doc_id]}
    props[SEARCH_KEY] = search_text(L.EvidenceQuote, props)
    return props, doc_id


async def _embed(info: Info, items: list[tuple[L, dict[str, Any]]]) -> None:
    """The text embeddings of nodes added through the API, as a load makes them, so that search by
    meaning finds them at once; kept across reloads with them. After the node is stored: should this
    write fail, the node stands, without its embedding until the next load of its study."""
    c = ctx(info)
    if not c.settings.meaning or embedding.unavailable() is not None:
        return
    try:
        for label, rows in embedding_rows(items, {}).items():
            await c.store.inner.write(c.store.inner.embedding_statement(label.value), rows)
            await c.store.execute(cypher.MARK_API_EMBEDDINGS, {"rows": [{"id": r["id"]} for r in rows]})
    except KxError as exc:
        log.warning("an embedding of a node added through the API was not written: %s", exc)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add an evidence quote to a claim; checked against its document.")
    async def add_evidence_quote(self, info: Info, claim: strawberry.ID, quote: QuoteInput) -> t.EvidenceQuote:
        agent = _require_writer(info)
        label = label_of_id(str(claim))
        if label not in CLAIMS:
            raise RequestError(f"{claim!r} is not the id of a claim", "BAD_INPUT")
        target = await ctx(info).loaders.nodes(label).load(str(claim))
        if target is None:
            raise RequestError(f"no claim {claim!r}", "NOT_FOUND")
        props, doc_id = await _anchor(info, target["study"], quote, "quote")
        props["claimIds"] = [str(claim)]
        rows = await ctx(info).store.execute(queries.add_quote(label), {
            "claim": str(claim), "document": doc_id, "quote": props, "edit": _edit("addEvidenceQuote", agent)})
        if not rows:
            raise RequestError("the claim or the document disappeared meanwhile", "CONFLICT")
        await _embed(info, [(L.EvidenceQuote, rows[0]["props"])])
        return t.build("EvidenceQuote", rows[0]["props"])

    @strawberry.mutation(description="Add a discussion point with its evidence quotes.")
    async def add_discussion_point(self, info: Info, point: DiscussionPointInput) -> t.DiscussionPoint:
        agent = _require_writer(info)
        c = ctx(info)
        if not SLUG.match(point.slug):
            raise RequestError("'slug' is lower-case letters, digits and hyphens", "BAD_INPUT")
        if not point.text.strip() or not point.evidence or not point.concerns:
            raise RequestError("a discussion point needs text, concerns and at least one evidence quote", "BAD_INPUT")
        ident = f"{point.study}/discussion-point/{point.slug}"
        if await c.loaders.nodes(L.DiscussionPoint).load(ident) is not None:
            raise RequestError(f"{ident!r} exists already", "CONFLICT")
        raised = label_of_id(str(point.raised_in))
        refs: list[tuple[str, Sequence[L], str]] = [(str(point.raised_in), (L.Activity, L.Event), "raisedIn")]
        refs += [(str(x), (L.Concept, L.Continuum), "concerns") for x in point.concerns]
        refs += [(str(x), (L.Stakeholder,), "affects") for x in point.affects]
        for ref, allowed, field in refs:
            found = await _node(info, ref, *allowed)
            if found is None or found.props["study"] != point.study:
                raise RequestError(f"{field}: no {' or '.join(a.value for a in allowed)} {ref!r} in study "
                               f"{point.study!r}", "NOT_FOUND")
        quotes = []
        for i, q in enumerate(point.evidence):
            props, _ = await _anchor(info, point.study, q, f"evidence[{i}]")
            props["claimIds"] = [ident]
            quotes.append(props)
        props = {"id": ident, "iri": f"https://w3id.org/kxgraph/id/{ident}", "study": point.study,
                 "origin": "api", "text": point.text, "raisedInIds": [str(point.raised_in)],
                 "concernsIds": [str(x) for x in point.concerns], "affectsIds": [str(x) for x in point.affects],
                 "evidenceIds": [q["id"] for q in quotes]}
        props[SEARCH_KEY] = search_text(L.DiscussionPoint, props)
        assert raised is not None
        rows = await c.store.execute(queries.add_discussion_point(raised), {
            "raised_in": str(point.raised_in), "point": props, "quotes": quotes,
            "edit": _edit("addDiscussionPoint", agent)})
        if not rows or rows[0]["quotes"] != len(quotes):
            raise RequestError("the activity or event disappeared meanwhile", "CONFLICT")
        for statement in cypher.relinks():
            await c.store.execute(statement)
        await _embed(info, [(L.DiscussionPoint, props), *((L.EvidenceQuote, q) for q in quotes)])
        return t.build("DiscussionPoint", props)
