"""Fixtures: real stores only. FalkorDB always (an embedded server in a temporary folder); Neo4j
when ``KXGRAPH_NEO4J_URI`` is set, otherwise skipped with that reason."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kxgraph.graph.falkordb_backend import FalkorStore
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from kxgraph.graph.store import Store

NEO4J_SKIP = "KXGRAPH_NEO4J_URI is not set: no Neo4j server to run the Neo4j contract tests against"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFalkorDB]:
    """One real embedded FalkorDB for the session; each test gets its own graph on it."""
    server = EmbeddedFalkorDB(tmp_path_factory.mktemp("fdb"), appendfsync="everysec")
    server.start()
    yield server
    server.stop()


def neo4j_store() -> Store:
    from kxgraph.graph.neo4j_backend import Neo4jStore

    return Neo4jStore(uri=os.environ["KXGRAPH_NEO4J_URI"],
                      user=os.environ.get("KXGRAPH_NEO4J_USER", "neo4j"),
                      password=os.environ.get("KXGRAPH_NEO4J_PASSWORD", ""),
                      database=os.environ.get("KXGRAPH_NEO4J_DATABASE", "neo4j"))


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
async def store(request: pytest.FixtureRequest, falkordb_server: EmbeddedFalkorDB,
                anyio_backend: str) -> AsyncIterator[Store]:
    """A real, empty store of each available backend (Neo4j: the whole database is wiped)."""
    s: Store
    if request.param == "neo4j":
        if not os.environ.get("KXGRAPH_NEO4J_URI"):
            pytest.skip(NEO4J_SKIP)
        s = neo4j_store()
    else:
        s = FalkorStore(graph_name=f"t_{uuid.uuid4().hex[:10]}",
                        socket_path=str(falkordb_server.socket_path))
    await s.open()
    await s.drop_graph()
    try:
        yield s
    finally:
        await s.drop_graph()
        await s.close()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short path (Unix sockets allow ~104 bytes)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="kx"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
