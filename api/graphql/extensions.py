"""The schema's own machinery: round trips in ``extensions``, production's silence about field
names, a time budget per request, one log line per failed request (with ``api/guards.py``)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult

from kxgraph.api.graphql.errors import should_mask
from kxgraph.api.guards import current_request, note_codes
from kxgraph.errors import QueryError

__all__ = ["KxSchema", "NoSuggestions", "RoundTrips", "ValidatedOnce"]

log = logging.getLogger("kxgraph.api.graphql.schema")


class RoundTrips(SchemaExtension):
    """Adds ``extensions.roundTrips``: how many times the request went to the store."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        store = getattr(context, "store", None)
        response = getattr(context, "response", None)
        if getattr(store, "unavailable", False) and response is not None:
            response.status_code = 503  # the store is down: say so in HTTP too, and when to retry
            response.headers["Retry-After"] = "1"
        return {"roundTrips": getattr(store, "round_trips", 0)}


class ValidatedOnce(SchemaExtension):
    """Each parsed query validated once. Strawberry's ``ValidationCache`` keys its cache by the
    document, and a document hashes by its structure: a walk of the whole tree on every request.
    ``ParserCache`` gives the same document object for the same query text, so the errors are kept
    by that object's identity, and the schema's (both kept beside them: a new document or schema at
    a reused address is validated anew; a production schema's errors lose their suggestions)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        document, schema = ec.graphql_document, ec.schema._schema
        if document is None:  # not parsed: its parse error is the answer
            yield
            return
        key = (id(schema), id(document), ec.validation_rules)
        hit = _VALIDATED.get(key)
        if hit is None or hit[0] is not schema or hit[1] is not document:
            if len(_VALIDATED) >= self.maxsize:
                _VALIDATED.pop(next(iter(_VALIDATED)))
            hit = _VALIDATED[key] = (schema, document, validate_document(schema, document, ec.validation_rules))
        ec.pre_execution_errors = hit[2]
        yield


_VALIDATED: dict[tuple[int, int, Any], tuple[Any, Any, list[GraphQLError]]] = {}


class NoSuggestions(SchemaExtension):
    """Production mode: validation errors do not name the schema's fields ("Did you mean …?")."""

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or []:
            error.message = _SUGGESTION.sub("", error.message)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _forget(task: asyncio.Future[Any]) -> None:
    """The end of a request stopped at its budget: nobody waits for it; its error is only logged."""
    if not task.cancelled() and task.exception() is not None:
        log.info("a request stopped at its budget ended with %r", task.exception())


class KxSchema(strawberry.Schema):
    """Errors are logged as one line per failed request, without the query or its variables (they
    carry the study's text); only an unexpected error (a bug) is logged with its traceback. A
    request that runs longer than the settings' budget is stopped with ``TIMEOUT``."""

    timeout_s: float = 15.0

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        # not asyncio.wait_for: it waits for the cancelled request to end, and returns its answer
        # when something inside it finishes its work regardless (the FalkorDB client completes a
        # command it has sent), so a request stuck there would not be stopped at its budget
        task = asyncio.ensure_future(super().execute(query, *args, **kwargs))
        done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if task not in done:
            task.cancel()
            task.add_done_callback(_forget)
            error = GraphQLError(f"the request took longer than {self.timeout_s:g} s and was stopped: ask for less",
                                 extensions={"code": "TIMEOUT"})
            return ExecutionResult(data=None, errors=[error])
        result = task.result()
        for error in result.errors or []:  # one shape: every error has a code
            if not (error.extensions or {}).get("code"):
                code = "INTERNAL" if error.message == "internal error" else "GRAPHQL_INVALID"
                error.extensions = {**(error.extensions or {}), "code": code}
        return result

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """The codes go to the request's one log line (api/guards.py); a bug's traceback is logged."""
        note_codes({str((e.extensions or {}).get("code", "GRAPHQL")) if not should_mask(e) else "INTERNAL"
                    for e in errors})
        record = current_request()
        rid = record.id if record else "-"
        for e in errors:
            if isinstance(e.original_error, QueryError):
                log.warning("request %s: the store refused a statement: %s", rid, str(e.original_error)[:300])
            elif should_mask(e):
                log.error("request %s: unexpected error in GraphQL field %s", rid,
                          ".".join(map(str, e.path or []))[:200], exc_info=e.original_error)
