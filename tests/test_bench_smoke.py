"""A tiny run of the scale benchmarks (``python -m bench``): it must run end to end on a real
embedded store, give every figure, and refresh the table of a copy of BENCHMARKS.md without
touching the rest of the file. The figures themselves are not judged here (see BENCHMARKS.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.__main__ import MARK_END, MARK_START, parse_scale, targets
from bench.scale import waves
from tests.helpers import ROOT


def test_scales_are_read_as_numbers_of_quotes() -> None:
    assert [parse_scale(s) for s in ("1k", "10k", "100K", "1M", "300", "2.5k")] == [
        1_000, 10_000, 100_000, 1_000_000, 300, 2_500]


def test_calls_in_flight_together_replay_together() -> None:
    # (method, args, sent, answered, rows): b and c overlap a; d starts after all ended
    calls = [("read", ("a",), 0.0, 1.0, []), ("read", ("b",), 0.5, 2.0, []), ("read", ("c",), 1.5, 1.8, []),
             ("read", ("d",), 2.5, 3.0, [])]
    assert waves(calls) == [[0, 1, 2], [3]]  # type: ignore[arg-type]


def test_targets_compare_the_largest_scale_with_10k() -> None:
    def run(quotes: int, trace_p95: float, ratio: float, errors: int) -> dict[str, object]:
        return {"backend": "falkordb", "quotes_asked": quotes,
                "queries": [{"query": "1-trace-concept", "graphql": {"p95_ms": trace_p95}, "ratio_median": ratio}],
                "load": {"ratio_end_to_end_to_raw": 0.2}, "serving": {"wrk": {"errors": errors}}}

    t = targets([run(1_000, 9.0, 1.2, 0), run(10_000, 10.0, 1.4, 0), run(1_000_000, 25.0, 1.3, 2)])["falkordb"]
    assert t["trace_p95_largest_over_10k"] == 2.5 and t["trace_met"] is False
    assert t["graphql_over_cypher_worst_median"] == 1.4 and t["graphql_met"] is True
    assert t["load_met"] is False and t["serving_errors"] == 2 and t["errors_met"] is False


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_tiny_run_gives_every_figure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    markdown = tmp_path / "BENCHMARKS.md"
    shutil.copy(ROOT / "BENCHMARKS.md", markdown)
    before = markdown.read_text(encoding="utf-8")
    out = tmp_path / "results.json"
    seconds = "2" if shutil.which("wrk") else "0"
    work = Path(tempfile.mkdtemp(prefix="kxb-"))  # short: the store's Unix socket lives below it
    done = subprocess.run([sys.executable, "-m", "bench", "--scales", "300", "--runs", "2", "--seconds", seconds,
                           "--json", str(out), "--markdown", str(markdown), "--work", str(work),
                           "--backend", "falkordb"],
                          cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    (run,) = results["runs"]
    load = run["load"]
    assert load["quotes"] >= 300 + 44  # the synthetic study and the bundled one
    assert load["end_to_end_quotes_per_s"] > 0 and load["raw_merge_quotes_per_s"] > 0
    assert 0 < load["ratio_end_to_end_to_raw"] == pytest.approx(
        load["end_to_end_quotes_per_s"] / load["raw_merge_quotes_per_s"], rel=0.01)
    assert set(load["stages_s"]) == {"reading", "validating", "projecting", "writing"}
    names = [q["query"] for q in run["queries"]]
    assert names == sorted(p.stem for p in (ROOT / "examples" / "queries").glob("*.graphql"))
    for q in run["queries"]:
        assert q["graphql"]["median_ms"] > 0 and q["cypher"]["median_ms"] > 0
        assert 1 <= q["waves"] <= q["round_trips"] and q["rows"] > 0
    serving = run["serving"]
    assert serving["api_rss"]["peak_mb"] > 0 and serving["store_rss"]["peak_mb"] > 0
    if seconds != "0":
        assert serving["wrk"]["requests"] > 0 and serving["wrk"]["errors"] == 0
    text = markdown.read_text(encoding="utf-8")
    head, tail = before.split(MARK_START)[0], before.split(MARK_END)[1]
    assert text.startswith(head) and text.endswith(tail)  # only the table changed
    assert "| falkordb | 300 | 1-trace-concept |" in text
    assert not (work / "studies-300").exists()  # the benchmark cleans up after itself
    shutil.rmtree(work, ignore_errors=True)


def test_kxgraph_bench_runs_the_benchmarks_of_the_checkout() -> None:
    done = subprocess.run([sys.executable, "-m", "kxgraph", "bench", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "--scales" in done.stdout and "1k,10k,100k,1M" in done.stdout


@pytest.mark.anyio
async def test_the_hand_written_baselines_give_the_apis_answer() -> None:
    """bench.compiled compares the API with hand-written statements: they must answer the same."""
    from bench.baselines import BASELINES
    from bench.compiled import measure

    result = await measure(quotes=0, runs=1)
    assert sorted(r["query"] for r in result["examples"]) == sorted(BASELINES)
    assert all(r["same_answer"] for r in result["examples"]), result["examples"]
    # the layers of a compiled request: its own statements (one per question), execute, ASGI, and a
    # request that reads nothing
    assert all(r["layers"]["statements_sent"] == 1
               and {"compiled_statement", "execute", "asgi", "empty_request"} <= r["layers"].keys()
               for r in result["examples"]), result["examples"]
    # over real HTTP (the API's answer, checked in same_answer) and the statement served the same way
    assert all(r["http"]["median_ms"] > 0 and r["floor"]["median_ms"] > 0 for r in result["examples"])
