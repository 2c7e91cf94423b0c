"""Nested connections (issue 21): every to-many field has a Relay connection beside its plain list
(``consequences`` and ``consequencesConnection``) with ``where``, ``sort``, paging both ways, a
page-size default and ``totalCount``/``aggregate`` — each checked against the plain list or a
reading of the same data, on both stores, through the compiler and the resolvers alike."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bench.common import examples
from kxgraph.graph.store import Store
from kxgraph.loaders.pipeline import load
from kxgraph.settings import Settings
from tests.helpers import BUNDLED, SECOND, ask, both

pytestmark = pytest.mark.anyio

DOCUMENT = "link-worker/document/exeter-blog"
EVENT = "link-worker/event/exeter-event"
#: (root field, id, to-many field): one-hop walks in each order, and walks of two and three hops
#: whose nodes are reached more than once (distinct)
WALKS = [
    ("concept", "link-worker/concept/discretion", "consequences"),
    ("concept", "link-worker/concept/holding", "discussionPoints"),
    ("document", DOCUMENT, "quotes"),
    ("event", EVENT, "discussionPoints"),
    ("event", EVENT, "stakeholders"),
    ("stakeholder", "link-worker/stakeholder/link-workers", "consequences"),
    ("continuum", "link-worker/continuum/discretion-boundaries", "placements"),
]


def _page_query(root: str, field: str, direction: str) -> str:
    size, cursor = ("first", "after") if direction == "forwards" else ("last", "before")
    return (f"query($id: ID!, $c: String, $n: Int) {{ {root}(id: $id) {{ {field}Connection({size}: $n, {cursor}: $c) "
            "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
            "edges { cursor node { id } } } } }")


@pytest.mark.sweep(neo4j=2)
@pytest.mark.parametrize("walk", WALKS, ids=[f"{r}.{f}" for r, _, f in WALKS])
async def test_pages_of_a_nested_connection_make_the_plain_list_both_ways(store: Store, walk: Any) -> None:
    root, ident, field = walk
    await load(store, [BUNDLED, SECOND])
    plain = await both(store, f"query($id: ID!) {{ {root}(id: $id) {{ {field} {{ id }} }} }}", {"id": ident})
    want = [n["id"] for n in plain[root][field]]
    assert len(want) >= 2, want  # each walk has something to page through
    size = 5 if len(want) > 12 else 2
    for direction in ("forwards", "backwards"):
        seen: list[str] = []
        cursor = None
        for _ in range(len(want)):
            data = await both(store, _page_query(root, field, direction), {"id": ident, "c": cursor, "n": size})
            conn = data[root][f"{field}Connection"]
            ids = [e["node"]["id"] for e in conn["edges"]]
            assert conn["totalCount"] == len(want) and 0 < len(ids) <= size
            info = conn["pageInfo"]
            assert info["startCursor"] == conn["edges"][0]["cursor"] and info["endCursor"] == conn["edges"][-1]["cursor"]
            if direction == "forwards":
                seen += ids
                more, cursor = info["hasNextPage"], info["endCursor"]
                assert info["hasPreviousPage"] == (len(seen) > len(ids))
            else:
                seen = ids + seen
                more, cursor = info["hasPreviousPage"], info["startCursor"]
                assert info["hasNextPage"] == (len(seen) > len(ids))
            if not more:
                break
        assert seen == want, direction


async def test_a_nested_connection_without_a_size_gives_twenty_and_refuses_too_many(bundled: Store) -> None:
    rows = await bundled.read("MATCH (:SourceDocument {id: $d})<-[:IN_DOCUMENT]-(q) RETURN count(q) AS n", {"d": DOCUMENT})
    assert rows[0]["n"] > 20
    data = await both(bundled, "query($d: ID!) { document(id: $d) { quotesConnection { totalCount "
                             "pageInfo { hasNextPage } nodes { id } } } }", {"d": DOCUMENT})
    conn = data["document"]["quotesConnection"]
    assert len(conn["nodes"]) == 20 and conn["pageInfo"]["hasNextPage"] and conn["totalCount"] == rows[0]["n"]
    root_cursor = (await both(bundled, "{ concepts(first: 1) { pageInfo { endCursor } } }"))["concepts"]["pageInfo"]
    limit = Settings(load_bundled_study=False).max_page_size
    bad = {
        f"quotesConnection(first: {limit + 1})": "PAGE_SIZE",
        "quotesConnection(first: 2, last: 2)": "PAGE_SIZE",
        'quotesConnection(after: "not a cursor")': "BAD_CURSOR",
        f'quotesConnection(after: "{root_cursor["endCursor"]}")': "BAD_CURSOR",  # made for another order
        "quotesConnection(sort: [{start: ASC, end: ASC}])": "BAD_SORT",
    }
    for field, code in bad.items():
        for compiled in (True, False):
            _, errors, _ = await ask(bundled, f'{{ document(id: "{DOCUMENT}") {{ {field} {{ nodes {{ id }} }} }} }}',
                                       compiled=compiled)
            assert [e.extensions["code"] for e in errors] == [code], (field, compiled, errors)


async def test_where_sort_and_figures_of_nested_connections_are_those_of_the_data(store: Store) -> None:
    await load(store, [BUNDLED, SECOND])
    rows = await store.read(
        "MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->(s:Stakeholder) MATCH (c)-[:OF_CONCEPT]->(k) "
        "RETURN s.id AS s, c.id AS id, c.text AS text, c.valence AS valence, k.name AS concept")
    query = """query($s: ID!) { stakeholder(id: $s) {
        negative: consequencesConnection(where: {valence: {eq: "negative"}}, sort: [{concept: {name: ASC}}, {text: DESC}])
          { totalCount aggregate { count } nodes { id } }
        byValence: consequencesConnection { aggregate { groupBy(field: VALENCE) { value count } } } } }"""
    checked = 0
    for s in sorted({r["s"] for r in rows}):
        mine = [r for r in rows if r["s"] == s]
        negative = sorted((r for r in mine if r["valence"] == "negative"), key=lambda r: r["text"], reverse=True)
        negative.sort(key=lambda r: r["concept"])
        data = (await both(store, query, {"s": s}))["stakeholder"]
        assert [n["id"] for n in data["negative"]["nodes"]] == [r["id"] for r in negative]
        assert data["negative"]["totalCount"] == data["negative"]["aggregate"]["count"] == len(negative)
        groups = {g["value"]: g["count"] for g in data["byValence"]["aggregate"]["groupBy"]}
        assert groups == Counter(r["valence"] for r in mine)
        checked += len(negative)
    assert checked > 0
    _, _, trips = await ask(store, query, {"s": s}, compiled=True)
    assert trips == 1  # the groups too are subqueries of the one statement
    quotes = await store.read("MATCH (d:DiscussionPoint)-[:SUPPORTED_BY]->(q) RETURN d.id AS d, q.start AS start")
    query = """query($c: ID!) { concept(id: $c) { discussionPointsConnection(first: 100) { nodes { id
        evidenceConnection(where: {start: {gte: 1000}}) { totalCount aggregate { start { min max avg count } } } } } } }"""
    for concept in ("link-worker/concept/holding", "link-worker/concept/discretion"):
        for point in (await both(store, query, {"c": concept}))["concept"]["discussionPointsConnection"]["nodes"]:
            starts = [r["start"] for r in quotes if r["d"] == point["id"] and r["start"] >= 1000]
            figures = point["evidenceConnection"]
            assert figures["totalCount"] == len(starts)
            if starts:
                assert figures["aggregate"]["start"] == {"min": min(starts), "max": max(starts),
                                                         "avg": pytest.approx(sum(starts) / len(starts)),
                                                         "count": len(starts)}


async def test_a_connection_to_an_interface_gives_each_node_its_own_type(bundled: Store) -> None:
    data = await both(bundled, "{ evidenceQuotes(first: 30) { nodes { supports { __typename id } "
                             "supportsConnection { totalCount nodes { __typename id ... on Claim { text } } "
                             "aggregate { groupBy(field: KIND) { value count } } } } } }")
    kinds = set()
    for quote in data["evidenceQuotes"]["nodes"]:
        conn = quote["supportsConnection"]
        assert [(n["__typename"], n["id"]) for n in conn["nodes"]] == [(n["__typename"], n["id"]) for n in quote["supports"]]
        assert conn["totalCount"] == len(quote["supports"]) and all(n["text"] for n in conn["nodes"])
        assert {g["value"]: g["count"] for g in conn["aggregate"]["groupBy"]} == \
            Counter(n["__typename"] for n in quote["supports"])
        kinds |= {n["__typename"] for n in conn["nodes"]}
    assert len(kinds) >= 2, kinds


async def test_nested_connections_are_one_statement_with_their_parent(bundled: Store) -> None:
    """The example's stakeholder, its consequences' page with each one's quotes and figures, and a
    second connection backwards: one statement, and the answer the resolvers give."""
    query, variables = next((q, v) for n, q, v in examples() if n == "13-nested")
    data = await both(bundled, query, variables)
    conn = data["stakeholder"]["consequencesConnection"]
    assert conn["edges"] and all(e["node"]["evidenceConnection"]["totalCount"] > 0 for e in conn["edges"])
    _, _, trips = await ask(bundled, query, variables, compiled=True)
    _, _, resolver_trips = await ask(bundled, query, variables, compiled=False)
    assert trips == 1 < resolver_trips
    if conn["pageInfo"]["hasNextPage"]:
        after = await both(bundled, query, {**variables, "after": conn["pageInfo"]["endCursor"]})
        assert not {e["cursor"] for e in after["stakeholder"]["consequencesConnection"]["edges"]} & \
            {e["cursor"] for e in conn["edges"]}


async def test_nested_connections_count_in_the_cost_budget(bundled: Store) -> None:
    wide = ("{ documents(first: 100) { nodes { quotesConnection(first: 100) { nodes { "
            "supportsConnection(first: 100) { nodes { id } } } } } } }")
    data, errors, _ = await ask(bundled, wide)
    assert data is None and errors[0].extensions["code"] == "COST", errors
    # without a size, a nested connection counts as its default page of 20
    data, errors, _ = await ask(bundled, "{ documents(first: 5) { nodes { quotesConnection { nodes { "
                                       "supportsConnection { nodes { id } } } } } } }")
    assert not errors and data is not None
    data, errors, _ = await ask(bundled, "{ documents(first: 100) { nodes { quotesConnection { nodes { "
                                       "supportsConnection { nodes { notesConnection { nodes { id } } } } } } } } }")
    assert data is None and errors[0].extensions["code"] == "COST", errors


async def test_the_budget_measures_each_request_with_its_own_variables(bundled: Store) -> None:
    """The measure of a document is remembered per variable values: the same text is refused with
    page sizes that make it too costly, and answered again with small ones."""
    query = ("query($n: Int, $m: Int) { documents(first: $n) { nodes { quotesConnection(first: $m) { nodes { "
             "supportsConnection(first: $m) { nodes { id } } } } } } }")
    for sizes, refused in (({"n": 2, "m": 5}, False), ({"n": 100, "m": 100}, True), ({"n": 2, "m": 5}, False)):
        data, errors, _ = await ask(bundled, query, sizes)
        assert (data is None and errors[0].extensions["code"] == "COST") if refused else not errors, (sizes, errors)
    literal = '{ concepts(where: {name: {eq: "a\\u0000b"}}) { totalCount } }'
    for _ in range(2):  # a NUL in the text is refused each time, remembered or not
        data, errors, _ = await ask(bundled, literal)
        assert data is None and errors[0].extensions["code"] == "BAD_INPUT", errors


async def test_the_resolvers_read_a_level_of_nested_connections_in_one_statement(store: Store) -> None:
    """Through the resolvers (what answers a query the compiler does not take), the pages of every
    parent of one level come in one statement, and their figures in one more: not one per parent."""
    await load(store, [BUNDLED, SECOND])
    query = ("{ concepts(first: 8) { nodes { id consequencesConnection(first: 2) { totalCount "
             "aggregate { count } nodes { id } } } } }")
    data, errors, trips = await ask(store, query, compiled=False)
    assert not errors and data is not None
    parents = data["concepts"]["nodes"]
    assert len(parents) == 8 and any(p["consequencesConnection"]["nodes"] for p in parents)
    assert trips == 3  # the concepts, their consequences' pages, their figures
    compiled, _, _ = await ask(store, query, compiled=True)
    assert compiled == data


async def test_an_empty_condition_under_not_matches_nothing_and_drops_no_parent(bundled: Store) -> None:
    """``NOT: {}`` holds for no node and ``all: {}`` for every one — at the root, and in a nested
    connection, where a subquery that gave no row would drop the parent (found by the GraphQL fuzz:
    FalkorDB gives no row for an aggregate after a constant-false filter)."""
    data = await both(bundled, "{ events(where: {NOT: {AND: null}}) { totalCount aggregate { count } nodes { id } } "
                             "all: events(where: {discussionPoints: {all: {}}}) { totalCount } "
                             "every: events { totalCount } }")
    assert data["events"] == {"totalCount": 0, "aggregate": {"count": 0}, "nodes": []}
    assert data["all"]["totalCount"] == data["every"]["totalCount"] > 0
    data = await both(bundled, '{ concept(id: "link-worker/concept/holding") { name '
                             "consequencesConnection(where: {NOT: {}}) { totalCount nodes { id } } } "
                             "concepts(first: 3) { nodes { name consequencesConnection(where: {NOT: {}}) "
                             "{ totalCount aggregate { count } } } } }")
    assert data["concept"] == {"name": "Holding", "consequencesConnection": {"totalCount": 0, "nodes": []}}
    assert len(data["concepts"]["nodes"]) == 3
    assert all(n["consequencesConnection"]["totalCount"] == 0 for n in data["concepts"]["nodes"])
