"""The API beside the best hand-written statement for the same answer (``bench/baselines.py``).

On one embedded store, or with ``--neo4j`` the Neo4j of ``KXGRAPH_NEO4J_URI`` (the bundled study, plus
a synthetic study of ``--quotes`` quotes so that the graph has the size of a real project),
interleaved rounds time:
- ``statement``: the hand-written statements through the store client (sent together);
- ``compiled``: the GraphQL query over HTTP (in-process ASGI), compiled into one statement per root
  field (the default);
- ``resolvers``: the same query with ``compile_queries`` off (one statement per field and level).
Each answer is checked against the API's first.

``python -m bench.compiled [--quotes 10000] [--runs 200] [--neo4j] [--json F]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
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
from bench.common import examples, loaded_neo4j, loaded_store, percentile  # noqa: E402
from bench.generate import generate_study  # noqa: E402
from kxgraph.api.app import create_app  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402
from kxgraph.settings import Settings  # noqa: E402


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
                    apps["resolvers"].router.lifespan_context(apps["resolvers"]):
                for name, query, variables in examples():
                    if name not in BASELINES:
                        continue
                    times: dict[str, list[float]] = {"statement": [], "compiled": [], "resolvers": []}
                    bodies: dict[str, Any] = {}

                    async def api(mode: str, q: str = query, v: dict[str, Any] = variables) -> Any:
                        r = await clients[mode].post("/graphql", json={"query": q, "variables": v})
                        body = r.json()
                        assert not body.get("errors"), body
                        return body

                    async def statement(n: str = name, v: dict[str, Any] = variables) -> Any:
                        return await asyncio.gather(*(store.read(s, v) for s in BASELINES[n]))

                    calls = {"statement": statement, "compiled": lambda: api("compiled"),
                             "resolvers": lambda: api("resolvers")}
                    for i in range(runs + 5):
                        for mode, call in calls.items():  # interleaved: the machine's noise hits all three
                            started = time.perf_counter()
                            bodies[mode] = await call()
                            if i >= 5:
                                times[mode].append((time.perf_counter() - started) * 1000)
                    row: dict[str, Any] = {"query": name}
                    for mode, ms in times.items():
                        row[mode] = {"median_ms": round(statistics.median(ms), 3),
                                     "p95_ms": round(percentile(ms, 0.95), 3)}
                    row["ratio_compiled"] = round(row["compiled"]["median_ms"] / row["statement"]["median_ms"], 2)
                    row["ratio_resolvers"] = round(row["resolvers"]["median_ms"] / row["statement"]["median_ms"], 2)
                    row["round_trips"] = {m: bodies[m]["extensions"]["roundTrips"] for m in ("compiled", "resolvers")}
                    row["answer_bytes"] = len(json.dumps(bodies["compiled"]["data"]))
                    row["same_answer"] = (bodies["compiled"]["data"] == bodies["resolvers"]["data"]
                                          and same_answer(name, bodies["compiled"]["data"], bodies["statement"]))
                    out["examples"].append(row)
            for c in clients.values():
                await c.aclose()
            return out


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
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
