"""The schema: the users' questions as query fields (the writes are in ``mutations.py``, the
machinery in ``extensions.py``), assembled with its limits by :func:`build_schema`."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.types import Info

from kxgraph.api.graphql import search as finding
from kxgraph.api.graphql import types as t
from kxgraph.api.graphql.budget import budget
from kxgraph.api.graphql.common import ctx
from kxgraph.api.graphql.common import node as _node
from kxgraph.api.graphql.compiler import CompiledExecution, matrix_parts
from kxgraph.api.graphql.connections import connection_types, list_field
from kxgraph.api.graphql.errors import RequestError, should_mask
from kxgraph.api.graphql.extensions import KxSchema, NoSuggestions, RoundTrips, ValidatedOnce
from kxgraph.api.graphql.mutations import Mutation, principal_for
from kxgraph.api.graphql.search import ConceptSuggestion, SearchHit, SearchMode, snippet
from kxgraph.graph import queries, read_tree
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.ontology.vocabulary import label_of_id
from kxgraph.settings import Settings

__all__ = ["build_schema", "principal_for"]



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
        statement = queries.consequence_groups(by_id=bool(stakeholder), by_study=study is not None)
        rows = await ctx(info).store.read(statement, {"stakeholder": str(stakeholder) if stakeholder else None,
                                                      "study": study})
        return [ConsequenceGroup(stakeholder=t.build("Stakeholder", r["stakeholder"]),
                                 concept=t.build(r["concept_label"], r["concept"]), valence=r["valence"],
                                 count=len(r["items"]),
                                 consequences=t.build_many([("Consequence", p) for p in r["items"]]))
                for r in rows]

    @strawberry.field(description="The concept x stakeholder matrix with counts by valence.")
    async def consequence_matrix(self, info: Info, study: str | None = None) -> ConsequenceMatrix:
        m = matrix_parts(await ctx(info).store.read(queries.consequence_matrix(by_study=study is not None),
                                                    {"study": study}))
        return ConsequenceMatrix(
            concepts=[Ref(**r) for r in m["concepts"]], stakeholders=[Ref(**r) for r in m["stakeholders"]],
            cells=[MatrixCell(**{**c, "concept": Ref(**c["concept"]), "stakeholder": Ref(**c["stakeholder"])})
                   for c in m["cells"]])

    @strawberry.field(description="Search quotes, discussion points, concepts and consequences (and, by "
                                  "meaning, definitions): by the words (the default), by meaning, or both; any text "
                                  "is accepted.")
    async def search(self, info: Info, text: str, limit: int = 20,
                     prefix: Annotated[bool, strawberry.argument(
                         description="the last word may be the start of a word: search as you type")] = False,
                     mode: Annotated[SearchMode, strawberry.argument(
                         description="MEANING and BOTH need the optional model (pip install 'kxgraph[semantic]')")]
                     = SearchMode.WORDS,
                     ) -> list[SearchHit]:
        return await finding.search(info, text, limit, prefix, mode)

    @strawberry.field(description="The quotes and claims nearest in meaning to a quote's or claim's own text, in "
                                  "its study (or in every study); needs the optional model.")
    async def similar(self, info: Info, id: strawberry.ID, limit: int = 10,
                      all_studies: bool = False) -> list[SearchHit]:
        return await finding.similar(info, str(id), limit, all_studies)

    @strawberry.field(description="Concepts a quote may be evidence of, from the concepts of the evidence nearest "
                                  "to it in meaning: suggestions for coding, not codings; needs the optional model.")
    async def suggested_concepts(self, info: Info, quote: strawberry.ID, limit: int = 5) -> list[ConceptSuggestion]:
        return await finding.suggested_concepts(info, str(quote), limit)

    @strawberry.field(description="The nodes around one node, out to `depth` steps (1-3), at most `limit`.")
    async def neighbourhood(self, info: Info, id: strawberry.ID, depth: int = 1,
                            limit: int = 100) -> Neighbourhood | None:
        c = ctx(info)
        if not 1 <= depth <= 3:
            raise RequestError("'depth' must be 1, 2 or 3", "BAD_ARGUMENT")
        cap = c.settings.max_neighbourhood_nodes
        if not 1 <= limit <= cap:
            raise RequestError(f"'limit' must be between 1 and {cap}", "PAGE_SIZE")
        ident = str(id)
        start_label = label_of_id(ident)
        if start_label is None:
            return None
        nodes: dict[str, GraphNode] = {}
        edges: dict[tuple[str, str, str], GraphEdge] = {}
        frontier: dict[str, list[str]] = {start_label.value: [ident]}
        truncated = False
        # one statement per level (each label's neighbours a part of it), the start node in the first
        start = read_tree.Part(queries.nodes_by_id(start_label), {"ids": [ident]}, ("id", "props"))
        for level in range(1, depth + 1):
            parts = [read_tree.Part(queries.neighbours(label), {"ids": ids, "limit": limit * 4},
                                    queries.NEIGHBOUR_COLUMNS) for label, ids in sorted(frontier.items())]
            if level == 1:
                parts.insert(0, start)
            statement, params = read_tree.combined(parts)
            found = read_tree.split_combined(parts, await c.store.read(statement, params))
            if level == 1:
                rows = found.pop(0)
                if not rows:
                    return None
                props = rows[0]["props"]
                nodes[ident] = GraphNode(id=strawberry.ID(ident), kind=start_label.value, depth=0,
                                         name=props.get("name") or snippet(start_label, props) or ident)
            following: dict[str, list[str]] = {}
            for rows in found:
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

    # lists with filters, sorting, aggregates and Relay paging both ways (connections.py)
    studies = list_field(L.Study)
    concepts = list_field(L.Concept)
    stakeholders = list_field(L.Stakeholder)
    events = list_field(L.Event)
    discussion_points = list_field(L.DiscussionPoint)
    consequences = list_field(L.Consequence)
    evidence_quotes = list_field(L.EvidenceQuote)
    documents = list_field(L.SourceDocument)


def build_schema(settings: Settings) -> strawberry.Schema:
    # Depth, aliases and cost are measured before execution in one walk that remembers each
    # fragment (budget.py): linear in the document, whatever its fragments do. Parsing and
    # validation are cached per query text (bounded; validation by the parsed document's identity):
    # validation was the largest part of a small query's time in the profile (BENCHMARKS.md).
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidatedOnce(maxsize=256),
        budget(settings.max_query_depth, settings.max_aliases, settings.max_query_cost),
        lambda: MaskErrors(should_mask_error=should_mask, error_message="internal error"),
        RoundTrips,
    ]
    if settings.production:
        extensions += [DisableIntrospection, NoSuggestions]
    connection_types()  # the nested connections' types, which their fields name (connections.py)
    schema = KxSchema(query=Query, mutation=Mutation, extensions=extensions, types=list(t.TYPES.values()),
                      execution_context_class=CompiledExecution if settings.compile_queries else None)
    schema.timeout_s = settings.request_timeout_s
    return schema
