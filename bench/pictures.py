"""What a picture costs: time to build each picture of the bundled study on the server, and, in
headless Chromium, the time from page load to vis-network's first draw for pictures of 100, 1,000
and 5,000 nodes (laid out on the server past a few hundred)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import loaded_store
from kxgraph.api.graphql.execute import GraphQLRunner
from kxgraph.api.graphql.schema import build_schema
from kxgraph.api.viz.builders import build_picture
from kxgraph.api.viz.picture import Picture
from kxgraph.settings import Settings

CHROMIUM = "/usr/bin/chromium"
KINDS = [("concept-map", {}), ("consequence-map", {}),
         ("evidence-trail", {"focus": "link-worker/concept/holding"}),
         ("event-map", {"focus": "link-worker/event/exeter-event"}),
         ("neighbourhood", {"focus": "link-worker/concept/holding", "depth": 2})]


async def build_times(runs: int = 10) -> list[dict[str, Any]]:
    async with loaded_store() as store:
        settings = Settings()
        run = GraphQLRunner(build_schema(settings), store, settings)
        out = []
        for kind, kw in KINDS:
            times, nodes = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                pic = await build_picture(run, kind, **kw)
                pic.network_data()
                times.append((time.perf_counter() - started) * 1000)
                nodes = len(pic.nodes)
            out.append({"picture": kind, "nodes": nodes, "build_median_ms": round(statistics.median(times), 1)})
        return out


def synthetic(n: int) -> Picture:
    """A scale-free-ish graph with about twice as many edges as nodes (as in the design notes)."""
    import random

    rnd = random.Random(n)
    pic = Picture("neighbourhood", f"{n} nodes", focus="n0")
    kinds = ["Concept", "DiscussionPoint", "EvidenceQuote", "Stakeholder"]
    for i in range(n):
        pic.node(f"n{i}", kinds[i % 4], f"node {i}")
        if i:
            pic.edge(f"n{rnd.randrange(i)}", f"n{i}")
            pic.edge(f"n{rnd.randrange(i)}", f"n{i}")
    return pic


def draw_times(sizes: tuple[int, ...] = (100, 1000, 5000)) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    out = []
    with tempfile.TemporaryDirectory(prefix="kxd") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        for n in sizes:
            pic = synthetic(n)
            started = time.perf_counter()
            html = pic.standalone_html()
            build_ms = (time.perf_counter() - started) * 1000
            file = Path(tmp) / f"p{n}.html"
            file.write_text(html, encoding="utf-8")
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            page.goto(file.as_uri())
            page.wait_for_selector("#viz-main[data-drawn-ms]", timeout=300_000)
            wall_ms = (time.perf_counter() - started) * 1000
            drawn_ms = int(page.get_attribute("#viz-main", "data-drawn-ms") or 0)
            out.append({"nodes": n, "edges": len(pic.edges), "server_layout": n > 300,
                        "build_ms": round(build_ms, 1), "first_draw_ms": drawn_ms,
                        "load_to_draw_ms": round(wall_ms, 1)})
            page.close()
        browser.close()
    return out


def main() -> None:
    for row in asyncio.run(build_times()):
        print(f"build {row['picture']:16} {row['nodes']:4} nodes  median {row['build_median_ms']:7.1f} ms")
    for row in draw_times():
        print(f"draw {row['nodes']:5} nodes {row['edges']:5} edges  server layout {row['server_layout']!s:5}  "
              f"build {row['build_ms']:7.1f} ms  vis first draw {row['first_draw_ms']:6} ms  "
              f"page load to draw {row['load_to_draw_ms']:8.1f} ms")


if __name__ == "__main__":
    main()
