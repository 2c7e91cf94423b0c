"""Run a GraphQL query in-process: the pictures and the explorer pages ask the same API users do."""

from __future__ import annotations

from typing import Any

import strawberry

from kxgraph.api.graphql.context import Context
from kxgraph.errors import KxError
from kxgraph.graph.store import Store
from kxgraph.settings import Settings

__all__ = ["GraphQLRunner"]


class GraphQLRunner:
    """Executes queries against the app's schema with a fresh per-request context each time."""

    def __init__(self, schema: strawberry.Schema, store: Store, settings: Settings) -> None:
        self.schema = schema
        self.store = store
        self.settings = settings

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.schema.execute(query, variable_values=variables or {},
                                           context_value=Context(self.store, self.settings, None))
        if result.errors:
            original = result.errors[0].original_error
            if isinstance(original, KxError):
                raise original
            raise RuntimeError(f"internal query failed: {result.errors[0].message}")
        data: dict[str, Any] = result.data or {}
        return data
