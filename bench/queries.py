"""Latency of each example GraphQL query (in-process, ASGI) on a loaded study: median and p95 over
repeated runs, and the store round trips each takes."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path
from typing import Any

import httpx

from bench.common import examples, loaded_store, percentile, timed
from kxgraph.api.app import create_app
from kxgraph.settings import Settings


async def measure(runs: int = 30, studies: list[Path] | None = None) -> list[dict[str, Any]]:
    async with loaded_store(studies) as store:
        app = create_app(Settings(load_bundled_study=False), store=store)
        results = []
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for name, query, variables in examples():
                async def post(q: str = query, v: dict[str, Any] = variables) -> dict[str, Any]:
                    body: dict[str, Any] = (await client.post("/graphql", json={"query": q, "variables": v})).json()
                    assert not body.get("errors"), body["errors"]
                    return body

                times, body = await timed(post, runs)  # warm-up runs left out
                results.append({"query": name, "median_ms": round(statistics.median(times), 2),
                                "p95_ms": round(percentile(times, 0.95), 2),
                                "round_trips": body["extensions"]["roundTrips"], "runs": runs})
        return results


def main() -> None:
    for row in asyncio.run(measure()):
        print(f"{row['query']:30} median {row['median_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms  "
              f"round trips {row['round_trips']}")


if __name__ == "__main__":
    main()
