"""The two audited writes (``addEvidenceQuote``, ``addDiscussionPoint``) and who may make them.

Each is an edit (``loaders/edits.py``): a small load of an entry of the study format, applied the
loader's way, recorded on its ``Edit`` node and applied again at every load of its study."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.types import Info

from kxgraph.api.graphql import types as t
from kxgraph.api.graphql.common import CLAIMS, ctx
from kxgraph.api.graphql.common import node as _node
from kxgraph.errors import RequestError
from kxgraph.loaders.edits import Edit, apply_to_store
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


def _local(ident: str, study: str, field: str) -> str:
    """An id of the study as its study file would write it (``link-worker/event/x`` -> ``x``)."""
    parts = ident.split("/", 2)
    if len(parts) != 3 or parts[0] != study:
        raise RequestError(f"{field}: {ident!r} is not an id of study {study!r}", "NOT_FOUND")
    return parts[2]


def _evidence(quotes: Sequence[QuoteInput], study: str) -> list[dict[str, Any]]:
    return [{"text": q.text, "hint": q.hint, "occurrence": q.occurrence,
             "document": _local(str(q.document), study, f"evidence[{i}].document") if q.document else None}
            for i, q in enumerate(quotes)]


async def _make(info: Info, edit: Edit) -> dict[str, dict[str, Any]]:
    """The edit made the loader's way (``loaders/edits.py``): the rows it wrote, by id."""
    c = ctx(info)
    rows = await apply_to_store(c.store, edit, meaning=c.settings.meaning)
    return {ident: {**r["props"], "id": ident} for ident, r in rows.items()}


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
        study = target["study"]
        edit = Edit.new("addEvidenceQuote", study, agent, {"claim": str(claim), "evidence": _evidence([quote], study)})
        made = await _make(info, edit)
        [props] = [p for ident, p in made.items() if label_of_id(ident) is L.EvidenceQuote]
        return t.build("EvidenceQuote", props)

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
        refs: list[tuple[str, Sequence[L], str]] = [(str(point.raised_in), (L.Activity, L.Event), "raisedIn")]
        refs += [(str(x), (L.Concept, L.Continuum), "concerns") for x in point.concerns]
        refs += [(str(x), (L.Stakeholder,), "affects") for x in point.affects]
        for ref, allowed, field in refs:
            found = await _node(info, ref, *allowed)
            if found is None or found.props["study"] != point.study:
                raise RequestError(f"{field}: no {' or '.join(a.value for a in allowed)} {ref!r} in study "
                                   f"{point.study!r}", "NOT_FOUND")
        entry = {"id": point.slug, "text": point.text,
                 "raised_in": _local(str(point.raised_in), point.study, "raisedIn"),
                 "concerns": [_local(str(x), point.study, "concerns") for x in point.concerns],
                 "affects": [_local(str(x), point.study, "affects") for x in point.affects]}
        edit = Edit.new("addDiscussionPoint", point.study, agent,
                        {"section": "discussion_points", "entry": entry,
                         "evidence": _evidence(point.evidence, point.study)})
        made = await _make(info, edit)
        return t.build("DiscussionPoint", made[ident])
