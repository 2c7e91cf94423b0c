"""The least a Python HTTP server can do for an example's answer: an ASGI app of a few lines that runs
the example's hand-written statement (``bench/baselines.py``) through the store's client and writes
its rows as JSON; no framework, no GraphQL. ``bench.compiled`` serves it with ``uvicorn`` beside the
API, the same way, so that the two over HTTP differ only by what the API does.

    uvicorn bench.floor_app:app   (the store from the environment, as ``kxgraph serve --workers``)
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

from bench.baselines import BASELINES  # noqa: E402

_store: Any = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _store
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                from kxgraph.graph import create_store
                from kxgraph.settings import Settings

                _store = create_store(Settings(), attach=True)
                await _store.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    asked = json.loads(body)
    rows = await asyncio.gather(*(_store.read(s, asked["variables"]) for s in BASELINES[asked["name"]]))
    answer = json.dumps({"data": rows}, default=str).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]})
    await send({"type": "http.response.body", "body": answer})
