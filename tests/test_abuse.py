"""Abuse and access over HTTP: malformed and abusive GraphQL refused with clear errors and the
graph unchanged, body size limits, CORS closed by default, tokens never logged."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kxgraph.api.app import create_app
from kxgraph.graph.store import Store
from kxgraph.settings import Settings
from tests.helpers import fingerprint

pytestmark = pytest.mark.anyio
TOKEN = "tok-" + "s3cr3t" * 4


@pytest.fixture
async def http(bundled: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(load_bundled_study=False, api_tokens=f"alice:{TOKEN}"), store=bundled)  # type: ignore[arg-type]
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


@pytest.mark.sweep(neo4j=4)
@pytest.mark.parametrize("name", list(BAD_REQUESTS))
async def test_bad_graphql_requests_are_refused_quickly_and_change_nothing(
        http: httpx.AsyncClient, bundled: Store, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    body, words = BAD_REQUESTS[name]
    before = await fingerprint(bundled)
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
    assert await fingerprint(bundled) == before
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


# --- round two: one request cannot stall the server ------------------------------------------------
def fan_out(spreads: int, levels: int, on: str = "Query", leaf: str = "__typename", top: str = "{ ...F0 }") -> str:
    """Fragments each spreading the next one ``spreads`` times, ``levels`` deep (6 x 12 stalled the
    server before: the depth limiter walked all 6^12 paths)."""
    parts = [f"query {top}"]
    parts += [f"fragment F{i} on {on} {{ " + " ".join([f"...F{i + 1}"] * spreads) + " }" for i in range(levels)]
    parts.append(f"fragment F{levels} on {on} {{ {leaf} }}")
    return "\n".join(parts)


def nested_fan(spreads: int, levels: int) -> str:
    """Fragments on Concept, each spreading the next ``spreads`` times inside a nested list."""
    parts = ['query { concepts(first: 100) { nodes { ...F0 } } }']
    parts += [f"fragment F{i} on Concept {{ id related {{ " + " ".join([f"...F{i + 1}"] * spreads) + " } }"
              for i in range(levels)]
    parts.append(f"fragment F{levels} on Concept {{ name }}")
    return "\n".join(parts)


CONCEPT_FAN = nested_fan(6, 12)
CONCEPT_COST = nested_fan(6, 5)
ALIAS_FAN = ("query { a: concepts(first: 5) { nodes { ...A } } b: concepts(first: 5) { nodes { ...A } } "
             "c: concepts(first: 5) { nodes { ...A } } } fragment A on Concept { " +
             " ".join(f"x{i}: name" for i in range(12)) + " }")
WIDE_LISTS = ("{ " + " ".join(f"c{i}: concepts(first: 100) {{ nodes {{ discussionPoints {{ evidence {{ exact }} }} }} }}"
                              for i in range(3)) + " }")
ATTACKS: dict[str, tuple[str, str | None]] = {
    "fragment fan-out 6 x 12": (fan_out(6, 12), None),         # cheap once measured right: answered
    "fragment fan-out 4 x 10": (fan_out(4, 10), None),
    "fragment fan-out 12 x 20": (fan_out(12, 20), None),
    "fan-out through nested lists": (CONCEPT_FAN, "DEPTH"),
    "fan-out through five nested lists": (CONCEPT_COST, "COST"),
    "aliases multiplied by fragments": (ALIAS_FAN, "ALIASES"),
    "lists inside lists": (WIDE_LISTS, "COST"),
}


@pytest.mark.sweep(neo4j=3)
@pytest.mark.parametrize("name", list(ATTACKS))
async def test_a_costly_query_is_measured_in_linear_time_and_refused_or_answered(
        http: httpx.AsyncClient, bundled: Store, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    query, code = ATTACKS[name]
    before = await fingerprint(bundled)
    started = time.perf_counter()
    r = await http.post("/graphql", json={"query": query})
    elapsed = time.perf_counter() - started
    assert r.status_code in (200, 400), r.text
    body = r.json()
    if code is None:
        assert not body.get("errors") and body["data"] == {"__typename": "Query"}, body
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
    assert await fingerprint(bundled) == before
    with capsys.disabled():
        print(f"\n  {name!r}: {'refused ' + code if code else 'answered'} in {elapsed * 1000:.1f} ms", end="")


async def test_a_request_over_its_time_budget_is_stopped(bundled: Store) -> None:
    app = create_app(Settings(load_bundled_study=False, request_timeout_s=0.0001), store=bundled)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.post("/graphql", json={"query": '{ concept(id: "link-worker/concept/holding") '
                                                    '{ discussionPoints { evidence { exact } } } }'})
    assert "errors" in r.json() and r.json()["errors"][0]["extensions"]["code"] == "TIMEOUT", r.text
    # the store still answers, the loaders of the stopped request end cleanly (they once set the
    # answers of futures the budget had cancelled), and no connection is left to the collector
    await bundled.read("RETURN 1 AS one")
    await asyncio.sleep(0.2)
    gc.collect()


@pytest.mark.slow  # a load run, like the 32-client one (make test-slow)
def test_healthz_answers_throughout_an_attack_on_a_real_server() -> None:
    """Against ``kxgraph serve`` itself: clients keep sending the costliest documents while
    /healthz is asked every 50 ms; it never takes more than a second."""
    import threading

    from tests.serve import Server

    srv = Server().start()
    stop = threading.Event()
    attack_times: list[float] = []

    def attack() -> None:
        with httpx.Client(base_url=srv.base, timeout=30) as c:
            while not stop.is_set():
                for query, _ in ATTACKS.values():
                    started = time.perf_counter()
                    c.post("/graphql", json={"query": query})
                    attack_times.append(time.perf_counter() - started)

    attackers = [threading.Thread(target=attack) for _ in range(4)]
    try:
        for t in attackers:
            t.start()
        health: list[float] = []
        with httpx.Client(base_url=srv.base, timeout=10) as c:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                started = time.perf_counter()
                assert c.get("/healthz").status_code == 200
                health.append(time.perf_counter() - started)
                time.sleep(0.05)
    finally:
        stop.set()
        for t in attackers:
            t.join()
        srv.stop()
    assert max(health) < 1.0, f"/healthz took up to {max(health):.2f} s during the attack"
    assert len(attack_times) >= 20 and max(attack_times) < 5, (len(attack_times), max(attack_times))


# --- round two: malformed input never gets a 5xx ---------------------------------------------------
MALFORMED: dict[str, tuple[str, str, bytes | None, str]] = {
    # name: (method, path, body, words of the error)
    "body not UTF-8": ("POST", "/graphql", b'{"query": "\xff\xfe"}', "not valid UTF-8"),
    "body nested 100,000 deep": ("POST", "/graphql", b"[" * 100_000 + b"]" * 100_000, "nests deeper than 64"),
    "object nested 1,000 deep": ("POST", "/graphql", b'{"a":' * 1000 + b"1" + b"}" * 1000, "nests deeper than 64"),
    "NUL in a search": ("GET", "/search?q=%00", None, "control character"),
    "NUL in a study": ("GET", "/matrix?study=a%00", None, "control character"),
    "NUL in a path": ("GET", "/stakeholder/a%00b", None, "control character"),
    "other control characters": ("GET", "/search?q=a%01b%1f%7f", None, "control character"),
    "not UTF-8 in a parameter": ("GET", "/search?q=%ff%fe", None, "not valid UTF-8"),
    "not UTF-8 in a path": ("GET", "/concept/%c3%28", None, "not valid UTF-8"),
}


@pytest.mark.sweep(neo4j=3)
@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_requests_get_a_400_in_the_error_shape(http: httpx.AsyncClient, bundled: Store,
                                                               name: str) -> None:
    method, path, body, words = MALFORMED[name]
    before = await fingerprint(bundled)
    started = time.perf_counter()
    r = await http.request(method, path, content=body,
                           headers={"Content-Type": "application/json"} if body is not None else {})
    assert time.perf_counter() - started < 2.0
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.json()["error"]["code"] == "BAD_INPUT" and words in r.json()["error"]["message"], r.text
    assert await fingerprint(bundled) == before


@pytest.mark.parametrize("text", ["\u0001\u001f", "\u007f", "a\u0085b", "\u2028", "\t\r\n", "\u001b[31m"])
async def test_control_characters_in_full_text_never_reach_the_store_raw(http: httpx.AsyncClient, text: str) -> None:
    r = await http.post("/graphql", json={"query": "query($t: String!) { search(text: $t) { kind } }",
                                          "variables": {"t": text}})
    body = r.json()
    assert r.status_code == 200 and not body.get("errors"), body
    assert "errCtx" not in r.text and "CYPHER" not in r.text


@pytest.mark.parametrize(("query", "variables"), [
    ("query($t: String!) { search(text: $t) { kind } }", {"t": "\u0000"}),
    ("query($t: String!) { search(text: $t) { kind } }", {"t": "x\u0000" * 200}),
    ('query($s: String) { concepts(first: 2, filter: {study: $s}) { totalCount } }', {"s": "link\u0000worker"}),
    ('{ concept(id: "link-worker/concept/hol\\u0000ding") { name } }', {}),
    ('{ search(text: "\\u0000") { kind } }', {}),
])
async def test_nul_in_any_argument_is_the_same_clear_error_on_every_store(http: httpx.AsyncClient, query: str,
                                                                          variables: dict[str, Any]) -> None:
    r = await http.post("/graphql", json={"query": query, "variables": variables})
    body = r.json()
    assert body.get("errors") and "errCtx" not in r.text and "CYPHER" not in r.text, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_INPUT"], body


@pytest.mark.parametrize("limit", [-5, 0, 101, 10**9])
async def test_limits_are_validated(http: httpx.AsyncClient, limit: int) -> None:
    r = await http.post("/graphql", json={"query": f'{{ search(text: "holding", limit: {limit}) {{ kind }} }}'})
    assert r.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE", r.text


async def test_a_failed_request_is_one_log_line_without_its_text(http: httpx.AsyncClient,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    secret = "holding-is-a-secret-word"
    query = "{ " + " ".join(f"a{i}: concept(id: \"{secret}\") {{ nope{i} }}" for i in range(25)) + " }"
    caplog.set_level(logging.INFO)
    r = await http.post("/graphql", json={"query": query, "variables": {"evidence": secret}},
                        headers={"X-Request-ID": "probe-42"})
    assert r.json().get("errors") and r.headers["x-request-id"] == "probe-42"
    ours = [rec for rec in caplog.records if rec.name.startswith("kxgraph")]
    assert len(ours) == 1, [rec.getMessage() for rec in ours]
    line = ours[0].getMessage()
    assert "probe-42" in line and "GRAPHQL" in line and " ms" in line, line
    assert not [rec for rec in ours if secret in rec.getMessage() or "nope" in rec.getMessage()]
    r = await http.get(f"/search?q={secret}%00")
    assert r.status_code == 400
    assert not [rec for rec in caplog.records if rec.name.startswith("kxgraph") and secret in rec.getMessage()]


async def test_production_mode_names_no_fields_and_serves_no_docs(store: Store) -> None:
    app = create_app(Settings(load_bundled_study=False, production=True), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        for _ in range(2):  # the second time from the validation cache (``extensions.ValidatedOnce``)
            r = await c.post("/graphql", json={"query": "{ concepts(first: 1) { nodes { nam } } }"})
            assert r.json()["errors"] and "Did you mean" not in r.text, r.text
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert (await c.get(path)).status_code == 404, path
    app = create_app(Settings(load_bundled_study=False), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        for _ in range(2):  # the same query text, validated by this schema: its own errors, kept
            assert "Did you mean" in (await c.post("/graphql", json={"query": "{ concepts(first: 1) { nodes { nam } } }"})).text
        assert (await c.get("/docs")).status_code == 404  # FastAPI's pages load a CDN: never served
