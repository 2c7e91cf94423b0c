"""One store interface, two real backends (embedded FalkorDB, Neo4j).

Use :func:`open_store`; backends are imported lazily so that choosing Neo4j never needs the
FalkorDB wheel and vice versa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kxgraph.graph.store import Capabilities, Health, Store, WriteOp

if TYPE_CHECKING:
    from kxgraph.settings import Settings

__all__ = ["Capabilities", "Health", "Store", "WriteOp", "create_store", "open_store"]


def create_store(settings: Settings, *, attach: bool = False) -> Store:
    """The store the settings name, not yet opened. ``attach``: for the embedded store, use a
    server another live kxgraph process runs for the same data folder rather than refusing."""
    from kxgraph.settings import Backend

    if settings.backend is Backend.neo4j:
        from kxgraph.graph.neo4j_backend import Neo4jStore

        return Neo4jStore.from_settings(settings)
    from kxgraph.graph.falkordb_backend import FalkorStore

    return FalkorStore.from_settings(settings, attach=attach)


async def open_store(settings: Settings, *, attach: bool = False) -> Store:
    """Open (and for the embedded backend, start) the store the settings name."""
    store = create_store(settings, attach=attach)
    await store.open()
    return store
