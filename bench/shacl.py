"""SHACL validation of a generated study: the compiled checks the loader uses
(``loaders/shape_checks.py``) against pyshacl, the reference, on the same rdflib graph, interleaved
runs, the results compared (they must be equal). Reports the medians and their ratio, and the
loader's ``validate`` as it runs (compiled checks, messages made).

    python -m bench.shacl --quotes 10000 --runs 3 [--json bench/results/....json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(quotes: int, runs: int) -> dict[str, Any]:
    from bench.generate import generate_study
    from kxgraph.loaders.shacl import pyshacl_results, validate, validation_shapes
    from kxgraph.loaders.shape_checks import compiled_shapes
    from kxgraph.loaders.shape_checks import run as run_checks
    from kxgraph.loaders.sources import read_source
    from kxgraph.ontology.vocabulary import ontology_graph

    with tempfile.TemporaryDirectory() as tmp:
        data = read_source(generate_study(Path(tmp) / "study", quotes)).rdf()  # the quotes' triples too
    shapes = compiled_shapes(validation_shapes())
    assert shapes is not None
    times: dict[str, list[float]] = {"pyshacl": [], "compiled": [], "validate": []}
    same = True
    for _ in range(runs):
        started = time.perf_counter()
        reference = Counter(map(repr, pyshacl_results(data)))
        times["pyshacl"].append(time.perf_counter() - started)
        started = time.perf_counter()
        compiled = Counter(map(repr, run_checks(shapes, data, ontology_graph())))
        times["compiled"].append(time.perf_counter() - started)
        same = same and compiled == reference
        started = time.perf_counter()
        validate(data, file="study")
        times["validate"].append(time.perf_counter() - started)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {"quotes": quotes, "triples": len(data),
            "runs": runs, "median_s": {k: round(v, 3) for k, v in medians.items()},
            "pyshacl_over_compiled": round(medians["pyshacl"] / medians["compiled"], 2), "same_results": same,
            "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.quotes, args.runs)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
