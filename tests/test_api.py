"""The API over a real store: /healthz and the error shape."""

from __future__ import annotations

import socket

import httpx
import pytest

from kxgraph.api.app import create_app
from kxgraph.graph.neo4j_backend import Neo4jStore
from kxgraph.graph.store import Store
from kxgraph.settings import Settings

pytestmark = pytest.mark.anyio


def client_for(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_healthz_reports_the_backend_and_ok(store: Store) -> None:
    app = create_app(Settings(load_bundled_study=False), store=store)
    async with app.router.lifespan_context(app), client_for(app) as c:
        r = await c.get("/healthz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["backend"] == store.backend
    assert body["latency_ms"] >= 0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_healthz_is_503_with_the_reason_when_the_store_does_not_answer() -> None:
    port = closed_port()
    settings = Settings(backend="neo4j", neo4j_uri=f"bolt://127.0.0.1:{port}",  # type: ignore[arg-type]
                        load_bundled_study=False)
    app = create_app(settings)  # the lifespan opens the store itself: it starts degraded
    async with app.router.lifespan_context(app), client_for(app) as c:
        r = await c.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["backend"] == "neo4j"
    assert f"127.0.0.1:{port}" in body["detail"]
    assert isinstance(app.state.store, Neo4jStore)


async def test_serving_an_empty_store_loads_the_bundled_study_once(store: Store) -> None:
    from kxgraph.graph import cypher

    app = create_app(Settings(load_bundled_study=True), store=store)
    async with app.router.lifespan_context(app):
        pass
    assert [r["study"] for r in await store.read(cypher.STUDY_IDS)] == ["link-worker"]
    loads = await store.read(cypher.LOAD_HISTORY)
    async with app.router.lifespan_context(app):  # not empty any more: nothing loaded again
        pass
    assert await store.read(cypher.LOAD_HISTORY) == loads
