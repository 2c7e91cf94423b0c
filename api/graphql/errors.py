"""Expected GraphQL errors carry a code in ``extensions``; anything else is masked.

Every expected error is a :class:`~kxgraph.errors.KxError` (the request's own ones are
:class:`~kxgraph.errors.RequestError`); its ``code`` becomes ``extensions.code``."""

from __future__ import annotations

from graphql import GraphQLError

from kxgraph.errors import KxError, QueryError, RequestError

__all__ = ["RequestError", "should_mask"]


def should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or error.path is None:  # syntax, validation, variables: the client's query
        return False
    if isinstance(original, QueryError):  # the store's own words stay in the log (schema.process_errors)
        error.message = "the store could not answer this request; its answer is in the server's log"
    if isinstance(original, KxError):
        error.extensions = {**(error.extensions or {}), "code": original.code}
        return False
    return True
