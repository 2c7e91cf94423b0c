"""The API beside the best hand-written statement for the same answer (``bench/baselines.py``).

On one embedded store, or with ``--neo4j`` the Neo4j of ``KXGRAPH_NEO4J_URI`` (the bundled study, plus
a synthetic study of ``--quotes`` quotes so that the graph has the size of a real project),
interleaved rounds time:
- ``statement``: the hand-written statements through the store client (sent together);
- ``compiled``: the GraphQL query over HTTP (in-process ASGI), compiled into one statement per root
  field (the default);
- ``resolvers``: the same query with ``compile_queries`` off (one statement per field and level).
Each answer is checked against the API's first.

And where the compiled request's time goes, layer by layer (``layers`` in the JSON; not baselines):
- ``compiled_statement``: the statements the API sent for the query, replayed through the store
  client (the gap to ``statement`` is the shape of the compiled Cypher);
- ``execute``: the query through the schema in-process (parsing and validation cached, compiling,
  the store, shaping), with no HTTP;
- ``asgi``: the request through the whole app (middleware, guards, FastAPI, Strawberry's view,
  JSON), called as an ASGI server calls it, with no client;
- ``compiled`` (above) adds httpx's in-process client;
- ``http``: the same request over a real HTTP connection (kept alive, loopback TCP) to ``uvicorn`` serving
  the app in a process of its own, attached to the same store, as ``kxgraph serve`` does, from a
  minimal client (bytes written, the reply read by its ``Content-Length`` and parsed with ``json``):
  what a program calling the API waits, without the cost of a Python HTTP library's objects;
- ``floor``: the hand-written statement served the same way by an ASGI app of a few lines
  (``bench/floor_app.py``): the least a Python server on this machine adds to the statement over HTTP
  (a second process and a loopback connection), so that ``http`` over ``floor`` is what the API adds;
- ``empty_request``: ``{ __typename }`` the same way, a request that reads nothing from the store: what
  any request costs in Python before its question (no ratio can be lower than this cost allows).

``python -m bench.compiled [--quotes 10000] [--runs 200] [--neo4j] [--json F]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.baselines import BASELINES, same_answer  # noqa: E402
from bench.common import examples, interleaved, loaded_neo4j, loaded_store, percentile  # noqa: E402
from bench.generate import generate_study  # noqa: E402
from kxgraph.api.app import create_app  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402
from kxgraph.settings import Settings  # noqa: E402
from tests.serve import free_port  # noqa: E402


async def measure(quotes: int, runs: int, neo4j: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kxc") as tmp:
        studies = [bundled_study_path()]
        if quotes:
            studies.append(generate_study(Path(tmp) / "syn", quotes, study_id="syn-compiled"))
        async with (loaded_neo4j if neo4j else loaded_store)(studies) as store:
            apps = {mode: create_app(Settings(load_bundled_study=False, compile_queries=(mode == "compiled")),
                                     store=store) for mode in ("compiled", "resolvers")}
            clients = {mode: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
                       for mode, app in apps.items()}
            out: dict[str, Any] = {"quotes": quotes, "runs": runs, "store": "neo4j" if neo4j else "falkordb",
                                   "examples": []}
            async with apps["compiled"].router.lifespan_context(apps["compiled"]), \
                    apps["resolvers"].router.lifespan_context(apps["resolvers"]), _served(store) as http, \
                    _served(store, app="bench.floor_app:app") as floor:
                for name, query, variables in examples():
                    if name not in BASELINES:
                        continue

                    async def api(mode: str, q: str = query, v: dict[str, Any] = variables) -> Any:
                        r = await clients[mode].post("/graphql", json={"query": q, "variables": v})
                        body = r.json()
                        assert not body.get("errors"), body
                        return body

                    async def statement(n: str = name, v: dict[str, Any] = variables) -> Any:
                        return await asyncio.gather(*(store.read(s, v) for s in BASELINES[n]))

                    layers = _Layers(apps["compiled"], store, query, variables)
                    floor_body = json.dumps({"name": name, "variables": variables}).encode()
                    sent = await layers.statements()
                    calls = {"statement": statement, "compiled": lambda: api("compiled"),
                             "resolvers": lambda: api("resolvers"),
                             "compiled_statement": lambda s=sent: asyncio.gather(*(store.read(t, p) for t, p in s)),
                             "execute": layers.execute, "asgi": layers.asgi,
                             "http": lambda lay=layers: http.post(lay.body),
                             "floor": lambda b=floor_body: floor.post(b),
                             "empty_request": lambda: api("compiled", "{ __typename }", {})}
                    times, bodies = await interleaved(calls, runs)
                    row: dict[str, Any] = {"query": name, "layers": {}}
                    for mode, ms in times.items():
                        figures = {"median_ms": round(statistics.median(ms), 3),
                                   "p95_ms": round(percentile(ms, 0.95), 3)}
                        if mode in ("compiled_statement", "execute", "asgi", "empty_request"):
                            row["layers"][mode] = figures
                        else:
                            row[mode] = figures
                    row["layers"]["statements_sent"] = len(sent)
                    row["ratio_compiled"] = round(row["compiled"]["median_ms"] / row["statement"]["median_ms"], 2)
                    row["ratio_http"] = round(row["http"]["median_ms"] / row["statement"]["median_ms"], 2)
                    row["ratio_floor"] = round(row["floor"]["median_ms"] / row["statement"]["median_ms"], 2)
                    row["ratio_http_to_floor"] = round(row["http"]["median_ms"] / row["floor"]["median_ms"], 2)
                    row["ratio_resolvers"] = round(row["resolvers"]["median_ms"] / row["statement"]["median_ms"], 2)
                    row["round_trips"] = {m: bodies[m]["extensions"]["roundTrips"] for m in ("compiled", "resolvers")}
                    row["answer_bytes"] = len(json.dumps(bodies["compiled"]["data"]))
                    row["same_answer"] = (bodies["compiled"]["data"] == bodies["resolvers"]["data"]
                                          and bodies["http"]["data"] == bodies["compiled"]["data"]
                                          and same_answer(name, bodies["compiled"]["data"], bodies["statement"]))
                    out["examples"].append(row)
            for c in clients.values():
                await c.aclose()
            return out


class _Client:
    """One kept-alive HTTP/1.1 connection, a request's bytes written as they are, the reply read by
    its ``Content-Length``: the least a program can do to ask the API over HTTP."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(b"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        answer = json.loads(await self.reader.readexactly(length))
        assert status == b"200" and not answer.get("errors"), (status, answer)
        return answer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@contextlib.asynccontextmanager
async def _served(store: Any, *options: str, app: str = "kxgraph.api.workers:worker_app") -> Any:
    """``uvicorn`` serving the app in a process of its own, attached to ``store`` (one worker of
    ``kxgraph serve --workers``), and a client of it."""
    port = free_port()
    env = {**os.environ, "KXGRAPH_LOAD_BUNDLED_STUDY": "false", "KXGRAPH_BACKEND": store.backend}
    if store.backend == "falkordb":
        env.update(KXGRAPH_DATA_DIR=str(store.data_dir), KXGRAPH_GRAPH_NAME=store.graph_name)
    factory = ["--factory"] if app.endswith("worker_app") else []
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", app, *factory,
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--no-access-log", *options], env=env, cwd=ROOT)
    client = _Client(port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                await client.post(b'{"query": "{ __typename }", "name": "1-trace-concept", '
                                  b'"variables": {"id": "none"}}')
                break
            except (OSError, asyncio.IncompleteReadError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the API did not start on port {port}") from None
                client.writer = None
                await asyncio.sleep(0.2)
        yield client
    finally:
        await client.close()
        proc.terminate()
        proc.wait(timeout=30)


class _Layers:
    """The compiled request, each layer on its own (see the module's docstring)."""

    def __init__(self, app: Any, store: Any, query: str, variables: dict[str, Any]) -> None:
        self.app, self.store, self.query, self.variables = app, store, query, variables
        self.body = json.dumps({"query": query, "variables": variables}).encode()

    async def execute(self) -> Any:
        """The query through the app's schema in-process (``GraphQLRunner``: raises on an error)."""
        return await self.app.state.graphql_runner(self.query, self.variables)

    async def statements(self) -> list[tuple[str, Any]]:
        """The statements one execution of the query sends to the store."""
        sent: list[tuple[str, Any]] = []
        real = self.store.read

        async def spy(statement: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            sent.append((statement, params))
            return await real(statement, params, *args, **kwargs)

        self.store.read = spy
        try:
            await self.execute()
        finally:
            del self.store.read  # the instance attribute: the class's method again
        return sent

    async def asgi(self) -> list[dict[str, Any]]:
        request = [{"type": "http.request", "body": self.body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return request.pop(0) if request else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
                 "root_path": "", "client": ("127.0.0.1", 50000), "server": ("bench", 80), "state": {},
                 "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                             (b"content-length", str(len(self.body)).encode())]}
        await self.app(scope, receive, send)
        assert sent[0]["status"] == 200, sent[0]
        return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--neo4j", action="store_true", help="on the Neo4j of KXGRAPH_NEO4J_URI")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = asyncio.run(measure(args.quotes, args.runs, args.neo4j))
    result["date"] = time.strftime("%Y-%m-%d")
    for row in result["examples"]:
        print(f"{row['query']:28} statement {row['statement']['median_ms']:7.2f} ms  "
              f"compiled {row['compiled']['median_ms']:7.2f} ms ({row['ratio_compiled']}x, "
              f"{row['round_trips']['compiled']} trips)  resolvers {row['resolvers']['median_ms']:7.2f} ms "
              f"({row['ratio_resolvers']}x, {row['round_trips']['resolvers']} trips)  same answer {row['same_answer']}")
        print(f"{'':28} over HTTP (uvicorn, its own process) {row['http']['median_ms']:.2f} ms ({row['ratio_http']}x); "
              f"the statement served the same way {row['floor']['median_ms']:.2f} ms ({row['ratio_floor']}x): "
              f"the API {row['ratio_http_to_floor']}x that")
        lay = row["layers"]
        print(f"{'':28} layers: its own statements {lay['compiled_statement']['median_ms']:.2f} ms, "
              f"execute {lay['execute']['median_ms']:.2f} ms, ASGI {lay['asgi']['median_ms']:.2f} ms, "
              f"with the client {row['compiled']['median_ms']:.2f} ms; a request that reads nothing "
              f"{lay['empty_request']['median_ms']:.2f} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
