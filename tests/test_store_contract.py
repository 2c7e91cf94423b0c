"""The store contract: the same assertions on every available backend."""

from __future__ import annotations

import pytest

from kxgraph.errors import QueryError, VocabularyError
from kxgraph.graph import cypher
from kxgraph.graph.schema import SEARCH_KEY, GraphSchema, default_schema
from kxgraph.graph.store import Store, WriteOp
from kxgraph.ontology.vocabulary import NodeLabel, RelType

pytestmark = pytest.mark.anyio

TRICKY = 'He said "hi"\n\tand left\\ — ‘quoted’ 🙂 <script>alert(1)</script> $x `y` {z}'


async def fingerprint(store: Store) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    return await store.read(cypher.FINGERPRINT_NODES), await store.read(cypher.FINGERPRINT_RELATIONSHIPS)


def concepts(n: int, prefix: str = "c") -> list[dict[str, object]]:
    return [{"id": f"{prefix}{i}", "props": {"name": f"concept {i}", "ordinal": i}} for i in range(n)]


async def test_health_and_ping(store: Store) -> None:
    health = await store.health()
    assert health.ok, health.detail
    assert health.backend == store.backend
    assert await store.read(cypher.PING) == [{"ok": 1}]


async def test_batched_writes_are_counted_and_read_back(store: Store) -> None:
    batches = await store.write(cypher.merge_nodes(NodeLabel.Concept), concepts(25), batch_size=10)
    assert batches == 3
    rows = await store.read("MATCH (c:Concept) RETURN c.id AS id, c.ordinal AS o ORDER BY o")
    assert [r["id"] for r in rows] == [f"c{i}" for i in range(25)]


async def test_large_rows_are_written_a_few_at_a_time(store: Store) -> None:
    """A statement carries about ``BATCH_BYTES`` of rows: documents of 1 MB go eight at a time (a
    batch of a thousand was their whole text at once, the peak of a large load), and all arrive."""
    docs = [{"id": f"d{i}", "props": {"content": f"{i:02d}" + "x" * 999_998, "ordinal": i}} for i in range(20)]
    assert await store.write(cypher.merge_nodes(NodeLabel.SourceDocument), docs) == 3
    rows = await store.read("MATCH (d:SourceDocument) RETURN d.id AS id, size(d.content) AS n, "
                            "substring(d.content, 0, 2) AS head ORDER BY d.ordinal")
    assert rows == [{"id": f"d{i}", "n": 1_000_000, "head": f"{i:02d}"} for i in range(20)]
    assert await store.write(cypher.merge_nodes(NodeLabel.Concept), concepts(2500)) == 3  # small rows: 1,000 a batch


async def test_merge_is_idempotent(store: Store) -> None:
    for _ in range(2):
        await store.write(cypher.merge_nodes(NodeLabel.Concept), concepts(5))
        await store.write(cypher.merge_relationships(NodeLabel.Concept, RelType.RELATED_TO,
                                                     NodeLabel.Concept),
                          [{"src": "c0", "dst": "c1"}, {"src": "c1", "dst": "c2"}])
    assert (await store.read(cypher.COUNT_NODES))[0]["n"] == 5
    assert (await store.read(cypher.COUNT_RELATIONSHIPS))[0]["n"] == 2


async def test_values_round_trip_exactly(store: Store) -> None:
    props = {"name": TRICKY, "aims": ["a", TRICKY], "position": 0.25, "ordinal": 7,
             "date": "2023-10-01T10:00:00+00:00"}
    await store.write(cypher.merge_nodes(NodeLabel.Concept), [{"id": "x", "props": props}])
    got = (await store.read("MATCH (c:Concept {id: $id}) RETURN properties(c) AS p", {"id": "x"}))[0]["p"]
    assert got == {"id": "x", **props}


async def test_schema_is_idempotent_and_unique_keys_hold(store: Store) -> None:
    schema = default_schema()
    await store.ensure_schema(schema)
    await store.ensure_schema(schema)  # second time: nothing to do, no error
    await store.execute("CREATE (:Concept {id: 'dup'})")
    with pytest.raises(QueryError):
        await store.execute("CREATE (:Concept {id: 'dup'})")
    assert (await store.read("MATCH (c:Concept {id: 'dup'}) RETURN count(c) AS n"))[0]["n"] == 1


@pytest.mark.parametrize("text", ["holding", "hold* AND (x", "@name:{x}", "-", '"', "", "   ",
                                  "a\\b", "NOT", "~~", "!!!", "link-worker's", "ü"])
async def test_fulltext_accepts_any_user_text(store: Store, text: str) -> None:
    await store.ensure_schema(GraphSchema(unique_keys=(), range_indexes=(),
                                          fulltext=((NodeLabel.EvidenceQuote, (SEARCH_KEY,)),)))
    await store.write(cypher.merge_nodes(NodeLabel.EvidenceQuote), [
        {"id": "q1", "props": {SEARCH_KEY: "patients may dip in and out of holding"}},
        {"id": "q2", "props": {SEARCH_KEY: "discretion builds over time"}},
    ])
    rows = await store.fulltext("EvidenceQuote", text)
    if text == "holding":
        assert [r["node"]["id"] for r in rows] == ["q1"]
        assert rows[0]["score"] > 0
    else:
        assert isinstance(rows, list)


async def test_replace_graph_swaps_whole_graph(store: Store) -> None:
    await store.write(cypher.merge_nodes(NodeLabel.Concept), concepts(3, "old"))
    await store.replace_graph([WriteOp(cypher.merge_nodes(NodeLabel.Concept), concepts(4, "new"))],
                              default_schema())
    ids = [r["id"] for r in await store.read("MATCH (c:Concept) RETURN c.id AS id ORDER BY id")]
    assert ids == ["new0", "new1", "new2", "new3"]
    # the new graph carries the schema: unique keys hold
    with pytest.raises(QueryError):
        await store.execute("CREATE (:Concept {id: 'new0'})")


async def test_failed_replace_leaves_served_graph_unchanged(store: Store) -> None:
    await store.write(cypher.merge_nodes(NodeLabel.Concept), concepts(3, "old"))
    before = await fingerprint(store)
    ops = [WriteOp(cypher.merge_nodes(NodeLabel.Concept), concepts(50, "new")),
           WriteOp("UNWIND $rows AS row RETURN row.x.y.z AS boom", [{"x": 1}])]
    with pytest.raises(QueryError):
        await store.replace_graph(ops, default_schema())
    assert await fingerprint(store) == before


async def test_labels_and_types_come_from_the_ontology_only(store: Store) -> None:
    for bad in ["Concept) DETACH DELETE (n", "Concept`", "concept", "Foo"]:
        with pytest.raises(VocabularyError):
            cypher.merge_nodes(bad)
        with pytest.raises(VocabularyError):
            await store.fulltext(bad, "x")
    with pytest.raises(VocabularyError):
        cypher.merge_relationships("Concept", "RELATED_TO]->(b) DETACH DELETE b //", "Concept")
