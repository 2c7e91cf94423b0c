"""One study of ``--quotes`` evidence quotes (``bench.generate``), loaded into an empty embedded
FalkorDB as ``kxgraph load`` loads it (``pipeline.load``): how long, and the loader's peak memory (the
process's high-water RSS, the store's server apart). The 1M figure of issue 18 ("a 1M-quote study
loads", "loader peak at 1M") is this run. Its tables are large, so it is loaded a batch at a time
(``loaders/streamed.py``); ``--whole`` reads it whole, as a smaller study is.

    python -m bench.one_study --quotes 1000000 [--whole] [--raw] [--neo4j] [--json F]

``--raw`` then times the store's own ``UNWIND … MERGE`` of the same rows into an empty store (the
load's baseline in issue 18: "load ≥ 50 % of the raw MERGE").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KB on Linux


async def measure(quotes: int, whole: bool = False, raw: bool = False, neo4j: bool = False) -> dict[str, Any]:
    from kxgraph.graph import create_store
    from kxgraph.loaders import streamed
    from kxgraph.loaders.pipeline import load
    from kxgraph.settings import Settings

    with tempfile.TemporaryDirectory(prefix="kx1") as tmp:
        study = Path(tmp) / "study"
        # written by another process: this one's high-water mark is the load's alone
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from bench.generate import "
                        f"generate_study; generate_study(Path({str(study)!r}), {quotes}, study_id='one')"],
                       cwd=ROOT, check=True)
        settings = Settings(data_dir=Path(tmp) / "data", backend="falkordb", falkordb_appendfsync="everysec",
                            load_bundled_study=False)
        threshold = streamed.STREAM_TABLE_BYTES
        if whole:
            streamed.STREAM_TABLE_BYTES = 1 << 62
        if neo4j:
            from bench.common import neo4j_from_env

            store = neo4j_from_env()
            await store.open()
            await store.drop_graph()
        else:
            store = create_store(settings)
            await store.open()
        stages: list[tuple[float, str, int]] = []
        before = _rss_mb()
        started = time.perf_counter()

        def say(message: str) -> None:
            stages.append((round(time.perf_counter() - started, 1), message, _rss_mb()))

        try:
            report = await load(store, [study / "study.yaml"], progress=say, meaning=False)
            seconds = time.perf_counter() - started
            peak = _rss_mb()
            stored = (await store.read("MATCH (q:EvidenceQuote) RETURN count(q) AS n"))[0]["n"]
        finally:
            streamed.STREAM_TABLE_BYTES = threshold
            if neo4j:
                await store.drop_graph()
            await store.close()
        raw_s = await _raw_merge(study, Path(tmp) / "raw") if raw else None
    return {"date": time.strftime("%Y-%m-%d"), "store": "neo4j" if neo4j else "falkordb",
            "read": "whole" if whole else "a batch at a time",
            "batches": sum(what.startswith("batch ") for _, what, _ in stages),
            "quotes": report.quotes, "quotes_in_store": stored,
            "nodes": report.nodes, "relationships": report.relationships, "load_s": round(seconds, 1),
            "peak_rss_mb": peak, "rss_before_load_mb": before,
            **({"raw_merge_s": round(raw_s, 1), "load_vs_raw": round(raw_s / seconds, 3)} if raw_s else {}),
            "stages": [{"at_s": at, "stage": what, "peak_rss_mb_so_far": mb} for at, what, mb in stages]}


async def _raw_merge(study: Path, data_dir: Path) -> float:
    """The store's own ``UNWIND … MERGE`` of the same rows (``bench.scale.raw_write``: the study read
    whole, then its projected rows written by plain statements into an empty store); seconds."""
    from bench.scale import raw_write
    from kxgraph.graph import create_store
    from kxgraph.graph.schema import default_schema
    from kxgraph.loaders.pipeline import prepare
    from kxgraph.settings import Settings

    prep = prepare([study / "study.yaml"])
    store = create_store(Settings(data_dir=data_dir, backend="falkordb", falkordb_appendfsync="everysec",
                                  load_bundled_study=False))
    await store.open()
    try:
        await store.ensure_schema(default_schema())
        return await raw_write(store, prep)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--whole", action="store_true", help="read the study whole, however large its tables")
    parser.add_argument("--raw", action="store_true",
                        help="then time the store's own UNWIND ... MERGE of the same rows (the study read whole)")
    parser.add_argument("--neo4j", action="store_true",
                        help="into the Neo4j of KXGRAPH_NEO4J_URI (wiped before and after)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.raw and args.neo4j:
        parser.error("--raw times the embedded FalkorDB only")
    result = asyncio.run(measure(args.quotes, args.whole, args.raw, args.neo4j))
    print(f"{result['quotes']} quotes ({result['quotes_in_store']} in the store) in {result['load_s']} s; "
          f"loader peak {result['peak_rss_mb']} MB"
          + (f"; raw MERGE {result['raw_merge_s']} s: the load at {result['load_vs_raw']:.0%} of it"
             if "raw_merge_s" in result else ""))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
