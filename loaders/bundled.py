"""The study the project ships (``data/studies/link-worker``), loaded into an empty graph at serve."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from kxgraph.graph import cypher
from kxgraph.graph.store import Store
from kxgraph.loaders.pipeline import LoadReport, load

__all__ = ["bundled_study_path", "load_bundled_if_empty"]

log = logging.getLogger(__name__)


def bundled_study_path() -> Path:
    return Path(str(resources.files("kxgraph.data") / "studies" / "link-worker"))


async def load_bundled_if_empty(store: Store, *, meaning: bool = True) -> LoadReport | None:
    if (await store.read(cypher.STUDY_IDS)):
        return None
    report = await load(store, [bundled_study_path()], meaning=meaning)
    log.info("loaded the bundled study: %d nodes, %d quotes", report.nodes, report.quotes)
    return report
