"""Every error reaches a client in one shape (datasette's ``test_error_shape.py`` is the model):

- HTTP: ``{"error": {"code": "UPPER_CASE", "message": "...", ...}}`` (input errors add ``file``,
  ``place`` and ``fix``), and an ``X-Request-ID`` header;
- GraphQL: each of ``errors`` has a ``message`` and ``extensions.code``, and nothing but
  ``message``, ``locations``, ``path`` and ``extensions``.

No message carries a traceback, the store's own words (``errCtx``), or ``internal error`` for an
expected failure."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kxgraph.api.app import create_app
from kxgraph.graph.store import Store
from kxgraph.settings import Settings

pytestmark = pytest.mark.anyio
CODE = re.compile(r"^[A-Z][A-Z_]+$")


@pytest.fixture
async def http(bundled: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(load_bundled_study=False, api_tokens="alice:s3cret-token-0123"), store=bundled)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


HTTP: dict[str, tuple[str, str, bytes | None, dict[str, str], int, str]] = {
    "unknown address": ("GET", "/nowhere/at/all.json", None, {}, 404, "NOT_FOUND"),
    "wrong method": ("DELETE", "/healthz", None, {}, 405, "METHOD_NOT_ALLOWED"),
    "body too large": ("POST", "/graphql", b"x" * 2_000_000, {"Content-Type": "application/json"}, 413, "TOO_LARGE"),
    "NUL in the address": ("GET", "/search?q=%00", None, {}, 400, "BAD_INPUT"),
    "body not UTF-8": ("POST", "/graphql", b'{"query": "\xff"}', {"Content-Type": "application/json"}, 400,
                       "BAD_INPUT"),
    "JSON too deep": ("POST", "/graphql", b"[" * 1000 + b"]" * 1000, {"Content-Type": "application/json"}, 400,
                      "BAD_INPUT"),
}


@pytest.mark.parametrize("name", list(HTTP))
async def test_http_errors_have_one_shape(http: httpx.AsyncClient, name: str) -> None:
    method, path, body, headers, status, code = HTTP[name]
    r = await http.request(method, path, content=body, headers=headers)
    assert r.status_code == status, (r.status_code, r.text[:300])
    payload = r.json()
    assert set(payload) == {"error"}, payload
    error = payload["error"]
    assert error["code"] == code and CODE.match(error["code"]) and error["message"], error
    assert set(error) <= {"code", "message", "file", "place", "fix"}, error
    assert r.headers.get("x-request-id"), r.headers
    assert "Traceback" not in r.text and "errCtx" not in r.text


GRAPHQL: dict[str, tuple[dict[str, Any], str | None, str]] = {
    "syntax": ({"query": "{ concept(id: ) "}, None, "GRAPHQL_INVALID"),
    "unknown field": ({"query": "{ concepts { nope } }"}, None, "GRAPHQL_INVALID"),
    "missing variable": ({"query": "query($id: ID!) { concept(id: $id) { name } }"}, None, "GRAPHQL_INVALID"),
    "page size": ({"query": "{ concepts(first: 1000) { totalCount } }"}, None, "PAGE_SIZE"),
    "cursor": ({"query": '{ concepts(first: 2, after: "bm90LWEtY3Vyc29y") { totalCount } }'}, None, "BAD_CURSOR"),
    "argument": ({"query": '{ neighbourhood(id: "link-worker/concept/holding", depth: 9) { truncated } }'}, None,
                 "BAD_ARGUMENT"),
    "depth": ({"query": "{ concept(id: \"x\") { " + "related { " * 15 + "id" + " }" * 15 + " } }"}, None, "DEPTH"),
    "aliases": ({"query": "{ " + " ".join(f"a{i}: node(id: \"x\") {{ id }}" for i in range(40)) + " }"}, None,
                "ALIASES"),
    "cost": ({"query": "{ a: concepts(first: 100) { nodes { discussionPoints { evidence { exact } } } } "
                       "b: concepts(first: 100) { nodes { discussionPoints { evidence { exact } } } } "
                       "c: concepts(first: 100) { nodes { discussionPoints { evidence { exact } } } } }"}, None, "COST"),
    "too long": ({"query": '{ search(text: "' + "x" * 600 + '") { kind } }'}, None, "TOO_LONG"),
    "NUL": ({"query": "query($t: String!) { search(text: $t) { kind } }", "variables": {"t": "a\u0000"}}, None,
            "BAD_INPUT"),
    "writes without a token": ({"query": 'mutation { addEvidenceQuote(claim: "link-worker/reflection/stayed-to-share", '
                                         'quote: {text: "cake"}) { id } }'}, None, "UNAUTHENTICATED"),
    "a quote not in the document": ({"query": 'mutation { addEvidenceQuote(claim: '
                                              '"link-worker/discussion-point/dip-in-and-out", '
                                              'quote: {text: "words that are not there"}) { id } }'},
                                    "s3cret-token-0123", "QUOTE"),
}


@pytest.mark.sweep(neo4j=4)
@pytest.mark.parametrize("name", list(GRAPHQL))
async def test_graphql_errors_have_one_shape(http: httpx.AsyncClient, name: str) -> None:
    body, token, code = GRAPHQL[name]
    r = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"} if token else {})
    assert r.status_code in (200, 400), r.text
    errors = r.json()["errors"]
    assert errors, r.text
    for error in errors:
        assert set(error) <= {"message", "locations", "path", "extensions"}, error
        assert error["message"] and error["message"] != "internal error", error
        assert CODE.match(error["extensions"]["code"]), error
    assert errors[0]["extensions"]["code"] == code, errors
    assert "Traceback" not in r.text and "errCtx" not in r.text
