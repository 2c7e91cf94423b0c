"""The FastAPI application. The store is opened once, in the lifespan, never per request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from kxgraph.api import errors
from kxgraph.api.routes import health
from kxgraph.graph import Store, create_store

from kxgraph import __version__
from kxgraph.errors import StoreUnavailableError
from kxgraph.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The app. With ``store`` given, the caller owns it (tests); otherwise the lifespan opens the
    store the settings name and closes it on shutdown."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        s = store or create_store(settings)
        opened = True
        if own:
            try:
                await s.open()
            except StoreUnavailableError as exc:
                if s.capabilities.embedded:
                    raise
                # a server store may come back later: start degraded, /healthz says why
                log.error("starting without the store: %s", exc)
                opened = False
        if opened and settings.load_bundled_study:
            from kxgraph.loaders.bundled import load_bundled_if_empty

            await load_bundled_if_empty(s)
        app.state.store = s
        app.state.settings = settings
        try:
            yield
        finally:
            if own:
                await s.close()

    app = FastAPI(title="kxgraph", version=__version__, lifespan=lifespan,
                  description="A knowledge graph for qualitative research.")
    errors.install(app)
    app.include_router(health.router)
    return app
