"""Helpers shared by tests."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kxgraph.graph import cypher
from kxgraph.graph.store import Store

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "studies" / "link-worker"
SECOND = ROOT / "tests" / "data" / "garden-study"
SHARED_SOURCE = ROOT.parent / "shared" / "sources" / "exeter-knowledge-exchange-blog.txt"


async def ask(store: Store, query: str, variables: dict[str, Any] | None = None,
              compiled: bool = True) -> tuple[dict[str, Any] | None, list[Any], int]:
    """A GraphQL query's data, errors and store round trips, through the compiler or the resolvers."""
    from kxgraph.api.graphql.context import Context
    from kxgraph.api.graphql.schema import build_schema
    from kxgraph.settings import Settings

    if compiled not in _SCHEMAS:  # built once per path: a schema keeps no request's state
        settings = Settings(load_bundled_study=False, compile_queries=compiled)
        _SCHEMAS[compiled] = (settings, build_schema(settings))
    settings, schema = _SCHEMAS[compiled]
    context = Context(store, settings, None)
    result = await schema.execute(query, variable_values=variables or {}, context_value=context)
    return result.data, list(result.errors or []), context.store.round_trips


_SCHEMAS: dict[bool, tuple[Any, Any]] = {}


async def both(store: Store, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The answer, the same through the compiler and through the resolvers."""
    compiled, errors, _ = await ask(store, query, variables, compiled=True)
    resolved, errors2, _ = await ask(store, query, variables, compiled=False)
    assert not errors and not errors2, (errors, errors2)
    assert compiled == resolved
    assert compiled is not None
    return compiled


def wait_until(condition: Any, timeout: float = 30.0, what: str = "the condition", every: float = 0.05) -> None:
    """Poll ``condition()`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(every)


def redis_servers(data: Path) -> int:
    """How many redis-server processes run on this data folder's socket (Redis rewrites its
    command line to ``redis-server unixsocket:<path>``)."""
    socket = os.fsencode(str(data / "falkordb.sock"))
    count = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"redis-server" in cmdline and socket in cmdline:
                count += 1
    return count


async def fingerprint(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole graph: every node with its properties, every relationship."""
    return await store.read(cypher.FINGERPRINT_NODES), await store.read(cypher.FINGERPRINT_RELATIONSHIPS)


#: the graph each shared store was left with by its last load, by backend and studies (``shared_load``)
_SHARED_STATE: dict[tuple[str, tuple[Path, ...]], str] = {}


@asynccontextmanager
async def shared_load(request: pytest.FixtureRequest, sources: list[Path]) -> AsyncIterator[Store]:
    """A store of the backend ``request.param`` names, holding ``sources`` as a fresh load leaves them.

    Loading the same studies again for every test that reads them was a third of the suite's setup
    time, so they are loaded once per backend and kept; before each test the whole graph is compared
    with the state that load left, and loaded again when it differs (the test before wrote to it, or a
    test of the empty ``store`` wiped the one Neo4j database). A test may write to it freely: the
    next still gets a fresh load's graph."""
    from kxgraph.loaders.pipeline import load

    key = (str(request.param), tuple(sources))
    s = backend_store(request, "t_shared_" + "_".join(p.name for p in sources).replace("-", "_"))
    await s.open()
    try:
        if _SHARED_STATE.get(key) != await graph_state(s):
            await s.drop_graph()
            report = await load(s, sources)
            assert report.changed
            _SHARED_STATE[key] = await graph_state(s)
        yield s
    finally:
        await s.close()


def backend_store(request: pytest.FixtureRequest, graph_name: str) -> Store:
    """An unopened store of the backend ``request.param`` names: the suite's Neo4j (one database;
    ``graph_name`` does not apply) or graph ``graph_name`` on the session's embedded FalkorDB."""
    from kxgraph.graph.falkordb_backend import FalkorStore

    if request.param == "neo4j":
        return request.getfixturevalue("neo4j_target").store()
    return FalkorStore(graph_name=graph_name, socket_path=str(request.getfixturevalue("falkordb_server").socket_path))


async def graph_state(store: Store) -> str:
    """The whole graph as one canonical text (rows sorted), to tell whether anything changed."""
    nodes, relationships = await fingerprint(store)
    return "\n".join(sorted(json.dumps(r, sort_keys=True, default=str) for r in [*nodes, *relationships]))


async def names(store: Store, label: str, study: str = "link-worker") -> list[str]:
    rows = await store.read(f"MATCH (n:{label} {{study: $s}}) RETURN n.name AS name ORDER BY name",
                            {"s": study})
    return [r["name"] for r in rows]



class GraphQLClient:
    """Posts GraphQL to an app in-process (httpx ASGI transport)."""

    def __init__(self, app: Any, token: str | None = None) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                      headers=headers)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert r.status_code in (200, 400), r.text
        body: dict[str, Any] = r.json()
        return body

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self(query, variables)
        assert not body.get("errors"), body.get("errors")
        data: dict[str, Any] = body["data"]
        return data


@dataclass(frozen=True)
class Neo4jTarget:
    """Where the Neo4j tests connect; ``local`` when the session started the server itself."""

    uri: str
    user: str
    password: str
    database: str
    local: object | None = None

    def env(self) -> dict[str, str]:
        return {"KXGRAPH_NEO4J_URI": self.uri, "KXGRAPH_NEO4J_USER": self.user,
                "KXGRAPH_NEO4J_PASSWORD": self.password, "KXGRAPH_NEO4J_DATABASE": self.database}

    def store(self) -> Store:
        from kxgraph.graph.neo4j_backend import Neo4jStore

        return Neo4jStore(uri=self.uri, user=self.user, password=self.password, database=self.database)


def needs_meaning() -> None:
    """Skip a test of search by meaning when its model is absent (saying how to get it); in CI,
    where ``make install`` fetches it, that is a failure."""
    from kxgraph.loaders import embedding

    reason = embedding.unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the tests of search by meaning: {reason}")
    pytest.skip(reason)


def no_neo4j(reason: str) -> None:
    """Skip a Neo4j test with ``reason``; in CI a Neo4j test that cannot run is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Neo4j tests: {reason}")
    pytest.skip(reason)
