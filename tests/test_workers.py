"""``kxgraph serve --workers 2``: two API processes on one embedded store. Both answer, from one
graph (a write through the API is read back on every request), one redis-server owned by the
serving process, and everything stops with it, leaving the data folder free."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from kxgraph.graph.falkordb_server import folder_in_use
from tests.serve import Server

TRACE = {"query": '{ concept(id: "link-worker/concept/holding") { name consequences { text evidence { exact } } } }'}
ADD = """mutation($p: DiscussionPointInput!) { addDiscussionPoint(point: $p) { id } }"""


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_two_workers_answer_from_one_store_and_stop_with_serve() -> None:
    srv = Server(KXGRAPH_WORKERS="2", KXGRAPH_API_TOKENS="ops:t0ken").start()
    try:
        assert srv.proc is not None
        children = _children(srv.proc.pid)
        workers = [p for p in children if "spawn_main" in _cmdline(p)]
        stores = [p for p in children if "redis-server" in _cmdline(p)]
        assert len(workers) == 2 and len(stores) == 1, [_cmdline(p) for p in children]
        assert stores == [srv.redis_pid()]
        before = {p: _cpu_ticks(p) for p in workers}

        with httpx.Client(base_url=srv.base, timeout=30) as c:
            r = c.post("/graphql", headers={"Authorization": "Bearer t0ken"}, json={"query": ADD, "variables": {
                "p": {"study": "link-worker", "slug": "from-a-worker", "text": "Said through one worker.",
                      "raisedIn": "link-worker/event/exeter-event", "concerns": ["link-worker/concept/holding"],
                      "evidence": [{"text": "This yielded rich discussion"}]}}})
            assert r.status_code == 200 and not r.json().get("errors"), r.text
        point = {"query": '{ node(id: "link-worker/discussion-point/from-a-worker") { ... on DiscussionPoint { text } } }'}

        def ask(_: int) -> tuple[int, str, int, str]:
            with httpx.Client(base_url=srv.base, timeout=30) as c:
                a, b = c.post("/graphql", json=TRACE), c.post("/graphql", json=point)
                return a.status_code, a.text, b.status_code, b.text
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(240)))
        assert {(a, b) for a, _, b, _ in answers} == {(200, 200)}
        assert len({t for _, t, _, _ in answers}) == 1 and "Holding" in answers[0][1]
        assert all("Said through one worker." in t for _, _, _, t in answers)  # every worker reads the write
        grew = [p for p in workers if _cpu_ticks(p) > before[p]]
        assert len(grew) == 2, "one of the two workers answered nothing"
    finally:
        pid = srv.proc.pid if srv.proc else None
        if srv.proc is not None:
            srv.proc.send_signal(signal.SIGTERM)
            srv.proc.wait(timeout=60)
            srv._log.close()
            srv.proc = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in [*workers, *stores]):
        time.sleep(0.1)
    assert not [p for p in [*workers, *stores] if os.path.exists(f"/proc/{p}") and "Z" not in
                Path(f"/proc/{p}/stat").read_text().rsplit(") ", 1)[1][:1]], "a process outlived serve"
    assert pid is not None and folder_in_use(srv.data) is None  # the next serve may start
    srv.stop()
