"""The FastAPI application. The store is opened once, in the lifespan, never per request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from fastapi import FastAPI, Request
from strawberry.fastapi import GraphQLRouter

from kxgraph import __version__
from kxgraph.api import errors, pages
from kxgraph.api.graphql.context import Context
from kxgraph.api.graphql.execute import GraphQLRunner
from kxgraph.api.routes import health
from kxgraph.errors import StoreUnavailableError
from kxgraph.graph import Store, create_store
from kxgraph.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The app. With ``store`` given, the caller owns it (tests); otherwise the lifespan opens the
    store the settings name and closes it on shutdown."""
    settings = settings or Settings()
    from kxgraph.api.graphql.schema import build_schema

    schema = build_schema(settings)

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
        if opened:
            from kxgraph.loaders.pipeline import relink_api_additions

            await relink_api_additions(s)  # heal an API write cut off before it was acknowledged
            if settings.load_bundled_study:
                from kxgraph.loaders.bundled import load_bundled_if_empty

                await load_bundled_if_empty(s)
        app.state.store = s
        app.state.settings = settings
        app.state.graphql_runner = GraphQLRunner(schema, s, settings)
        try:
            yield
        finally:
            if own:
                await s.close()

    app = FastAPI(title="kxgraph", version=__version__, lifespan=lifespan,
                  description="A knowledge graph for qualitative research.")
    errors.install(app)
    app.include_router(health.router)
    app.include_router(graphql_router(settings, schema), prefix="/graphql")
    app.include_router(pages.router)
    return app


def graphql_router(settings: Settings, schema: strawberry.Schema) -> GraphQLRouter[Context, None]:
    from kxgraph.api.graphql.schema import principal_for

    async def context(request: Request) -> Context:
        return Context(request.app.state.store, settings,
                       principal_for(settings, request.headers.get("authorization")))

    return GraphQLRouter(schema, context_getter=context,
                         graphql_ide=None if settings.production else "graphiql",
                         allow_queries_via_get=False)
