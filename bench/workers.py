"""``kxgraph serve --workers N`` under load: 32 wrk clients posting the trace of one concept
(``examples/queries/1-trace-concept``) for ``--seconds``, with 1, 2... API processes on the bundled
study, beside the raw store answering the hand-written statement of the same answer
(``bench/baselines.py``) from one client process per core, 32 requests in flight in all, through the
official FalkorDB client. Prints JSON; BENCHMARKS.md keeps a run.

    python -m bench.workers --seconds 20 --workers 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRACE_ID = "link-worker/concept/holding"


def _raw_client(socket: str, seconds: float, inflight: int, out: Any) -> None:
    from bench.baselines import BASELINES
    from kxgraph.graph.falkordb_backend import FalkorStore

    async def go() -> int:
        store = FalkorStore(graph_name="kxgraph", socket_path=socket)
        await store.open()
        done = 0
        stop = time.monotonic() + seconds
        (statement,) = BASELINES["1-trace-concept"]

        async def one() -> None:
            nonlocal done
            while time.monotonic() < stop:
                await store.read(statement, {"id": TRACE_ID})
                done += 1
        await asyncio.gather(*(one() for _ in range(inflight)))
        await store.close()
        return done
    out.put(asyncio.run(go()))


def raw(socket: str, seconds: float, clients: int) -> dict[str, Any]:
    procs = os.cpu_count() or 1
    spawn = multiprocessing.get_context("spawn")
    queue: Any = spawn.Queue()
    workers = [spawn.Process(target=_raw_client, args=(socket, seconds, clients // procs, queue)) for _ in range(procs)]
    for w in workers:
        w.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in workers)
    for w in workers:
        w.join()
    return {"processes": procs, "in_flight": clients, "requests_per_second": round(total / seconds, 1)}


def run(seconds: int, clients: int, counts: list[int]) -> dict[str, Any]:
    from bench.wrk import run_wrk
    from tests.serve import Server

    result: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "clients": clients,
                              "seconds": seconds, "api": {}}
    for n in counts:
        srv = Server(KXGRAPH_WORKERS=str(n)).start()
        try:
            result["api"][n] = run_wrk(srv.base, seconds, clients, only="1-trace-concept")
            if n == counts[0]:
                result["raw"] = raw(str(srv.data / "falkordb.sock"), seconds, clients)
        finally:
            srv.stop()
    for r in result["api"].values():
        r["share_of_raw"] = round(r["requests_per_second"] / result["raw"]["requests_per_second"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.clients, [int(x) for x in args.workers.split(",")]), indent=2))


if __name__ == "__main__":
    main()
