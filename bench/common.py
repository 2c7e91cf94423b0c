"""What the benchmarks share: the example queries, and a temporary embedded store with studies."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from kxgraph.graph.falkordb_backend import FalkorStore
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from kxgraph.loaders.bundled import bundled_study_path
from kxgraph.loaders.pipeline import load

__all__ = ["EXAMPLES", "examples", "loaded_store", "percentile", "timed"]

T = TypeVar("T")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "queries"


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p`` quantile (0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[T]], runs: int, warmup: int = 3) -> tuple[list[float], T]:
    """Milliseconds of ``runs`` calls after ``warmup`` untimed ones, and the last call's result."""
    times: list[float] = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        result = await call()
        if i >= warmup:
            times.append((time.perf_counter() - started) * 1000)
    return times, result


async def interleaved(calls: Mapping[str, Callable[[], Awaitable[Any]]], runs: int,
                      warmup: int = 5) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Milliseconds of ``runs`` rounds of ``calls``, one of each in turn (the machine's noise hits
    them all alike), after ``warmup`` untimed rounds; and each call's last result."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    last: dict[str, Any] = {}
    for i in range(warmup + runs):
        for name, call in calls.items():
            started = time.perf_counter()
            last[name] = await call()
            if i >= warmup:
                times[name].append((time.perf_counter() - started) * 1000)
    return times, last


def examples() -> list[tuple[str, str, dict[str, Any]]]:
    """``(name, query, variables)`` of every example query, in file order."""
    out = []
    for q in sorted(EXAMPLES.glob("*.graphql")):
        variables = q.with_name(q.stem + ".variables.json")
        out.append((q.stem, q.read_text(encoding="utf-8"),
                    json.loads(variables.read_text()) if variables.exists() else {}))
    return out



def neo4j_from_env() -> Any:
    """A (closed) store on the Neo4j that ``KXGRAPH_NEO4J_URI`` (``_USER``, ``_PASSWORD``,
    ``_DATABASE``) names: ``make neo4j`` starts one and writes those settings to ``.neo4j/kxgraph.env``."""
    import os

    from kxgraph.graph.neo4j_backend import Neo4jStore

    if not os.environ.get("KXGRAPH_NEO4J_URI"):
        raise SystemExit("--neo4j needs KXGRAPH_NEO4J_URI: run 'make neo4j' and source .neo4j/kxgraph.env")
    return Neo4jStore(uri=os.environ["KXGRAPH_NEO4J_URI"], user=os.environ.get("KXGRAPH_NEO4J_USER", "neo4j"),
                      password=os.environ.get("KXGRAPH_NEO4J_PASSWORD", ""),
                      database=os.environ.get("KXGRAPH_NEO4J_DATABASE", "neo4j"))

@asynccontextmanager
async def loaded_neo4j(studies: list[Path] | None = None) -> AsyncIterator[Any]:
    """The Neo4j that ``KXGRAPH_NEO4J_URI`` (``_USER``, ``_PASSWORD``, ``_DATABASE``) names, wiped,
    with ``studies`` loaded (``make neo4j`` starts one and writes those settings to
    ``.neo4j/kxgraph.env``); wiped again at the end."""
    store = neo4j_from_env()
    await store.open()
    try:
        await store.drop_graph()
        await load(store, studies or [bundled_study_path()])
        yield store
    finally:
        await store.drop_graph()
        await store.close()


@asynccontextmanager
async def loaded_store(studies: list[Path] | None = None) -> AsyncIterator[FalkorStore]:
    """A fresh embedded FalkorDB in a temporary folder with ``studies`` (default: the bundled one)."""
    with tempfile.TemporaryDirectory(prefix="kxb") as tmp:
        server = EmbeddedFalkorDB(Path(tmp), appendfsync="everysec")
        server.start()
        store = FalkorStore(graph_name="bench", socket_path=str(server.socket_path))
        try:
            await store.open()
            await load(store, studies or [bundled_study_path()])
            yield store
        finally:
            await store.close()
            server.stop()
