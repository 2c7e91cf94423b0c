"""Neo4j's neosemantics (n10s) reads a kxgraph export into the graph the API serves. A real Neo4j
5.26 with n10s from Maven Central (its own server: n10s wants its constraint and config nodes); the
script of ``graph/n10s.py`` run around the import as a user runs it; then the graph is compared
with the one kxgraph's own loader writes for the same study, node by node and link by link, and
every example query of the README is answered the same on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kxgraph.graph.n10s import IMPORT_PLACEHOLDER, script
from kxgraph.graph.neo4j_backend import Neo4jStore
from kxgraph.loaders.export import export_graph, serialize
from kxgraph.loaders.pipeline import load
from kxgraph.ontology.vocabulary import NodeLabel
from tests.helpers import BUNDLED, ROOT, ask, fingerprint, no_neo4j

EXAMPLES = ROOT / "examples" / "queries"
#: what the loader adds that an export does not carry: its own provenance, and the vectors of search by meaning
NOT_EXPORTED = {NodeLabel.Load.value, NodeLabel.Embedding.value}


@pytest.fixture(scope="module")
def n10s_server() -> Iterator[Any]:
    from tests.neo4j_local import LocalNeo4j, Neo4jUnavailable, missing_tools, n10s_plugins

    reason = missing_tools()
    if reason:
        no_neo4j(f"n10s needs the local Neo4j: {reason}")
    try:
        plugins = n10s_plugins()
        server = LocalNeo4j.create(heap="768m", pagecache="64m", settings={
            "server.directories.plugins": str(plugins), "dbms.security.procedures.unrestricted": "n10s.*"}).start()
    except Neo4jUnavailable as exc:
        no_neo4j(f"the Neo4j with n10s did not start: {exc}")
    try:
        yield server
    finally:
        server.stop()


def _store(server: Any) -> Neo4jStore:
    return Neo4jStore(uri=server.uri, user=server.user, password=server.password, database="neo4j")


def _ours(fp: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> tuple[list[Any], list[Any]]:
    """The graph as the API reads it: kxgraph's labels and keys, n10s's own bookkeeping left out."""
    ids = {n["id"] for n in fp[0] if n["id"] is not None and not NOT_EXPORTED & set(n["labels"])}
    nodes = [{"id": n["id"], "labels": sorted(set(n["labels"]) - {"Resource"}),
              "props": {k: v for k, v in n["props"].items() if k != "uri"}}
             for n in fp[0] if n["id"] in ids]
    rels = [r for r in fp[1] if r["src"] in ids and r["dst"] in ids]
    return sorted(nodes, key=lambda n: n["id"]), sorted(rels, key=lambda r: json.dumps(r, sort_keys=True))


async def _answers(store: Neo4jStore) -> dict[str, Any]:
    out = {}
    for query in sorted(EXAMPLES.glob("*.graphql")):
        variables = query.with_suffix(".variables.json")
        data, errors, _ = await ask(store, query.read_text(encoding="utf-8"),
                                    json.loads(variables.read_text(encoding="utf-8")) if variables.exists() else {})
        assert not errors, (query.name, errors)
        out[query.stem] = data
    return out


@pytest.mark.anyio
@pytest.mark.slow
async def test_n10s_imports_an_export_as_the_graph_the_api_serves_neo4j(n10s_server: Any, tmp_path: Path,
                                                                        anyio_backend: str) -> None:
    store = _store(n10s_server)
    await store.open()
    try:
        await load(store, [BUNDLED])
        loaded = _ours(await fingerprint(store))
        answers = await _answers(store)
        turtle = serialize(await export_graph(store, provenance=True), "turtle")
        await store.drop_graph()
        assert (await store.read("MATCH (n) RETURN count(n) AS n"))[0]["n"] == 0

        before, after = script().split(IMPORT_PLACEHOLDER)
        (tmp_path / "n10s.cypher").write_text(script(), encoding="utf-8")
        from neo4j import AsyncGraphDatabase

        async with AsyncGraphDatabase.driver(n10s_server.uri, auth=(n10s_server.user, n10s_server.password)) as d:
            async def run(part: str) -> None:  # statement by statement, as cypher-shell runs the file
                statements = ["\n".join(x for x in chunk.splitlines() if not x.startswith("//"))
                              for chunk in part.split(";\n")]
                async with d.session(database="neo4j") as session:
                    for statement in filter(str.strip, statements):
                        await (await session.run(statement)).consume()
            await run(before)
            async with d.session(database="neo4j") as s:
                done = await (await s.run("CALL n10s.rdf.import.inline($rdf, 'Turtle')", rdf=turtle)).single()
            assert done is not None and done["terminationStatus"] == "OK", done
            await run(after)
        imported = _ours(await fingerprint(store))
        assert [n["id"] for n in imported[0]] == [n["id"] for n in loaded[0]]
        for mine, theirs in zip(loaded[0], imported[0], strict=True):
            assert theirs == mine, mine["id"]
        assert imported[1] == loaded[1]
        assert await _answers(store) == answers  # every example, search included
    finally:
        await store.close()


def test_the_script_names_only_kxgraphs_labels_and_types() -> None:
    """What the script maps to is the ontology's labels, types and keys, and the superclass labels
    and derived links it takes off again."""
    from kxgraph.graph.n10s import DERIVED_TYPE, SUPER_LABEL, _mappings
    from kxgraph.ontology.vocabulary import RelType, projection

    names = {name for _, name in _mappings()}
    known = {*(lbl.value for lbl in NodeLabel), *(r.value for r in RelType), *projection().keys.values()}
    supers = names - known
    assert supers and all(n.startswith((SUPER_LABEL.format(""), DERIVED_TYPE.format(""))) for n in supers)
    text = script()
    assert text.count(IMPORT_PLACEHOLDER) == 1 and all(f"`{n}`" in text for n in supers)
