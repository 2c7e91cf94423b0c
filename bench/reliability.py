"""``python -m bench.reliability``: the embedded store under the faults its users meet.

1. **Start time** — ``kxgraph serve`` from start to a healthy ``/healthz`` on a data folder holding the
   bundled study and a synthetic one of ``--quotes`` quotes: after its first load, and again after
   ``--reloads`` consecutive reloads of the same study (each load compacts the append-only file).
2. **A crash while serving** — the same folder served, API writes coming in, ``kill -9`` of the
   store: seconds until ``/healthz`` is healthy again, store processes on the folder afterwards,
   acknowledged writes present.
3. **A soak** — a graph of ``--soak-quotes`` quotes served with a steady stream of API writes and
   reloads of the synthetic study running one after the other, and ``--cycles`` times a ``kill -9``
   of the store at a random moment (during a load, an API write, or the store's own start):
   acknowledged writes lost, stray store processes after ``serve`` exits, cycles after which the
   store was not healthy within two minutes without a hand.

Results: JSON in ``bench/results/<date>-reliability.json`` and the section of BENCHMARKS.md between
its ``bench:reliability`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.generate import generate_study  # noqa: E402
from kxgraph.graph.falkordb_backend import FalkorStore  # noqa: E402
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB, aof_files  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402
from kxgraph.loaders.pipeline import prepare, write_prepared  # noqa: E402
from tests.helpers import redis_servers  # noqa: E402
from tests.serve import free_port  # noqa: E402

MARK_START = "<!-- bench:reliability:start -->"
MARK_END = "<!-- bench:reliability:end -->"
TARGETS = {"start_s": 3.0, "kill_recovery_s": 20.0}
TOKEN = "bench-t0ken"  # noqa: S105 - a throw-away token of the benchmark's own server
ADD = """mutation($p: DiscussionPointInput!) { addDiscussionPoint(point: $p) { id } }"""


class Serve:
    """``kxgraph serve`` on a data folder, with a writer token."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "KXGRAPH_DATA_DIR": str(data), "KXGRAPH_PORT": str(self.port),
                    "KXGRAPH_BACKEND": "falkordb", "KXGRAPH_LOAD_BUNDLED_STUDY": "false",
                    "KXGRAPH_API_TOKENS": f"bench:{TOKEN}", "PYTHONPATH": str(ROOT)}
        self.log = data.parent / f"{data.name}-serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 600) -> float:
        """Seconds from starting the process to a healthy /healthz."""
        started = time.perf_counter()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "kxgraph", "serve"], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)
        self.wait_healthy(timeout)
        return time.perf_counter() - started

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while not self.healthy():
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("kxgraph serve exited:\n" + self.log.read_text(errors="replace")[-3000:])
            if time.perf_counter() > deadline:
                return False
            time.sleep(0.02)
        return True

    def redis_pid(self) -> int | None:
        try:
            return int((self.data / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=120)


@dataclass
class Writer:
    """API writes (``addDiscussionPoint``) one after the other; the ids acknowledged with 200."""

    base: str
    prefix: str
    acked: list[str] = field(default_factory=list)
    refused: int = 0
    other: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        n = 0
        with httpx.Client(base_url=self.base, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            while not self._stop.is_set():
                slug = f"{self.prefix}-{n}"
                n += 1
                try:
                    r = c.post("/graphql", json={"query": ADD, "variables": {"p": {
                        "study": "link-worker", "slug": slug, "text": f"Soak point {slug}.",
                        "raisedIn": "link-worker/event/exeter-event", "concerns": ["link-worker/concept/holding"],
                        "evidence": [{"text": "This yielded rich discussion"}]}}})
                except httpx.HTTPError as exc:
                    self.other.append(f"{type(exc).__name__}")
                    time.sleep(0.05)
                    continue
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                if r.status_code == 200 and not body.get("errors"):
                    self.acked.append(body["data"]["addDiscussionPoint"]["id"])
                elif r.status_code == 503:
                    self.refused += 1
                    time.sleep(0.05)
                else:
                    self.other.append(f"{r.status_code}: {r.text[:200]}")
                time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)


async def _count_present(data: Path, ids: list[str]) -> int:
    server = EmbeddedFalkorDB(data)
    store = FalkorStore(graph_name="kxgraph", server=server)
    store.owns_server = True
    await store.open()
    try:
        rows = await store.read("UNWIND $ids AS id MATCH (d:DiscussionPoint {id: id}) RETURN count(d) AS n",
                                {"ids": ids})
        return int(rows[0]["n"])
    finally:
        await store.close()


async def _load(data: Path, paths: list[Path], times: int) -> list[float]:
    server = EmbeddedFalkorDB(data)
    store = FalkorStore(graph_name="kxgraph", server=server)
    store.owns_server = True
    await store.open()
    try:
        prep = prepare(paths)
        seconds = []
        for _ in range(times):
            started = time.perf_counter()
            await write_prepared(store, prep, force=True)
            seconds.append(round(time.perf_counter() - started, 1))
        return seconds
    finally:
        await store.close()


def _starts(data: Path, n: int = 3) -> list[float]:
    out = []
    for _ in range(n):
        serve = Serve(data)
        try:
            out.append(round(serve.start(), 2))
        finally:
            serve.stop()
    return out


def measure_start(work: Path, quotes: int, reloads: int) -> dict[str, Any]:
    data = work / "start"
    study = generate_study(work / "study-start", quotes=quotes, study_id="big")
    paths = [bundled_study_path(), study]
    first = asyncio.run(_load(data, paths, 1))
    after_one = {"starts_s": _starts(data), **aof_files(data), "load_s": first}
    print(f"start after 1 load: {after_one}", flush=True)
    again = asyncio.run(_load(data, paths, reloads))
    after_many = {"starts_s": _starts(data), **aof_files(data), "load_s": again}
    print(f"start after {reloads} more reloads: {after_many}", flush=True)
    return {"quotes": quotes, "reloads": reloads, "after_first_load": after_one, "after_reloads": after_many,
            "start_median_s": statistics.median(after_one["starts_s"]),
            "start_after_reloads_median_s": statistics.median(after_many["starts_s"])}


def measure_kill(work: Path) -> dict[str, Any]:
    data = work / "start"  # the folder part 1 loaded
    serve = Serve(data)
    serve.start()
    writer = Writer(serve.base, "kill").start()
    try:
        time.sleep(2)
        pid = serve.redis_pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed = time.perf_counter()
        time.sleep(0.01)
        healthy = serve.wait_healthy(300)
        recovery = time.perf_counter() - killed
        time.sleep(2)
    finally:
        writer.stop()
        processes = redis_servers(data)
        serve.stop()
    present = asyncio.run(_count_present(data, writer.acked))
    out = {"recovered": healthy, "recovery_s": round(recovery, 2), "store_processes": processes,
           "acked": len(writer.acked), "acked_present": present, "refused_503": writer.refused,
           "other_answers": writer.other[:5], "strays_after_serve": redis_servers(data)}
    print(f"kill -9 while serving: {out}", flush=True)
    return out


def measure_soak(work: Path, quotes: int, cycles: int, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    data = work / "soak"
    study = generate_study(work / "study-soak", quotes=quotes, study_id="soak")
    asyncio.run(_load(data, [bundled_study_path(), study], 1))
    serve = Serve(data)
    serve.start()
    writer = Writer(serve.base, "soak").start()
    loads: list[tuple[int, str]] = []
    loading = threading.Event()
    stop = threading.Event()

    def reload_forever() -> None:
        while not stop.is_set():
            loading.set()
            done = subprocess.run([sys.executable, "-m", "kxgraph", "load", str(study), "--force"], env=serve.env,
                                  capture_output=True, text=True, check=False)
            loading.clear()
            loads.append((done.returncode, (done.stderr or done.stdout).strip().splitlines()[-1:][0]
                          if (done.stderr or done.stdout).strip() else ""))
            time.sleep(rnd.choice([0.1, 1, 3]))

    reloader = threading.Thread(target=reload_forever, daemon=True)
    reloader.start()
    moments: dict[str, int] = {"load": 0, "write": 0, "start": 0}
    recoveries: list[float] = []
    needed_a_hand = 0
    try:
        for cycle in range(cycles):
            time.sleep(rnd.choice([0.02, 0.2, 1.0, 3.0, 6.0]))
            moment = "start" if not serve.healthy() else ("load" if loading.is_set() else "write")
            pid = serve.redis_pid()
            if pid is None:
                moment = "start"
                time.sleep(0.01)
                pid = serve.redis_pid()
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            moments[moment] += 1
            killed = time.perf_counter()
            if not serve.wait_healthy(120):
                needed_a_hand += 1
                print(f"cycle {cycle}: not healthy 120 s after the kill", flush=True)
                break
            recoveries.append(time.perf_counter() - killed)
    finally:
        stop.set()
        reloader.join(300)
        writer.stop()
        processes_serving = redis_servers(data)
        serve.stop()
    strays = redis_servers(data)
    present = asyncio.run(_count_present(data, writer.acked))
    final = subprocess.run([sys.executable, "-m", "kxgraph", "load", str(study), "--force"], env=serve.env,
                           capture_output=True, text=True, check=False)
    out = {"quotes": quotes, "cycles": sum(moments.values()), "kills_by_moment": moments,
           "recovery_median_s": round(statistics.median(recoveries), 2) if recoveries else None,
           "recovery_max_s": round(max(recoveries), 2) if recoveries else None,
           "acked": len(writer.acked), "lost_acked": len(writer.acked) - present, "refused_503": writer.refused,
           "other_answers": writer.other[:5], "loads": len(loads), "loads_ok": sum(1 for c, _ in loads if c == 0),
           "load_failures": sorted({m for c, m in loads if c != 0})[:6],
           "load_tracebacks": sum(1 for _, m in loads if "Traceback" in m),
           "store_processes_while_serving": processes_serving, "strays_after_serve": strays,
           "needed_a_hand": needed_a_hand, "final_load_ok": final.returncode == 0}
    print(f"soak: {json.dumps(out)}", flush=True)
    return out


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(results: dict[str, Any]) -> str:
    s, k, soak = results["start"], results["kill"], results["soak"]
    a, b = s["after_first_load"], s["after_reloads"]
    moments = soak["kills_by_moment"]
    kill_ok = (k["recovered"] and k["recovery_s"] <= TARGETS["kill_recovery_s"] and k["store_processes"] == 1
               and k["acked_present"] == k["acked"])
    soak_ok = soak["lost_acked"] == 0 and soak["strays_after_serve"] == 0 and soak["needed_a_hand"] == 0
    rows = [
        (f"`serve` start → healthy, {s['quotes']:,} quotes, after its load", "≤ 3 s",
         f"{s['start_median_s']:.2f} s (median of {a['starts_s']}; append-only file {a['aof_bytes'] / 2**20:.0f} MB)",
         _mark(s["start_median_s"] <= TARGETS["start_s"])),
        (f"the same after {s['reloads']} more reloads of the study", "≤ 3 s",
         f"{s['start_after_reloads_median_s']:.2f} s (median of {b['starts_s']}; file {b['aof_bytes'] / 2**20:.0f} "
         f"MB; each reload {min(b['load_s'])}–{max(b['load_s'])} s)",
         _mark(s["start_after_reloads_median_s"] <= TARGETS["start_s"])),
        (f"`kill -9` of the store serving {s['quotes']:,} quotes → healthy", "≤ 20 s, 1 process, every ack",
         f"{k['recovery_s']:.2f} s, {k['store_processes']} process, {k['acked_present']}/{k['acked']} acknowledged "
         f"writes present ({k['refused_503']} refused with 503 meanwhile)", _mark(kill_ok)),
        (f"soak: {soak['cycles']} `kill -9` on {soak['quotes']:,} quotes ({moments['load']} during loads, "
         f"{moments['write']} during API writes, {moments['start']} during the store's start)",
         "0 lost, 0 strays, 0 hands",
         f"{soak['lost_acked']} of {soak['acked']} acknowledged writes lost, {soak['strays_after_serve']} strays, "
         f"{soak['needed_a_hand']} cycles needing a hand; recovery median {soak['recovery_median_s']} s, max "
         f"{soak['recovery_max_s']} s; {soak['loads_ok']} of {soak['loads']} reloads completed, the others ended "
         f"with a clear error ({soak['load_tracebacks']} tracebacks)", _mark(soak_ok)),
    ]
    return "\n".join([MARK_START, "", f"Run on {results['date']} with `{results['command']}`.", "",
                      "| figure | target | measured | |", "|---|---|---|---|",
                      *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows), "", MARK_END])


def refresh(markdown: Path, section: str) -> None:
    text = markdown.read_text(encoding="utf-8")
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## The embedded store under faults\n\n" + section + "\n"
    markdown.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quotes", type=int, default=100_000)
    parser.add_argument("--reloads", type=int, default=20)
    parser.add_argument("--soak-quotes", type=int, default=20_000)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--no-markdown", action="store_true")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="kxrel"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"date": date.today().isoformat(),
                               "command": " ".join(["python -m bench.reliability", *(argv or sys.argv[1:])])}
    try:
        results["start"] = measure_start(work, args.quotes, args.reloads)
        results["kill"] = measure_kill(work)
        results["soak"] = measure_soak(work, args.soak_quotes, args.cycles, args.seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = args.json or ROOT / "bench" / "results" / f"{results['date']}-reliability.json"
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"results: {out}")
    if not args.no_markdown:
        refresh(args.markdown, table(results))


if __name__ == "__main__":
    main()
