"""Fuzzing the HTTP API with schemathesis from its own OpenAPI and GraphQL schemas, against a real
``kxgraph serve`` on 127.0.0.1, bounded in count: no response is a server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.serve import Server

EXAMPLES = 40


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server().start()
    yield srv
    srv.stop()


def fuzz(schema: Any, check: Any) -> tuple[int, int]:
    """Run ``check`` on generated cases of every operation: (operations, requests sent)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    sent = 0
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal sent
            sent += 1
            check(case)

        run()
    return len(operations), sent


@pytest.mark.slow
def test_openapi_operations_never_fail_with_5xx(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")

    def check(case: Any) -> None:
        response = case.call(base_url=server.base, timeout=30)
        assert response.status_code < 500, (case.path, response.status_code, response.text)

    operations, sent = fuzz(schema, check)
    assert operations >= 1 and sent >= operations
    with capsys.disabled():
        print(f"\n  OpenAPI fuzzing: {operations} operations, {sent} requests, no 5xx", end="")


@pytest.mark.slow
def test_graphql_fields_never_fail_nor_leak_errors(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    schema = schemathesis.graphql.from_url(f"{server.base}/graphql")

    def check(case: Any) -> None:
        response = case.call(base_url=server.base, timeout=30)
        assert response.status_code < 500, (case.body, response.text)
        for error in response.json().get("errors") or []:
            assert "Traceback" not in error["message"], error
            assert error["message"] != "internal error", (case.body, error)

    operations, sent = fuzz(schema, check)
    assert operations >= 20 and sent >= 5 * operations, (operations, sent)
    assert server.healthy()
    with capsys.disabled():
        print(f"\n  GraphQL fuzzing: {operations} fields, {sent} requests, no 5xx, no unmasked error", end="")
