"""Pictures in Jupyter: ``pic = await picture("concept-map")`` shows itself (``_repr_html_``)."""

from __future__ import annotations

from kxgraph.api.graphql.execute import GraphQLRunner
from kxgraph.api.graphql.schema import build_schema
from kxgraph.api.viz.builders import build_picture
from kxgraph.api.viz.picture import Picture
from kxgraph.graph import open_store
from kxgraph.settings import Settings

__all__ = ["picture"]


async def picture(kind: str, *, focus: str | None = None, study: str | None = None, depth: int = 1,
                  limit: int = 150, settings: Settings | None = None) -> Picture:
    """Build a picture from the configured store (a running ``kxgraph serve`` is used as is)."""
    settings = settings or Settings()
    store = await open_store(settings, attach=True)
    try:
        run = GraphQLRunner(build_schema(settings), store, settings)
        pic = await build_picture(run, kind, focus=focus, study=study, depth=depth, limit=limit)
        pic.network_data()  # fix the layout while the data is at hand
        return pic
    finally:
        await store.close()
