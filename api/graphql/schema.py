"""The schema: the users' questions as query fields, two audited writes, and the limits."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionResult, Info

from kxgraph.api.graphql import types as t
from kxgraph.api.graphql.budget import budget
from kxgraph.api.graphql.context import Context
from kxgraph.api.graphql.errors import RequestError, should_mask
from kxgraph.api.graphql.pagination import (
    Connection,
    Edge,
    ListFilter,
    Order,
    PageInfo,
    decode_cursor,
    encode_cursor,
)
from kxgraph.api.guards import current_request, note_codes
from kxgraph.errors import QueryError
from kxgraph.graph import cypher, queries
from kxgraph.loaders.anchoring import anchor_quote
from kxgraph.loaders.identifiers import label_of_id
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.settings import Settings

__all__ = ["build_schema", "principal_for"]

CLAIMS = (L.Definition, L.DiscussionPoint, L.Consequence, L.Placement, L.Reflection, L.Method)
SEARCHED = (L.EvidenceQuote, L.DiscussionPoint, L.Concept, L.Consequence)
log = logging.getLogger(__name__)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
MAX_SEARCH_TEXT = 500


def ctx(info: Info) -> Context:
    context: Context = info.context
    return context


async def _node(info: Info, ident: str, *allowed: L) -> Any:
    label = label_of_id(ident)
    if label is None or (allowed and label not in allowed):
        return None
    props = await ctx(info).loaders.nodes(label).load(ident)
    return t.build(label.value, props) if props is not None else None


async def _page(info: Info, label: L, first: int, after: str | None, filter: ListFilter | None,
                order: Order) -> Connection[Any]:
    c = ctx(info)
    if not 1 <= first <= c.settings.max_page_size:
        raise RequestError(f"'first' must be between 1 and {c.settings.max_page_size}", "PAGE_SIZE")
    study = filter.study if filter and filter.study else None
    contains = filter.contains if filter and filter.contains else None
    after_key, after_id = decode_cursor(after) if after else (None, None)
    by_study = study is not None
    rows = await c.store.read(queries.list_page(label, order is Order.NAME_DESC, by_study),
                              {"study": study, "contains": contains, "after_key": after_key,
                               "after_id": after_id, "limit": first + 1})
    total = await c.store.read(queries.count_nodes(label, by_study), {"study": study, "contains": contains})
    edges = [Edge(cursor=encode_cursor(r["k"], r["props"]["id"]), node=t.build(label.value, r["props"]))
             for r in rows[:first]]
    return Connection(edges=edges, total_count=int(total[0]["n"]),
                      page_info=PageInfo(has_next_page=len(rows) > first,
                                         end_cursor=edges[-1].cursor if edges else None))


# --- question types --------------------------------------------------------------------------------
@strawberry.type(description="Consequences of one concept for one stakeholder with one valence.")
class ConsequenceGroup:
    stakeholder: t.Stakeholder
    concept: t.ConceptLike
    valence: str
    count: int
    consequences: list[t.Consequence]


@strawberry.type
class Ref:
    id: strawberry.ID
    name: str


@strawberry.type
class MatrixCell:
    concept: Ref
    stakeholder: Ref
    positive: int
    negative: int
    total: int


@strawberry.type(description="How many consequences each concept has for each stakeholder.")
class ConsequenceMatrix:
    concepts: list[Ref]
    stakeholders: list[Ref]
    cells: list[MatrixCell]


@strawberry.type
class SearchHit:
    score: float
    kind: str
    snippet: str
    node: t.Entity


@strawberry.type
class GraphNode:
    id: strawberry.ID
    kind: str
    name: str
    depth: int


@strawberry.type
class GraphEdge:
    source: strawberry.ID
    target: strawberry.ID
    type: str


@strawberry.type
class Neighbourhood:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool


def _snippet(label: L, props: dict[str, Any]) -> str:
    if label in (L.Concept, L.Continuum):
        text = " - ".join(x for x in (props.get("name"), props.get("definition")) if x)
    else:
        text = props.get("exact") or props.get("text") or props.get("name") or props.get("title") or ""
    return text if len(text) <= 240 else text[:237] + "..."


@strawberry.type
class Query:
    @strawberry.field(description="Any entity by id.")
    async def node(self, info: Info, id: strawberry.ID) -> t.Entity | None:
        return await _node(info, str(id))

    @strawberry.field
    async def study(self, info: Info, id: strawberry.ID) -> t.Study | None:
        return await _node(info, str(id), L.Study)

    @strawberry.field(description="A concept by id, e.g. link-worker/concept/holding: trace it to evidence.")
    async def concept(self, info: Info, id: strawberry.ID) -> t.Concept | None:
        return await _node(info, str(id), L.Concept)

    @strawberry.field
    async def continuum(self, info: Info, id: strawberry.ID) -> t.Continuum | None:
        return await _node(info, str(id), L.Continuum)

    @strawberry.field
    async def stakeholder(self, info: Info, id: strawberry.ID) -> t.Stakeholder | None:
        return await _node(info, str(id), L.Stakeholder)

    @strawberry.field
    async def event(self, info: Info, id: strawberry.ID) -> t.Event | None:
        return await _node(info, str(id), L.Event)

    @strawberry.field
    async def document(self, info: Info, id: strawberry.ID) -> t.SourceDocument | None:
        return await _node(info, str(id), L.SourceDocument)

    @strawberry.field
    async def quote(self, info: Info, id: strawberry.ID) -> t.EvidenceQuote | None:
        return await _node(info, str(id), L.EvidenceQuote)

    @strawberry.field(description="Consequences grouped by stakeholder, concept and valence.")
    async def stakeholder_consequences(self, info: Info, stakeholder: strawberry.ID | None = None,
                                       study: str | None = None) -> list[ConsequenceGroup]:
        rows = await ctx(info).store.read(queries.CONSEQUENCE_GROUPS,
                                          {"stakeholder": str(stakeholder) if stakeholder else None,
                                           "study": study})
        return [ConsequenceGroup(stakeholder=t.build("Stakeholder", r["stakeholder"]),
                                 concept=t.build(r["concept_label"], r["concept"]), valence=r["valence"],
                                 count=len(r["items"]),
                                 consequences=t.build_many([("Consequence", p) for p in r["items"]]))
                for r in rows]

    @strawberry.field(description="The concept x stakeholder matrix with counts by valence.")
    async def consequence_matrix(self, info: Info, study: str | None = None) -> ConsequenceMatrix:
        rows = await ctx(info).store.read(queries.CONSEQUENCE_MATRIX, {"study": study})
        concepts = {r["concept"]: r["concept_name"] for r in rows}
        stakeholders = {r["stakeholder"]: r["stakeholder_name"] for r in rows}
        return ConsequenceMatrix(
            concepts=[Ref(id=strawberry.ID(k), name=v) for k, v in sorted(concepts.items(), key=lambda x: x[1])],
            stakeholders=[Ref(id=strawberry.ID(k), name=v)
                          for k, v in sorted(stakeholders.items(), key=lambda x: x[1])],
            cells=[MatrixCell(concept=Ref(id=r["concept"], name=r["concept_name"]),
                              stakeholder=Ref(id=r["stakeholder"], name=r["stakeholder_name"]),
                              positive=int(r["positive"]), negative=int(r["negative"]), total=int(r["total"]))
                   for r in rows])

    @strawberry.field(description="Full-text search over quotes, discussion points, concepts and "
                                  "consequences; any text is accepted.")
    async def search(self, info: Info, text: str, limit: int = 20) -> list[SearchHit]:
        if len(text) > MAX_SEARCH_TEXT:
            raise RequestError(f"search text is limited to {MAX_SEARCH_TEXT} characters", "TOO_LONG")
        if not 1 <= limit <= ctx(info).settings.max_page_size:
            raise RequestError(f"'limit' must be between 1 and {ctx(info).settings.max_page_size}", "PAGE_SIZE")
        hits: list[SearchHit] = []
        for label in SEARCHED:
            for r in await ctx(info).store.fulltext(label.value, text, limit):
                hits.append(SearchHit(score=float(r["score"]), kind=label.value,
                                      snippet=_snippet(label, r["node"]), node=t.build(label.value, r["node"])))
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    @strawberry.field(description="The nodes around one node, out to `depth` steps (1-3), at most `limit`.")
    async def neighbourhood(self, info: Info, id: strawberry.ID, depth: int = 1,
                            limit: int = 100) -> Neighbourhood | None:
        c = ctx(info)
        if not 1 <= depth <= 3:
            raise RequestError("'depth' must be 1, 2 or 3", "BAD_ARGUMENT")
        cap = c.settings.max_neighbourhood_nodes
        if not 1 <= limit <= cap:
            raise RequestError(f"'limit' must be between 1 and {cap}", "PAGE_SIZE")
        start = await _node(info, str(id))
        if start is None:
            return None
        nodes = {start.props["id"]: GraphNode(id=start.props["id"], kind=start._label.value,
                                              name=start.props.get("name") or _snippet(start._label, start.props)
                                              or start.props["id"],
                                              depth=0)}
        edges: dict[tuple[str, str, str], GraphEdge] = {}
        frontier: dict[str, list[str]] = {start._label.value: [start.props["id"]]}
        truncated = False
        for level in range(1, depth + 1):
            following: dict[str, list[str]] = {}
            for label, ids in sorted(frontier.items()):
                rows = await c.store.read(queries.neighbours(label), {"ids": ids, "limit": limit * 4})
                for r in rows:
                    src, dst = (r["id"], r["bid"]) if r["outgoing"] else (r["bid"], r["id"])
                    if r["bid"] not in nodes:
                        if len(nodes) >= limit:
                            truncated = True
                            continue
                        nodes[r["bid"]] = GraphNode(id=r["bid"], kind=r["label"], name=str(r["name"]),
                                                    depth=level)
                        following.setdefault(r["label"], []).append(r["bid"])
                    edges[(src, r["type"], dst)] = GraphEdge(source=src, target=dst, type=r["type"])
            frontier = following
            if not frontier:
                break
        return Neighbourhood(nodes=list(nodes.values()), edges=list(edges.values()), truncated=truncated)

    # lists with filters, sorting and cursor pagination
    @strawberry.field
    async def studies(self, info: Info, first: int = 20, after: str | None = None,
                      filter: ListFilter | None = None, order: Order = Order.NAME_ASC) -> Connection[t.Study]:
        return await _page(info, L.Study, first, after, filter, order)

    @strawberry.field
    async def concepts(self, info: Info, first: int = 20, after: str | None = None,
                       filter: ListFilter | None = None, order: Order = Order.NAME_ASC) -> Connection[t.Concept]:
        return await _page(info, L.Concept, first, after, filter, order)

    @strawberry.field
    async def stakeholders(self, info: Info, first: int = 20, after: str | None = None,
                           filter: ListFilter | None = None,
                           order: Order = Order.NAME_ASC) -> Connection[t.Stakeholder]:
        return await _page(info, L.Stakeholder, first, after, filter, order)

    @strawberry.field
    async def events(self, info: Info, first: int = 20, after: str | None = None,
                     filter: ListFilter | None = None, order: Order = Order.NAME_ASC) -> Connection[t.Event]:
        return await _page(info, L.Event, first, after, filter, order)

    @strawberry.field
    async def discussion_points(self, info: Info, first: int = 20, after: str | None = None,
                                filter: ListFilter | None = None,
                                order: Order = Order.NAME_ASC) -> Connection[t.DiscussionPoint]:
        return await _page(info, L.DiscussionPoint, first, after, filter, order)

    @strawberry.field
    async def consequences(self, info: Info, first: int = 20, after: str | None = None,
                           filter: ListFilter | None = None,
                           order: Order = Order.NAME_ASC) -> Connection[t.Consequence]:
        return await _page(info, L.Consequence, first, after, filter, order)

    @strawberry.field
    async def evidence_quotes(self, info: Info, first: int = 20, after: str | None = None,
                              filter: ListFilter | None = None,
                              order: Order = Order.NAME_ASC) -> Connection[t.EvidenceQuote]:
        return await _page(info, L.EvidenceQuote, first, after, filter, order)

    @strawberry.field
    async def documents(self, info: Info, first: int = 20, after: str | None = None,
                        filter: ListFilter | None = None,
                        order: Order = Order.NAME_ASC) -> Connection[t.SourceDocument]:
        return await _page(info, L.SourceDocument, first, after, filter, order)


# --- writes ------------------------------------------------------------------------------------------
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
        docs = await c.store.read(queries.list_page(L.SourceDocument, by_study=True),
                                  {"study": study, "contains": None, "after_key": None, "after_id": None,
                                   "limit": 2})
        if len(docs) != 1:
            raise RequestError(f"{place}: say which document the quote is from ('document')", "BAD_INPUT")
        doc = docs[0]["props"]
        doc_id = doc["id"]
    else:
        doc = await c.loaders.nodes(L.SourceDocument).load(doc_id)
        if doc is None or doc.get("study") != study:
            raise RequestError(f"{place}: no document {doc_id!r} in study {study!r}", "NOT_FOUND")
    a = anchor_quote(doc["content"], q.text, hint=q.hint, occurrence=q.occurrence, file=doc_id, place=place)
    ident = f"{study}/quote/{doc_id.rsplit('/', 1)[-1]}/{a.start}-{a.end}/{uuid.uuid4().hex[:8]}"
    props = {"id": ident, "iri": f"https://w3id.org/kxgraph/id/{ident}", "study": study, "origin": "api",
             "exact": a.exact, "start": a.start, "end": a.end, "prefix": a.prefix, "suffix": a.suffix,
             "documentSha256": doc["sha256"], "documentIds": [doc_id]}
    return props, doc_id


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
        assert raised is not None
        rows = await c.store.execute(queries.add_discussion_point(raised), {
            "raised_in": str(point.raised_in), "point": props, "quotes": quotes,
            "edit": _edit("addDiscussionPoint", agent)})
        if not rows or rows[0]["quotes"] != len(quotes):
            raise RequestError("the activity or event disappeared meanwhile", "CONFLICT")
        for statement in cypher.relinks():
            await c.store.execute(statement)
        return t.build("DiscussionPoint", props)


class RoundTrips(SchemaExtension):
    """Adds ``extensions.roundTrips``: how many times the request went to the store."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        store = getattr(context, "store", None)
        response = getattr(context, "response", None)
        if getattr(store, "unavailable", False) and response is not None:
            response.status_code = 503  # the store is down: say so in HTTP too, and when to retry
            response.headers["Retry-After"] = "1"
        return {"roundTrips": getattr(store, "round_trips", 0)}


class NoSuggestions(SchemaExtension):
    """Production mode: validation errors do not name the schema's fields ("Did you mean …?")."""

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or []:
            error.message = _SUGGESTION.sub("", error.message)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class KxSchema(strawberry.Schema):
    """Errors are logged as one line per failed request, without the query or its variables (they
    carry the study's text); only an unexpected error (a bug) is logged with its traceback. A
    request that runs longer than the settings' budget is stopped with ``TIMEOUT``."""

    timeout_s: float = 15.0

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            result = await asyncio.wait_for(super().execute(query, *args, **kwargs), self.timeout_s)
        except asyncio.TimeoutError:
            error = GraphQLError(f"the request took longer than {self.timeout_s:g} s and was stopped: ask for less",
                                 extensions={"code": "TIMEOUT"})
            return ExecutionResult(data=None, errors=[error])
        for error in result.errors or []:  # one shape: every error has a code
            if not (error.extensions or {}).get("code"):
                code = "INTERNAL" if error.message == "internal error" else "GRAPHQL_INVALID"
                error.extensions = {**(error.extensions or {}), "code": code}
        return result

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """The codes go to the request's one log line (api/guards.py); a bug's traceback is logged."""
        note_codes({str((e.extensions or {}).get("code", "GRAPHQL")) if not should_mask(e) else "INTERNAL"
                    for e in errors})
        record = current_request()
        rid = record.id if record else "-"
        for e in errors:
            if isinstance(e.original_error, QueryError):
                log.warning("request %s: the store refused a statement: %s", rid, str(e.original_error)[:300])
            elif should_mask(e):
                log.error("request %s: unexpected error in GraphQL field %s", rid,
                          ".".join(map(str, e.path or []))[:200], exc_info=e.original_error)


def build_schema(settings: Settings) -> strawberry.Schema:
    # Depth, aliases and cost are measured before execution in one walk that remembers each
    # fragment (budget.py): linear in the document, whatever its fragments do. Parsing and
    # validation are cached per query text (bounded LRUs): validation was the largest part of a
    # small query's time in the profile (BENCHMARKS.md).
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        budget(settings.max_query_depth, settings.max_aliases, settings.max_query_cost),
        lambda: MaskErrors(should_mask_error=should_mask, error_message="internal error"),
        RoundTrips,
    ]
    if settings.production:
        extensions += [DisableIntrospection, NoSuggestions]
    schema = KxSchema(query=Query, mutation=Mutation, extensions=extensions, types=list(t.TYPES.values()))
    schema.timeout_s = settings.request_timeout_s
    return schema
