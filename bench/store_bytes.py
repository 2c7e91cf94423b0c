"""What each example question reads from the store beside the size of its answer (issue 18's "bytes
read from the store ≤ 2× the answer").

On the bundled study, embedded FalkorDB: each example is posted to the API (in-process ASGI, the
compiled path); the rows of every statement it sends are measured as UTF-8 JSON (the values the
client hands kxgraph, not the wire protocol's framing), beside the JSON of the answer's ``data``.

``python -m bench.store_bytes``
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.common import examples, loaded_store  # noqa: E402
from kxgraph.api.app import create_app  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402
from kxgraph.settings import Settings  # noqa: E402


def size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


async def measure() -> list[dict[str, Any]]:
    async with loaded_store([bundled_study_path()]) as store:
        app = create_app(Settings(load_bundled_study=False), store=store)
        read: list[int] = []
        original = store.read

        async def measured(statement: str, params: Any = None) -> Any:
            rows = await original(statement, params)
            read.append(size(rows))
            return rows

        out = []
        async with app.router.lifespan_context(app), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            store.read = measured  # type: ignore[method-assign]
            for name, query, variables in examples():
                read.clear()
                body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
                assert not body.get("errors"), body
                answer = size(body["data"])
                out.append({"query": name, "answer_bytes": answer, "read_bytes": sum(read), "statements": len(read),
                            "ratio": round(sum(read) / answer, 2)})
        return out


def main() -> None:
    for row in asyncio.run(measure()):
        print(f"{row['query']:28} answer {row['answer_bytes']:7} B   read {row['read_bytes']:7} B   "
              f"{row['ratio']:.2f}x   {row['statements']} statement(s)")


if __name__ == "__main__":
    main()
