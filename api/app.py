"""The FastAPI application. The store is opened once, in the lifespan, never per request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from kxgraph import __version__
from kxgraph.api import errors, pages
from kxgraph.api.graphql.context import Context
from kxgraph.api.graphql.execute import GraphQLRunner
from kxgraph.api.guards import BodyLimit, RequestGuard, RequestLog
from kxgraph.api.routes import health
from kxgraph.errors import StoreUnavailableError
from kxgraph.graph import Store, create_store
from kxgraph.settings import Settings

__all__ = ["create_app", "start_up_writes"]

log = logging.getLogger(__name__)


async def start_up_writes(store: Store, settings: Settings) -> None:
    """What the store's owner writes when the API starts, before it answers anything."""
    from kxgraph.loaders.edits import record_legacy_edits

    await record_legacy_edits(store)  # edits of an older kxgraph: their entries, before any load
    if settings.load_bundled_study:
        from kxgraph.loaders.bundled import load_bundled_if_empty

        await load_bundled_if_empty(store, meaning=settings.meaning)


def create_app(settings: Settings | None = None, store: Store | None = None, *, attach: bool = False) -> FastAPI:
    """The app. With ``store`` given, the caller owns it (tests); otherwise the lifespan opens the
    store the settings name and closes it on shutdown. ``attach``: one of several API processes
    (``serve --workers``): the embedded store is another process's, which made the start-up writes."""
    settings = settings or Settings()
    from kxgraph.api.graphql.schema import build_schema

    schema = build_schema(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        s = store or create_store(settings, attach=attach)
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
        if opened and not attach:
            await start_up_writes(s, settings)
        app.state.store = s
        app.state.settings = settings
        app.state.graphql_runner = GraphQLRunner(schema, s, settings)
        try:
            yield
        finally:
            if own:
                await s.close()

    # no /docs nor /redoc: FastAPI's pages load their scripts from a CDN; the OpenAPI document only
    # outside production mode
    app = FastAPI(title="kxgraph", version=__version__, lifespan=lifespan,
                  description="A knowledge graph for qualitative research.", docs_url=None, redoc_url=None,
                  openapi_url=None if settings.production else "/openapi.json")
    errors.install(app)
    app.add_middleware(RequestGuard)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    if settings.cors_origins:  # closed by default: no CORS headers at all
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(RequestLog)  # outermost: every request gets an id, failures a log line
    app.include_router(health.router)
    # Strawberry's ASGI view as a plain route: FastAPI's router solved four dependencies a request
    # to make the context (BENCHMARKS.md, stop 38)
    app.router.routes.append(Route("/graphql", OfflineGraphQL(schema, settings), include_in_schema=False))
    app.include_router(pages.router)
    return app


#: GraphiQL's files, as Strawberry's page names them on a CDN -> the app's own copies
GRAPHIQL_FILES = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom.production.min.js",
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer.umd.js",
}


class OfflineGraphQL(GraphQL[Context, None]):
    """Strawberry's view with a context per request, and GraphiQL from the app's static files
    instead of a CDN (same bytes, same integrity hashes)."""

    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        from kxgraph.api.graphql.schema import principal_for

        super().__init__(schema, graphql_ide=None if settings.production else "graphiql", allow_queries_via_get=False)
        self.settings = settings
        self.principal_for = principal_for

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        context = Context(request.app.state.store, self.settings,
                          self.principal_for(self.settings, request.headers.get("authorization")))
        context.request, context.response = request, response
        return context

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        html = self.graphql_ide_html
        for remote, local in GRAPHIQL_FILES.items():
            html = html.replace(remote, f"/static/graphiql/{local}")
        if "https://" in html:  # a Strawberry upgrade changed its page: fail loudly, never load a CDN
            raise RuntimeError("GraphiQL page refers to an outside URL; update GRAPHIQL_FILES")
        return HTMLResponse(html)
