"""Abuse and access over HTTP: malformed and abusive GraphQL refused with clear errors and the
graph unchanged, body size limits, CORS closed by default, tokens never logged."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kxgraph.api.app import create_app
from kxgraph.graph.store import Store
from kxgraph.loaders.pipeline import load
from kxgraph.settings import Settings
from tests.helpers import BUNDLED, fingerprint

pytestmark = pytest.mark.anyio
TOKEN = "tok-" + "s3cr3t" * 4


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    await load(store, [BUNDLED])
    app = create_app(Settings(load_bundled_study=False, api_tokens=f"alice:{TOKEN}"), store=store)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


DEEP = "{ concept(id: \"x\") { " + "related { " * 30 + "id" + " }" * 30 + " } }"
ALIASES = "{ " + " ".join(f"a{i}: node(id: \"x\") {{ id }}" for i in range(60)) + " }"
TOKENS = "{ " + "__typename " * 20000 + "}"
FRAGMENT_CYCLE = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
BAD_REQUESTS: dict[str, tuple[dict[str, Any] | str, str]] = {
    "malformed JSON": ('{"query": "{ concepts ', ""),
    "not a query": ({"query": 42}, ""),
    "syntax error": ({"query": "{ concept(id: ) { name "}, "Syntax Error"),
    "unknown field": ({"query": "{ concepts { nope } }"}, "Cannot query field"),
    "wrong variable type": ({"query": "query($n: Int!) { concepts(first: $n) { totalCount } }",
                             "variables": {"n": "many"}}, "Int cannot represent"),
    "missing variable": ({"query": "query($id: ID!) { concept(id: $id) { name } }"}, "to be provided"),
    "depth bomb": ({"query": DEEP}, "exceeds maximum operation depth"),
    "alias flood": ({"query": ALIASES}, "aliases"),
    "token flood": ({"query": TOKENS}, "token"),
    "fragment cycle": ({"query": FRAGMENT_CYCLE}, "Cannot spread fragment"),
    "huge page": ({"query": "{ concepts(first: 100000) { totalCount } }"}, "PAGE_SIZE"),
    "huge neighbourhood": ({"query": '{ neighbourhood(id: "link-worker/concept/holding", limit: 100000) { truncated } }'},
                           "PAGE_SIZE"),
    "write without token": ({"query": 'mutation { addEvidenceQuote(claim: "link-worker/reflection/stayed-to-share", '
                                      'quote: {text: "cake"}) { id } }'}, "UNAUTHENTICATED"),
    "write to a non-claim": ({"query": 'mutation { addEvidenceQuote(claim: "link-worker/person/debra-westlake", '
                                       'quote: {text: "cake"}) { id } }'}, "UNAUTHENTICATED"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
async def test_bad_graphql_requests_are_refused_quickly_and_change_nothing(
        http: httpx.AsyncClient, store: Store, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    body, words = BAD_REQUESTS[name]
    before = await fingerprint(store)
    started = time.perf_counter()
    if isinstance(body, str):
        r = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    else:
        r = await http.post("/graphql", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    assert r.status_code in (200, 400), r.text
    assert r.status_code == 400 or r.json().get("errors"), r.text
    assert words in r.text, r.text
    assert "Traceback" not in r.text and "internal error" not in r.text
    assert (await http.get("/healthz")).status_code == 200
    assert await fingerprint(store) == before
    with capsys.disabled():
        print(f"\n  refused {name!r} in {elapsed:.1f} ms", end="")


async def test_request_bodies_over_the_limit_get_413(http: httpx.AsyncClient) -> None:
    big = {"query": "{ concepts { totalCount } }", "variables": {"x": "a" * 2_000_000}}
    r = await http.post("/graphql", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(40):
            yield b"x" * 65536

    r = await http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_cors_is_closed_by_default(http: httpx.AsyncClient) -> None:
    pre = await http.options("/graphql", headers={"Origin": "https://evil.example",
                                                  "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    r = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


async def test_cors_opens_only_to_configured_origins(store: Store) -> None:
    app = create_app(Settings(load_bundled_study=False, cors_origins=["https://ok.example"]), store=store)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        ok = await c.options("/graphql", headers={"Origin": "https://ok.example", "Access-Control-Request-Method": "POST"})
        bad = await c.options("/graphql", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "https://ok.example"
    assert "access-control-allow-origin" not in bad.headers


async def test_tokens_are_never_logged(http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for token in (TOKEN, "wrong-" + TOKEN):
        r = await http.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
            "query": 'mutation { addEvidenceQuote(claim: "link-worker/reflection/stayed-to-share", '
                     'quote: {text: "nowhere in the text"}) { id } }'})
        assert r.json().get("errors")
    assert TOKEN not in caplog.text and TOKEN not in str(r.headers)
