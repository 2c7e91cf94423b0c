"""What the benchmarks share: the example queries, and a temporary embedded store with studies."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from kxgraph.graph.falkordb_backend import FalkorStore
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from kxgraph.loaders.bundled import bundled_study_path
from kxgraph.loaders.pipeline import load

__all__ = ["EXAMPLES", "examples", "loaded_store", "percentile"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "queries"


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p`` quantile (0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def examples() -> list[tuple[str, str, dict[str, Any]]]:
    """``(name, query, variables)`` of every example query, in file order."""
    out = []
    for q in sorted(EXAMPLES.glob("*.graphql")):
        variables = q.with_name(q.stem + ".variables.json")
        out.append((q.stem, q.read_text(encoding="utf-8"),
                    json.loads(variables.read_text()) if variables.exists() else {}))
    return out


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
