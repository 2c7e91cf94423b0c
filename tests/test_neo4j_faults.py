"""Faults on a real Neo4j: its JVM killed (``kill -9``) during a load and while the API serves, a
wrong password. Each test that kills starts its own local Neo4j (``tests/neo4j_local``), so the
suite's shared server is never disturbed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.generate import generate_study
from kxgraph.api.app import create_app
from kxgraph.graph.neo4j_backend import Neo4jStore
from kxgraph.settings import Settings
from tests.helpers import BUNDLED, fingerprint, no_neo4j
from tests.serve import Server

pytestmark = [pytest.mark.slow, pytest.mark.neo4j, pytest.mark.anyio]


@pytest.fixture(scope="module")
def spare_neo4j() -> Iterator[Any]:
    """A local Neo4j of this module's own, to kill, bring back and refuse wrong passwords (after three
    Neo4j refuses even the right one for a while: the shared server must not see them)."""
    from tests.neo4j_local import LocalNeo4j, Neo4jUnavailable, missing_tools

    if os.environ.get("KXGRAPH_TEST_NEO4J", "").lower() in {"0", "off", "false", "no"}:
        no_neo4j("KXGRAPH_TEST_NEO4J=off: the Neo4j tests are switched off")
    reason = missing_tools()
    if reason:
        no_neo4j(f"killing Neo4j needs a local one: {reason}")
    server = LocalNeo4j.create()
    try:
        server.start()
    except Neo4jUnavailable as exc:
        server.stop()
        no_neo4j(f"the local Neo4j did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def own_neo4j(spare_neo4j: Any) -> Any:
    """The spare Neo4j, running, with an empty database."""
    if not spare_neo4j.running():
        spare_neo4j.restart()
    from neo4j import GraphDatabase
    from neo4j.exceptions import ClientError

    deadline = time.monotonic() + 30
    with GraphDatabase.driver(spare_neo4j.uri, auth=(spare_neo4j.user, spare_neo4j.password)) as driver:
        while True:
            try:
                driver.execute_query("MATCH (n) DETACH DELETE n")
                return spare_neo4j
            except ClientError as exc:  # locked for a few seconds after a wrong-password test
                if exc.code != "Neo.ClientError.Security.AuthenticationRateLimit" or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def _env(server: Any, **extra: str) -> dict[str, str]:
    return {**os.environ, "KXGRAPH_BACKEND": "neo4j", **server.env(), **extra}


def _fingerprint(server: Any) -> Any:
    async def run() -> Any:
        store = Neo4jStore(uri=server.uri, user=server.user, password=server.password, database="neo4j")
        await store.open()
        try:
            return await fingerprint(store)
        finally:
            await store.close()
    return asyncio.run(run())


def _running_writes(server: Any) -> list[str]:
    from neo4j import GraphDatabase

    with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        records, _, _ = driver.execute_query(
            "SHOW TRANSACTIONS YIELD currentQuery, status RETURN currentQuery AS q")
    return [r["q"] for r in records if "UNWIND $rows" in (r["q"] or "")]


def _cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kxgraph", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.timeout(600)  # three loads of a 6,000-quote study through the CLI: 160 s in CI, more on a busy machine
def test_kill_9_of_neo4j_during_a_load_leaves_the_graph_as_it_was(own_neo4j: Any, tmp_path: Path) -> None:
    env = _env(own_neo4j, KXGRAPH_MEANING="false")  # embedding is not what a crash tests: loads take a third
    ok = _cli(env, "load", str(BUNDLED))
    assert ok.returncode == 0, ok.stderr
    before = _fingerprint(own_neo4j)
    big = generate_study(tmp_path / "big", quotes=6000, study_id="big")
    load = subprocess.Popen([sys.executable, "-m", "kxgraph", "load", str(big)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not _running_writes(own_neo4j):  # the load's transaction is writing now
        assert load.poll() is None, "the load ended before it was caught writing: " + load.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    own_neo4j.kill()
    _, err = load.communicate(timeout=120)
    assert load.returncode == 1, err
    assert "Traceback" not in err and "Neo4j at" in err and "does not answer" in err, err
    own_neo4j.restart()
    assert _fingerprint(own_neo4j) == before, "a killed load left part of itself behind"
    again = _cli(env, "load", str(big))
    assert again.returncode == 0, again.stderr
    assert "loaded: big" in again.stdout


ADD = """mutation($p: DiscussionPointInput!) { addDiscussionPoint(point: $p) { id } }"""


def test_neo4j_down_gives_503_with_the_reason_then_healthy_by_itself(own_neo4j: Any) -> None:
    srv = Server(**{k: v for k, v in _env(own_neo4j, KXGRAPH_API_TOKENS="ops:t0ken").items()
                    if k.startswith("KXGRAPH_")}).start(timeout=120)
    try:
        acked = []
        for i in range(3):
            r = httpx.post(f"{srv.base}/graphql", headers={"Authorization": "Bearer t0ken"}, timeout=30, json={
                "query": ADD, "variables": {"p": {
                    "study": "link-worker", "slug": f"fault-{i}", "text": f"Point {i}.",
                    "raisedIn": "link-worker/event/exeter-event", "concerns": ["link-worker/concept/holding"],
                    "evidence": [{"text": "This yielded rich discussion"}]}}})
            assert r.status_code == 200 and not r.json().get("errors"), r.text
            acked.append(r.json()["data"]["addDiscussionPoint"]["id"])
        own_neo4j.kill()
        r = httpx.get(f"{srv.base}/healthz", timeout=30)
        assert r.status_code == 503, r.text
        assert f"127.0.0.1:{own_neo4j.port}" in r.json()["detail"] and "does not answer" in r.json()["detail"]
        q = httpx.post(f"{srv.base}/graphql", timeout=30,
                       json={"query": '{ concept(id: "link-worker/concept/holding") { name } }'})
        assert q.status_code == 503 and q.json()["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE", q.text
        own_neo4j.restart()
        deadline = time.monotonic() + 60
        while not srv.healthy():  # the API was not restarted: it reconnects on its own
            assert time.monotonic() < deadline, srv.log()
            time.sleep(0.2)
        r = httpx.post(f"{srv.base}/graphql", timeout=30, json={
            "query": '{ concept(id: "link-worker/concept/holding") { discussionPoints { id } } }'})
        assert r.status_code == 200, r.text
        ids = {d["id"] for d in r.json()["data"]["concept"]["discussionPoints"]}
        assert set(acked) <= ids, "an acknowledged write was lost"
        assert "Traceback" not in srv.log()
    finally:
        srv.stop()


def test_a_wrong_password_or_address_is_a_clear_error_naming_the_setting(own_neo4j: Any) -> None:
    env = _env(own_neo4j, KXGRAPH_NEO4J_PASSWORD="wrong-password")
    for command in (["status"], ["load", str(BUNDLED)], ["export", "--format", "turtle"]):
        done = _cli(env, *command, timeout=120)
        assert done.returncode == 1, done.stderr
        assert "KXGRAPH_NEO4J_PASSWORD" in done.stderr and "Traceback" not in done.stderr, done.stderr
    from tests.neo4j_local import free_port

    env.update(KXGRAPH_NEO4J_URI=f"neo4j://127.0.0.1:{free_port()}")
    done = _cli(env, "status", timeout=120)
    assert done.returncode == 1 and "KXGRAPH_NEO4J_URI" in done.stderr and "Traceback" not in done.stderr, done.stderr


async def test_a_wrong_password_starts_the_api_degraded_and_says_why(own_neo4j: Any) -> None:
    settings = Settings(backend="neo4j", neo4j_uri=own_neo4j.uri,  # type: ignore[arg-type]
                        neo4j_password="definitely-wrong", load_bundled_study=False)  # type: ignore[arg-type]
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.get("/healthz")
    assert r.status_code == 503 and "credentials" in r.json()["detail"], r.text
    assert "KXGRAPH_NEO4J_PASSWORD" in r.json()["detail"]
