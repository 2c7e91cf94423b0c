"""Faults: kill -9 of a load midway, kill -9 of the embedded store while the API serves."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis

from bench.generate import generate_study
from kxgraph.graph.falkordb_backend import STAGING_MARK, FalkorStore
from kxgraph.graph.falkordb_server import LEASE_MS, EmbeddedFalkorDB
from tests.helpers import BUNDLED, fingerprint, redis_servers, wait_until
from tests.serve import Server


async def _fingerprint(socket_path: Path) -> object:
    store = FalkorStore(graph_name="kxgraph", socket_path=str(socket_path))
    await store.open()
    try:
        return await fingerprint(store)
    finally:
        await store.close()


@pytest.mark.slow
def test_kill_9_of_a_load_midway_leaves_the_served_graph_unchanged(short_tmp: Path, tmp_path: Path) -> None:
    big = generate_study(tmp_path / "big", quotes=4000, study_id="big")
    with EmbeddedFalkorDB(short_tmp / "store") as server:
        env = {**os.environ, "KXGRAPH_DATA_DIR": str(short_tmp / "store")}
        ok = subprocess.run([sys.executable, "-m", "kxgraph", "load", str(BUNDLED)], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
        assert ok.returncode == 0, ok.stderr
        before = asyncio.run(_fingerprint(server.socket_path))
        client = redis.Redis(unix_socket_path=str(server.socket_path), decode_responses=True)
        load = subprocess.Popen([sys.executable, "-m", "kxgraph", "load", str(big)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while not any(STAGING_MARK in g for g in client.execute_command("GRAPH.LIST")):  # writing now
            assert load.poll() is None, "the load ended before it was caught writing"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        load.send_signal(signal.SIGKILL)
        load.wait()
        assert asyncio.run(_fingerprint(server.socket_path)) == before
        again = subprocess.run([sys.executable, "-m", "kxgraph", "load", str(big)], env=env,
                               capture_output=True, text=True, timeout=300, check=False)
        assert again.returncode == 0, again.stderr
        assert "loaded: big" in again.stdout
        # the killed load's staging graph goes once its lease runs out (the supervisor's housekeeping)
        wait_until(lambda: not any(STAGING_MARK in g for g in client.execute_command("GRAPH.LIST")),
                   timeout=LEASE_MS / 1000 + 20, what="dropping the killed load's staging graph")
        client.close()


ADD = """mutation($p: DiscussionPointInput!) { addDiscussionPoint(point: $p) { id } }"""


@pytest.mark.slow
def test_kill_9_of_the_store_while_serving_gives_503_then_recovers_with_every_ack(tmp_path: Path) -> None:
    srv = Server(KXGRAPH_API_TOKENS="ops:t0ken").start()
    try:
        headers = {"Authorization": "Bearer t0ken"}
        acked = []
        for i in range(5):
            r = httpx.post(f"{srv.base}/graphql", headers=headers, timeout=30, json={"query": ADD, "variables": {
                "p": {"study": "link-worker", "slug": f"fault-{i}", "text": f"Point {i}.",
                      "raisedIn": "link-worker/event/exeter-event", "concerns": ["link-worker/concept/holding"],
                      "evidence": [{"text": "This yielded rich discussion"}]}}})
            assert r.status_code == 200 and not r.json().get("errors"), r.text
            acked.append(r.json()["data"]["addDiscussionPoint"]["id"])
        # clients keep asking while the store is killed (its outage lasts only milliseconds)
        seen: list[tuple[str, int, str]] = []
        stop = threading.Event()

        def hammer(path: str, body: dict[str, str] | None) -> None:
            with httpx.Client(base_url=srv.base, timeout=10) as c:
                while not stop.is_set():
                    r = c.post(path, json=body) if body else c.get(path)
                    seen.append((path, r.status_code, r.text))

        query = {"query": '{ concept(id: "link-worker/concept/holding") { name } }'}
        threads = [threading.Thread(target=hammer, args=("/healthz", None)),
                   threading.Thread(target=hammer, args=("/graphql", query))]
        for t in threads:
            t.start()
        wait_until(lambda: len(seen) >= 4, what="the first answers")
        kills = 0
        while kills < 5 and not any(code == 503 for _, code, _ in seen):  # an outage of milliseconds may
            old = srv.redis_pid()                                          # fall between two requests
            os.kill(old, signal.SIGKILL)
            kills += 1
            wait_until(lambda old=old: srv.redis_pid() != old and srv.healthy(), what="the store's restart")
            n = len(seen)
            wait_until(lambda n=n: len(seen) >= n + 4, what="answers after the restart")
        stop.set()
        for t in threads:
            t.join()
        down = [(p, body) for p, code, body in seen if code == 503]
        assert down, f"no request noticed the store was gone ({kills} kills)"
        assert all("FalkorDB" in body and ("unavailable" in body or "STORE_UNAVAILABLE" in body)
                   for _, body in down), down[:3]
        assert {code for _, code, _ in seen} <= {200, 503}, "only 200 or a clear 503, never a 500"
        assert all(code == 200 for _, code, _ in seen[-4:]), "the store did not come back"
        assert srv.healthy(), "the store did not come back on its own"
        r = httpx.post(f"{srv.base}/graphql", timeout=30, json={"query": """{ concept(id: "link-worker/concept/holding")
            { discussionPoints { id } } }"""})
        ids = {d["id"] for d in r.json()["data"]["concept"]["discussionPoints"]}
        assert set(acked) <= ids
        health = httpx.get(f"{srv.base}/healthz").json()
        assert health["restarts"] == kills and health["state"] == "ready", health
        assert redis_servers(srv.data) == 1, "exactly one store process for the data folder"
    finally:
        srv.stop()
