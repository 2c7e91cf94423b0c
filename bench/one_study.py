"""One study of ``--quotes`` evidence quotes (``bench.generate``), loaded into an empty embedded
FalkorDB as ``kxgraph load`` loads it (``pipeline.load``): how long, and the loader's peak memory (the
process's high-water RSS, the store's server apart). The 1M figure of issue 18 ("a 1M-quote study
loads", "loader peak at 1M") is this run.

    python -m bench.one_study --quotes 1000000 [--json F]
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


async def measure(quotes: int) -> dict[str, Any]:
    from kxgraph.graph import create_store
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
            stored = (await store.read("MATCH (q:EvidenceQuote) RETURN count(q) AS n"))[0]["n"]
        finally:
            await store.close()
    return {"date": time.strftime("%Y-%m-%d"), "quotes": report.quotes, "quotes_in_store": stored,
            "nodes": report.nodes, "relationships": report.relationships, "load_s": round(seconds, 1),
            "peak_rss_mb": _rss_mb(), "rss_before_load_mb": before,
            "stages": [{"at_s": at, "stage": what, "peak_rss_mb_so_far": mb} for at, what, mb in stages]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = asyncio.run(measure(args.quotes))
    print(f"{result['quotes']} quotes ({result['quotes_in_store']} in the store) in {result['load_s']} s; "
          f"loader peak {result['peak_rss_mb']} MB")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
