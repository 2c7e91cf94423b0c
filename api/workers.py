"""``kxgraph serve --workers N``: N API processes on one store. This process owns the store: for the
embedded backend it starts and supervises redis-server (restarts, compaction, the folder's lock, as a
single ``serve`` does), makes the start-up writes (healing cut-off API writes, the bundled study),
then hands the port to uvicorn's worker processes. Each worker runs the app attached to the store
(the embedded server's Unix socket, or the Neo4j server), so every worker answers from the same graph
and a write made through one is read by all. When uvicorn stops (Ctrl-C, SIGTERM) the store stops.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from fastapi import FastAPI

from kxgraph.settings import Backend, Settings

if TYPE_CHECKING:
    from kxgraph.graph.falkordb_server import EmbeddedFalkorDB

__all__ = ["serve_workers", "worker_app"]


def worker_app() -> FastAPI:
    """uvicorn's factory in each worker process: the settings from the environment ``serve`` set."""
    from kxgraph.api.app import create_app

    return create_app(Settings(), attach=True)


async def _start_up(settings: Settings, server: EmbeddedFalkorDB | None) -> None:
    """What a single ``serve`` writes when it starts, once, before the workers."""
    from kxgraph.api.app import start_up_writes
    from kxgraph.graph import create_store
    from kxgraph.graph.falkordb_backend import FalkorStore

    store = FalkorStore.from_settings(settings, server=server) if server else create_store(settings)
    await store.open()
    try:
        await start_up_writes(store, settings)
    finally:
        await store.close()


def serve_workers(settings: Settings, workers: int, *, log_level: str = "info") -> None:
    """Own the store, then run ``workers`` API processes on ``settings.host:settings.port``."""
    import uvicorn

    from kxgraph.graph.falkordb_backend import FalkorStore

    server = FalkorStore.server_of(settings) if settings.backend is Backend.falkordb else None
    if server is not None:
        server.start()
    try:
        asyncio.run(_start_up(settings, server))
        # the workers read their settings from the environment: what the command line chose, said there
        os.environ.update({"KXGRAPH_BACKEND": settings.backend.value, "KXGRAPH_DATA_DIR": str(settings.data_dir),
                           "KXGRAPH_LOAD_BUNDLED_STUDY": "false"})
        uvicorn.run("kxgraph.api.workers:worker_app", factory=True, workers=workers, host=settings.host,
                    port=settings.port, log_level=log_level, lifespan="on", access_log=False)
    finally:
        if server is not None:
            server.stop()
