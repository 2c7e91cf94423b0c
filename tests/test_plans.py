"""Statements that start from given ids start from the id index, on both stores: a plan that scans
every node is fast on the bundled study and a timeout at 100k quotes (the neighbourhood did, with
``UNWIND $ids … {id: id}`` and label tests on the far node: FalkorDB's planner began at every node)."""

from __future__ import annotations

from typing import Any

import pytest

from kxgraph.graph import queries
from kxgraph.graph.store import Store
from kxgraph.ontology.vocabulary import NodeLabel


async def plan(store: Store, statement: str, params: dict[str, Any]) -> str:
    """The store's plan of ``statement``, as text (each store's own operator names)."""
    if store.backend == "falkordb":
        return str(await store._graph().explain(statement, params))  # type: ignore[attr-defined]
    async with store._require().session(database=store.database) as session:  # type: ignore[attr-defined]
        summary = await (await session.run("EXPLAIN " + statement, params)).consume()

    def operators(p: dict[str, Any]) -> list[str]:
        return [p["operatorType"], *(o for child in p.get("children", []) for o in operators(child))]
    return " ".join(operators(summary.plan))


@pytest.mark.sweep(neo4j=5)
@pytest.mark.parametrize("label", list(NodeLabel), ids=lambda lab: lab.value)
async def test_the_neighbourhood_starts_from_the_ids_it_is_given(bundled: Store, label: NodeLabel) -> None:
    text = await plan(bundled, queries.neighbours(label), {"ids": ["x"], "limit": 10})
    assert "All Node Scan" not in text and "AllNodesScan" not in text, text
    assert "Index" in text, text  # the id index of the label


async def test_a_neighbourhood_is_still_what_the_graph_holds(bundled: Store) -> None:
    """The same rows as the neighbours read one by one with a plain pattern (ids, in order)."""
    ids = ["link-worker/concept/holding", "link-worker/concept/discretion"]
    rows = await bundled.read(queries.neighbours(NodeLabel.Concept), {"ids": ids, "limit": 1000})
    plain = []
    for ident in ids:
        plain += await bundled.read(
            "MATCH (a:Concept {id: $id})-[r]-(b) WHERE NOT b:Load AND NOT b:Embedding "
            "RETURN a.id AS id, type(r) AS type, startNode(r) = a AS outgoing, b.id AS bid", {"id": ident})
    key = lambda r: (r["id"], r["type"], r["outgoing"], r["bid"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, plain)) and len(rows) > 10
    assert [key(r) for r in rows] == sorted(map(key, rows))  # ordered before the cap


async def test_a_list_filtered_by_a_related_node_s_id_starts_from_that_node(bundled: Store) -> None:
    """The policymaker's list (negative consequences for one stakeholder) starts from the
    stakeholder's id index and walks to its consequences: from every consequence it took 92 ms at
    1M quotes against 1.4 ms (BENCHMARKS.md), and FalkorDB so planned it whatever the order of the
    patterns. The answers themselves are the resolvers' (``tests/test_compiled.py``)."""
    from kxgraph.api.graphql.listing import catalogue
    from kxgraph.graph.filtering import Listing, page_statement
    from kxgraph.graph.read_tree import Select

    where = {"valence": {"eq": "negative"}, "stakeholder": {"id": {"eq": "link-worker/stakeholder/link-workers"}}}
    statement, params, _ = page_statement(catalogue(), Listing(NodeLabel.Consequence, "Consequence", where),
                                          Select(values=[("text", "$v.`text`")]), total=True)
    text = await plan(bundled, statement, {**params, "limit": 3})
    assert "Label Scan | (n0:Consequence)" not in text and "NodeByLabelScan" not in text, text
    assert "Index" in text, text
    rows = await bundled.read(statement, {**params, "limit": 100})
    plain = await bundled.read("MATCH (s:Stakeholder {id: $s})<-[:FOR_STAKEHOLDER]-(k:Consequence {valence: 'negative'}) "
                               "RETURN k.text AS text ORDER BY text", {"s": where["stakeholder"]["id"]["eq"]})
    assert sorted(r["node"]["text"] for r in rows) == [r["text"] for r in plain] and plain
    assert {r["total"] for r in rows} == {len(plain)}


@pytest.mark.parametrize("statement", [queries.consequence_groups(by_id=True, by_study=True),
                                       queries.consequence_groups(by_id=True, by_study=False),
                                       queries.consequence_groups(by_id=False, by_study=True),
                                       queries.consequence_matrix(by_study=True)],
                         ids=["groups-of-one", "groups-by-id", "groups-of-a-study", "matrix-of-a-study"])
async def test_the_consequence_questions_start_from_the_stakeholders_index(bundled: Store, statement: str) -> None:
    """Plain equalities for the arguments given: ``($study IS NULL OR s.study = $study)`` read every
    stakeholder of every study (10,000 at 1M quotes)."""
    text = await plan(bundled, statement, {"stakeholder": "link-worker/stakeholder/gps-and-hcps", "study": "link-worker"})
    assert "Label Scan | (s:Stakeholder)" not in text and "NodeByLabelScan" not in text, text
    assert "Index" in text, text
