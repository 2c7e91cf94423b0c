"""Fixtures: real stores only. FalkorDB always (an embedded server in a temporary folder). Neo4j:
the server ``KXGRAPH_NEO4J_URI`` names (CI starts one with ``make neo4j``), otherwise a local Neo4j
5.26 started for the session (``tests/neo4j_local``: needs Java 17+ and Maven); where neither is
possible the Neo4j tests skip with the reason, except in CI, where that is a failure."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from kxgraph.graph.store import Store
from tests.helpers import BUNDLED, Neo4jTarget, backend_store, no_neo4j, shared_load


@pytest.fixture(scope="session")
def neo4j_target() -> Iterator[Neo4jTarget]:
    """The Neo4j the suite runs against (see the module's docstring). Its database is wiped by tests."""
    if os.environ.get("KXGRAPH_NEO4J_URI"):
        yield Neo4jTarget(uri=os.environ["KXGRAPH_NEO4J_URI"], user=os.environ.get("KXGRAPH_NEO4J_USER", "neo4j"),
                          password=os.environ.get("KXGRAPH_NEO4J_PASSWORD", ""),
                          database=os.environ.get("KXGRAPH_NEO4J_DATABASE", "neo4j"))
        return
    if _neo4j_switched_off():
        no_neo4j("KXGRAPH_TEST_NEO4J=off: the Neo4j tests are switched off")
    from tests.neo4j_local import LocalNeo4j, Neo4jUnavailable, missing_tools

    launched = os.environ.get(LAUNCHED_NEO4J)
    if launched:  # by the controller of this run on workers (pytest_configure below), which stops it
        server = LocalNeo4j.from_state(launched)
        try:
            server.wait_ready()
        except Neo4jUnavailable as exc:
            no_neo4j(f"the local Neo4j did not start: {exc}")
        yield Neo4jTarget(uri=server.uri, user=server.user, password=server.password, database="neo4j",
                          local=server)
        return
    reason = missing_tools()
    if reason:
        no_neo4j(f"KXGRAPH_NEO4J_URI is not set and the local Neo4j cannot start: {reason}")
    server = LocalNeo4j.create()
    try:
        server.start()
    except Neo4jUnavailable as exc:
        server.stop()
        no_neo4j(f"the local Neo4j did not start: {exc}")
    try:
        yield Neo4jTarget(uri=server.uri, user=server.user, password=server.password, database="neo4j",
                          local=server)
    finally:
        server.stop()


def _neo4j_switched_off() -> bool:
    return os.environ.get("KXGRAPH_TEST_NEO4J", "").lower() in {"0", "off", "false", "no"}


#: the local Neo4j the controller of a run on workers launched (``LocalNeo4j.state()``), for the
#: worker that runs the Neo4j tests
LAUNCHED_NEO4J = "KX_TEST_NEO4J_LAUNCHED"
_launched = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    """On workers (``make test``) with no ``KXGRAPH_NEO4J_URI``, the controller launches the local
    Neo4j as the run begins, so that its JVM starts while the workers start and collect rather than
    when the first Neo4j test asks for it; the ``neo4j_target`` fixture waits for it to answer."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    if os.environ.get("KXGRAPH_NEO4J_URI") or os.environ.get(LAUNCHED_NEO4J) or _neo4j_switched_off():
        return
    from tests.neo4j_local import LocalNeo4j, Neo4jUnavailable, missing_tools

    if missing_tools() is not None:
        return  # the fixture says why, on the worker
    server = LocalNeo4j.create()
    try:
        server.start(launch_only=True)
    except (Neo4jUnavailable, OSError, subprocess.SubprocessError):  # Maven, javac or java failed:
        server.stop()  # the fixture tries again on the worker and says why
        return
    config.stash[_launched] = server
    os.environ[LAUNCHED_NEO4J] = server.state()  # the workers, started after this, inherit it


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """No Neo4j test selected: the server the controller launched is stopped at once."""
    server = node.config.stash.get(_launched, None)
    if server is not None and not any(on_neo4j(i) for i in ids):
        server.stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_launched, None)
    if server is not None:
        os.environ.pop(LAUNCHED_NEO4J, None)
        server.stop()


# `make test` runs the suite on two workers (pytest-xdist). The Neo4j tests share one database, which
# they wipe, so they all run on one worker; the rest are spread over both. The scheduler sees a
# test's id, not its marks, so every test marked neo4j must say "neo4j" in its id (checked at
# collection); a test that says it without touching Neo4j only keeps the Neo4j tests company.
NEO4J_ID = re.compile(r"(?<![A-Za-z0-9])neo4j(?![A-Za-z0-9])")


def on_neo4j(nodeid: str) -> bool:
    return bool(NEO4J_ID.search(nodeid))


@pytest.hookimpl(tryfirst=True)  # before -m picks: the cases marked slow here leave make test
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unnamed = [i.nodeid for i in items if i.get_closest_marker("neo4j") and not on_neo4j(i.nodeid)]
    if unnamed:
        raise pytest.UsageError("a test marked neo4j must say neo4j in its id (tests/conftest.py, "
                                "NEO4J_ID): " + ", ".join(unnamed))
    sample_sweeps_on_neo4j(items)


def sample_sweeps_on_neo4j(items: list[pytest.Item]) -> None:
    """A test marked ``sweep(neo4j=N)`` runs many cases (bad files, bad requests, pages...) on both
    stores. On FalkorDB every case runs in ``make test``; on Neo4j, N cases spread evenly over them
    (its first and its last among them), and the rest are marked slow: ``make test-slow``, which CI
    runs, gives Neo4j every case. The local loop pays for each Neo4j case on the one worker that
    holds them all; a sample still runs each such test's path through Neo4j there."""
    sweeps: dict[tuple[str, str], list[pytest.Item]] = {}
    for item in items:
        marker = item.get_closest_marker("sweep")
        if marker is not None and item.get_closest_marker("neo4j") and not item.get_closest_marker("slow"):
            sweeps.setdefault((str(item.path), getattr(item, "originalname", item.name)), []).append(item)
    for cases in sweeps.values():
        keep = int(cases[0].get_closest_marker("sweep").kwargs["neo4j"])  # type: ignore[union-attr]
        if keep < 1:
            raise pytest.UsageError(f"{cases[0].nodeid}: sweep(neo4j=N) keeps at least one case on Neo4j")
        n = len(cases)
        kept = {round(i * (n - 1) / (keep - 1)) for i in range(keep)} if keep > 1 else {0}
        for index, item in enumerate(cases):
            if index not in kept:
                item.add_marker(pytest.mark.slow)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class Neo4jOnOneWorker(LoadScopeScheduling):  # type: ignore[misc]
        """Each test is its own unit, except the Neo4j tests: one unit, on one worker."""

        def _split_scope(self, nodeid: str) -> str:
            return "neo4j" if on_neo4j(nodeid) else nodeid

    return Neo4jOnOneWorker(config, log)


@pytest.fixture(autouse=True)
def remembered_vectors(request: pytest.FixtureRequest) -> Iterator[None]:
    """The meaning model gives a batch of texts the same vectors every time, so the suite's process
    remembers each batch's vectors from the first test that asked for them: a test that loads the
    bundled study again (most do, on both stores) no longer runs the model over the same ~70 texts
    each time — a sixth of the suite's time. The vectors are the model's own for that very batch
    (a text's vector depends a little on the batch it is in); the load still asks for exactly the
    texts the store lacks (``embedding.embed`` is called as before). A test marked ``model`` runs
    the model itself."""
    from kxgraph.loaders import embedding

    if request.node.get_closest_marker("model"):
        yield
        return
    real = embedding._Model.vectors

    def vectors(self: Any, texts: list[str]) -> Any:
        memo = self.__dict__.setdefault("remembered", {})  # kept on the model: another model, other vectors
        key = tuple(texts)
        if key not in memo:
            memo[key] = real(self, texts)
        return memo[key].copy()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedding._Model, "vectors", vectors)
        yield


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFalkorDB]:
    """One real embedded FalkorDB for the session; each test gets its own graph on it."""
    server = EmbeddedFalkorDB(tmp_path_factory.mktemp("fdb"), appendfsync="everysec")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
async def store(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Store]:
    """A real, empty store of each available backend (Neo4j: the whole database is wiped)."""
    s = backend_store(request, f"t_{uuid.uuid4().hex[:10]}")
    await s.open()
    await s.drop_graph()
    try:
        yield s
    finally:
        await s.drop_graph()
        await s.close()


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
async def bundled(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Store]:
    """A real store of each backend holding the bundled study as a fresh load leaves it (loaded once
    and kept while no test changes it: ``tests.helpers.shared_load``)."""
    async with shared_load(request, [BUNDLED]) as s:
        yield s


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short path (Unix sockets allow ~104 bytes)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="kx"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
