"""Lists as developers expect them (issue 21): ``where`` with operators and conditions on related
nodes, ``sort`` by several keys, Relay paging both ways, ``aggregate`` — each checked against a
reading of the same data in Python, on both stores, through the compiler and the resolvers alike."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bench.common import examples
from kxgraph.graph.store import Store
from kxgraph.loaders.pipeline import load
from tests.helpers import BUNDLED, SECOND, ask, both

pytestmark = pytest.mark.anyio


async def consequences(store: Store) -> dict[str, dict[str, Any]]:
    """Every consequence with what the filters below look at, read with plain statements."""
    rows = await store.read(
        "MATCH (c:Consequence) OPTIONAL MATCH (c)-[:FOR_STAKEHOLDER]->(s) OPTIONAL MATCH (c)-[:OF_CONCEPT]->(k) "
        "RETURN c.id AS id, c.text AS text, c.valence AS valence, c.study AS study, s.name AS stakeholder, "
        "k.name AS concept, k.id AS concept_id")
    out = {r["id"]: {**r, "starts": []} for r in rows}
    for r in await store.read("MATCH (c:Consequence)-[:SUPPORTED_BY]->(q) RETURN c.id AS id, q.start AS start"):
        out[r["id"]]["starts"].append(r["start"])
    return out


WHERE_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("eq", {"valence": {"eq": "negative"}}, lambda c: c["valence"] == "negative"),
    ("in", {"valence": {"in": ["negative", "neutral"]}}, lambda c: c["valence"] in ("negative", "neutral")),
    ("contains is case-insensitive", {"text": {"contains": "LINK WORKER"}},
     lambda c: "link worker" in c["text"].lower()),
    ("startsWith", {"id": {"startsWith": "link-worker/consequence/holding"}},
     lambda c: c["id"].startswith("link-worker/consequence/holding")),
    ("range on text", {"text": {"gte": "H", "lt": "R"}}, lambda c: "H" <= c["text"] < "R"),
    ("NOT keeps nodes without the value", {"NOT": {"stakeholder": {"name": {"eq": "Patients"}}}},
     lambda c: c["stakeholder"] != "Patients"),
    ("OR of AND", {"OR": [{"AND": [{"valence": {"eq": "positive"}}, {"concept": {"name": {"startsWith": "hold"}}}]},
                          {"study": {"eq": "allotment"}}]},
     lambda c: (c["valence"] == "positive" and (c["concept"] or "").lower().startswith("hold")) or c["study"] == "allotment"),
    ("some", {"evidence": {"some": {"start": {"gt": 4000}}}}, lambda c: any(s > 4000 for s in c["starts"])),
    ("none", {"evidence": {"none": {"start": {"gt": 4000}}}}, lambda c: not any(s > 4000 for s in c["starts"])),
    ("all", {"evidence": {"all": {"start": {"gt": 4000}}}}, lambda c: all(s > 4000 for s in c["starts"])),
    ("related and own", {"valence": {"eq": "negative"}, "stakeholder": {"name": {"contains": "link"}}},
     lambda c: c["valence"] == "negative" and "link" in (c["stakeholder"] or "").lower()),
]


@pytest.mark.sweep(neo4j=4)
@pytest.mark.parametrize("case", WHERE_CASES, ids=[c[0] for c in WHERE_CASES])
async def test_where_gives_what_a_reading_of_the_data_gives(store: Store, case: Any) -> None:
    _, where, expected = case
    await load(store, [BUNDLED, SECOND])
    data = await consequences(store)
    want = sorted(i for i, c in data.items() if expected(c))
    got = await both(store, "query($w: ConsequenceWhere) { consequences(first: 100, where: $w) { totalCount "
                            "aggregate { count } nodes { id } } }", {"w": where})
    ids = sorted(n["id"] for n in got["consequences"]["nodes"])
    assert ids == want
    assert got["consequences"]["totalCount"] == got["consequences"]["aggregate"]["count"] == len(want)
    assert 0 < len(want) < len(data) or case[0] in ("all",), "the case tells nothing apart"


async def test_values_are_parameters_never_statement_text(bundled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = await bundled.read("MATCH (n) RETURN count(n) AS n")
    statements: list[str] = []
    real = type(bundled).read

    async def spy(self: Store, statement: str, params: dict[str, Any] | None = None) -> Any:
        statements.append(statement)
        return await real(self, statement, params)
    monkeypatch.setattr(type(bundled), "read", spy)
    hostile = "x'}) MATCH (n) DETACH DELETE n //"
    for compiled in (True, False):
        data, errors, _ = await ask(bundled, "query($h: String!) { consequences(where: {OR: [{text: {eq: $h}}, "
                                           "{stakeholder: {name: {contains: $h}}}]}) { totalCount nodes { id } } }",
                                    {"h": hostile}, compiled)
        assert not errors and data == {"consequences": {"totalCount": 0, "nodes": []}}
    assert statements and not any("DETACH" in s or "x'" in s for s in statements)
    monkeypatch.undo()
    assert await bundled.read("MATCH (n) RETURN count(n) AS n") == before


SORTED = """query($after: String, $before: String, $first: Int, $last: Int) {
  consequences(first: $first, last: $last, after: $after, before: $before,
               sort: [{concept: {name: DESC}}, {valence: ASC}]) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
  }
}"""


async def test_sort_by_several_keys_pages_both_ways_to_the_same_order(store: Store) -> None:
    await load(store, [BUNDLED, SECOND])
    data = await consequences(store)
    want = [c["id"] for c in sorted(sorted(data.values(), key=lambda c: (c["valence"] or "", c["id"])),
                                    key=lambda c: c["concept"] or "", reverse=True)]
    assert len(want) > 7
    forward: list[str] = []
    after = None
    while True:
        page = (await both(store, SORTED, {"first": 3, "after": after}))["consequences"]
        forward += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == want
    backward: list[str] = []
    before = None
    while True:
        page = (await both(store, SORTED, {"last": 3, "before": before}))["consequences"]
        backward = [e["node"]["id"] for e in page["edges"]] + backward
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == want
    # a cursor is a place in its order: the page after it starts with the next node
    middle = (await both(store, SORTED, {"first": 4}))["consequences"]["edges"][2]["cursor"]
    nxt = (await both(store, SORTED, {"first": 2, "after": middle}))["consequences"]["edges"]
    assert [e["node"]["id"] for e in nxt] == want[3:5]


async def test_aggregates_are_the_figures_of_the_matching_nodes(store: Store) -> None:
    await load(store, [BUNDLED, SECOND])
    quotes = await store.read("MATCH (q:EvidenceQuote) WHERE q.start > 1000 RETURN q.start AS s, q.study AS study")
    got = (await both(store, """{ evidenceQuotes(first: 1, where: {start: {gt: 1000}}) {
        totalCount aggregate { count start { min max avg count } byStudy: groupBy(field: STUDY) { value count } } } }"""
                      ))["evidenceQuotes"]
    starts = [q["s"] for q in quotes]
    assert got["totalCount"] == got["aggregate"]["count"] == len(quotes) > 0
    assert got["aggregate"]["start"]["min"] == min(starts) and got["aggregate"]["start"]["max"] == max(starts)
    assert got["aggregate"]["start"]["avg"] == pytest.approx(sum(starts) / len(starts), rel=1e-12)
    by_study = Counter(q["study"] for q in quotes)
    assert got["aggregate"]["byStudy"] == [{"value": k, "count": n}
                                           for k, n in sorted(by_study.items(), key=lambda x: (-x[1], x[0]))]
    data = await consequences(store)
    valences = (await both(store, "{ consequences(first: 1) { aggregate { groupBy(field: VALENCE) { value count } } } }")
                )["consequences"]["aggregate"]["groupBy"]
    assert {g["value"]: g["count"] for g in valences} == Counter(c["valence"] for c in data.values())
    # by a related node: each concept by id, with its name
    concepts = (await both(store, '{ consequences(first: 1, where: {valence: {eq: "positive"}}) '
                                  '{ aggregate { groupBy(field: CONCEPT) { value name count } } } }')
                )["consequences"]["aggregate"]["groupBy"]
    positive = [c for c in data.values() if c["valence"] == "positive"]
    assert {(g["value"], g["name"]): g["count"] for g in concepts} == \
        Counter((c["concept_id"], c["concept"]) for c in positive)
    assert [g["count"] for g in concepts] == sorted((g["count"] for g in concepts), reverse=True)


@pytest.mark.parametrize(("query", "code"), [
    ("{ concepts(first: 2, last: 2) { totalCount } }", "PAGE_SIZE"),
    ("{ concepts(last: 0) { totalCount } }", "PAGE_SIZE"),
    ("{ concepts(sort: [{name: ASC, id: DESC}]) { totalCount } }", "BAD_SORT"),
    ('{ concepts(after: "WyJhIiwgImIiLCAiYyJd") { nodes { id } } }', "BAD_CURSOR"),  # 3 keys for a 2-key order
    ('{ concepts(before: "bm90LWEtY3Vyc29y") { nodes { id } } }', "BAD_CURSOR"),
])
async def test_bad_list_arguments_are_clear_errors(bundled: Store, query: str, code: str) -> None:
    for compiled in (True, False):
        data, errors, _ = await ask(bundled, query, compiled=compiled)
        assert data is None and [e.extensions["code"] for e in errors] == [code], errors


async def test_a_filter_on_relationships_costs_what_it_reads(store: Store) -> None:
    nested = "{start: {gt: 0}}"
    for _ in range(5):
        nested = f"{{supports: {{some: {{evidence: {{some: {nested}}}}}}}}}"
    data, errors, _ = await ask(store, f"{{ evidenceQuotes(first: 1, where: {nested}) {{ totalCount }} }}")
    assert data is None and errors[0].extensions["code"] == "COST", errors
    data, errors, _ = await ask(store, "{ evidenceQuotes(first: 1, where: {supports: {some: {text: {contains: "
                                       "\"a\"}}}}) { totalCount } }")
    assert not errors


async def test_the_deprecated_filter_and_order_still_answer(store: Store) -> None:
    await load(store, [BUNDLED, SECOND])
    old = await both(store, '{ concepts(first: 50, filter: {study: "allotment", contains: "o"}, order: NAME_DESC) '
                            '{ nodes { id } } }')
    new = await both(store, '{ concepts(first: 50, where: {study: {eq: "allotment"}, name: {contains: "o"}}, '
                            'sort: [{name: DESC}]) { nodes { id } } }')
    assert old["concepts"]["nodes"] and old == new


async def test_the_policymakers_question_is_one_query(bundled: Store) -> None:
    """Negative consequences for a stakeholder, sorted by concept, with their quotes, 10 at a time,
    and how many: the example answers it, the same on both paths, in few statements."""
    query, variables = next((q, v) for n, q, v in examples() if n == "12-policymaker")
    data = await both(bundled, query, variables)
    page = data["consequences"]
    expected = await bundled.read(
        "MATCH (c:Consequence {valence: 'negative'})-[:FOR_STAKEHOLDER]->(:Stakeholder {id: $s}) "
        "MATCH (c)-[:OF_CONCEPT]->(k) RETURN c.text AS text, k.name AS concept ORDER BY concept, text",
        {"s": variables["stakeholder"]})
    assert [(e["node"]["text"], e["node"]["concept"]["name"]) for e in page["edges"]] == \
        [(r["text"], r["concept"]) for r in expected][:10]
    assert page["totalCount"] == len(expected) > 0
    text = (BUNDLED / "documents" / "exeter-knowledge-exchange-blog.txt").read_text(encoding="utf-8")
    for e in page["edges"]:
        quotes = e["node"]["evidenceConnection"]
        stored = await bundled.read("MATCH (:Consequence {text: $t})-[:SUPPORTED_BY]->(q) RETURN q.start AS start "
                                  "ORDER BY start", {"t": e["node"]["text"]})
        assert quotes["totalCount"] == len(stored) > 0
        assert [q["node"]["start"] for q in quotes["edges"]] == [r["start"] for r in stored][:5]
        for q in quotes["edges"]:
            assert text[q["node"]["start"]:q["node"]["end"]] == q["node"]["exact"]
    _, _, trips = await ask(bundled, query, variables, compiled=True)
    assert trips == 1  # the page with its tree and the figures, in one statement


async def test_two_conditions_over_shared_relationships_are_both_met(store: Store) -> None:
    """An event's discussion points and its concepts are walked through the same relationships
    (activity, raised in): a node that meets each condition alone meets both together."""
    await load(store, [BUNDLED, SECOND])
    one = {"discussionPoints": {"some": {"text": {"contains": "discretion"}}}}
    two = {"concepts": {"some": {"name": {"startsWith": "discretion"}}}}
    query = "query($w: EventWhere) { events(where: $w) { nodes { id } } }"
    found = [{n["id"] for n in (await both(store, query, {"w": w}))["events"]["nodes"]} for w in (one, two)]
    together = {n["id"] for n in (await both(store, query, {"w": {**one, **two}}))["events"]["nodes"]}
    assert found[0] & found[1] and together == found[0] & found[1]


async def test_a_node_without_the_sort_field_comes_first(bundled: Store) -> None:
    await bundled.execute("MATCH (q:EvidenceQuote) WITH q ORDER BY q.id LIMIT 3 "
                        "SET q.anchorScore = 1.0 - size(q.exact) / 1000.0")  # as a fuzzy re-anchoring would
    rows = await bundled.read("MATCH (q:EvidenceQuote) RETURN q.id AS id, q.anchorScore AS score")
    assert sum(r["score"] is None for r in rows) > 3 and sum(r["score"] is not None for r in rows) == 3
    got = (await both(bundled, "{ evidenceQuotes(first: 100, sort: [{anchorScore: ASC}]) { nodes { id } } }")
           )["evidenceQuotes"]["nodes"]
    want = sorted(rows, key=lambda r: (r["score"] is not None, r["score"] or 0, r["id"]))
    assert [n["id"] for n in got] == [r["id"] for r in want]
