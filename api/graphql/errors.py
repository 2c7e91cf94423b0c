"""Expected GraphQL errors carry a code in ``extensions``; anything else is masked."""

from __future__ import annotations

from graphql import GraphQLError

from kxgraph.errors import KxError, QueryError

__all__ = ["ApiError", "should_mask"]


class ApiError(Exception):
    """An expected failure the client can act on (bad argument, not found, not allowed)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.extensions = {"code": code}


def should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or error.path is None:  # syntax, validation, variables: the client's query
        return False
    if isinstance(original, ApiError):
        return False
    if isinstance(original, QueryError):  # the store's own words stay in the log (schema.process_errors)
        error.message = "the store could not answer this request; its answer is in the server's log"
    if isinstance(original, KxError):
        error.extensions = {**(error.extensions or {}), "code": original.code}
        return False
    return True
