"""Helpers shared by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kxgraph.graph import cypher
from kxgraph.graph.store import Store

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "studies" / "link-worker"
SECOND = ROOT / "tests" / "data" / "garden-study"
SHARED_SOURCE = ROOT.parent / "shared" / "sources" / "exeter-knowledge-exchange-blog.txt"


async def fingerprint(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole graph: every node with its properties, every relationship."""
    return await store.read(cypher.FINGERPRINT_NODES), await store.read(cypher.FINGERPRINT_RELATIONSHIPS)


async def names(store: Store, label: str, study: str = "link-worker") -> list[str]:
    rows = await store.read(f"MATCH (n:{label} {{study: $s}}) RETURN n.name AS name ORDER BY name",
                            {"s": study})
    return [r["name"] for r in rows]
