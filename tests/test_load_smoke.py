"""A short version of the load run (bench/load.py): 32 concurrent clients for a few seconds on
127.0.0.1 against a real `kxgraph serve`, every answer correct, zero errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.common import examples
from tests.serve import Server

CLIENTS = 32
SECONDS = 4.0


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server().start()
    yield srv
    srv.stop()


@pytest.mark.slow
def test_32_clients_get_answers_and_no_errors(server: Server) -> None:
    bodies = [{"query": q, "variables": v} for _, q, v in examples()]
    results: list[tuple[int, bool]] = []

    async def client(i: int) -> None:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as c:
            deadline = time.monotonic() + SECONDS
            n = i
            while time.monotonic() < deadline:
                r = await c.post("/graphql", json=bodies[n % len(bodies)])
                results.append((r.status_code, bool(r.json().get("errors"))))
                n += 1

    async def main() -> None:
        await asyncio.gather(*(client(i) for i in range(CLIENTS)))

    asyncio.run(main())
    assert len(results) >= CLIENTS
    assert all(code == 200 and not errors for code, errors in results), \
        [r for r in results if r != (200, False)][:5]
    assert server.healthy()
