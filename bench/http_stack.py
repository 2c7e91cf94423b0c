"""uvicorn's HTTP stack, A/B: the pure-Python one (h11 and asyncio's loop) beside the one in C
(httptools and uvloop, which kxgraph installs and uvicorn picks by itself), two servers of the API on
one store, interleaved with the hand-written statement of each question (``bench/baselines.py``).

    python -m bench.http_stack [--quotes 10000] [--runs 300] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.baselines import BASELINES  # noqa: E402
from bench.common import examples, interleaved, loaded_store  # noqa: E402
from bench.compiled import _served  # noqa: E402
from bench.generate import generate_study  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402

QUESTIONS = ("1-trace-concept", "2-stakeholder-consequences", "12-policymaker")


async def measure(quotes: int, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "quotes": quotes, "runs": runs, "examples": {}}
    with tempfile.TemporaryDirectory(prefix="kxh") as tmp:
        studies = [bundled_study_path(), generate_study(Path(tmp) / "syn", quotes, study_id="syn-compiled")]
        async with loaded_store(studies) as store, \
                _served(store, "--loop", "asyncio", "--http", "h11") as plain, \
                _served(store, "--loop", "uvloop", "--http", "httptools") as fast:
            for name, query, variables in examples():
                if name not in QUESTIONS:
                    continue
                body = json.dumps({"query": query, "variables": variables}).encode()
                statements = BASELINES[name]
                calls: dict[str, Callable[[], Awaitable[Any]]] = {
                    "statement": lambda s=statements, v=variables: asyncio.gather(*(store.read(t, v) for t in s)),
                    "h11_asyncio": lambda b=body: plain.post(b), "httptools_uvloop": lambda b=body: fast.post(b)}
                times, _ = await interleaved(calls, runs, warmup=10)
                median = {k: statistics.median(v) for k, v in times.items()}
                out["examples"][name] = {k: {"median_ms": round(m, 3), "ratio": round(m / median["statement"], 2)}
                                         for k, m in median.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = asyncio.run(measure(args.quotes, args.runs))
    for name, row in result["examples"].items():
        print(f"{name:28} " + "  ".join(f"{k} {v['median_ms']:.2f} ms ({v['ratio']}x)" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
