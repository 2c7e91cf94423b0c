"""The embedded store under real faults: crashes at start, during a load and during compaction,
two in a row, a full disk, a torn append-only file, a stale pid file whose number was reused, and a
write that arrives while a load copies the graph. Each test checks the graph (its fingerprint), how
many store processes run on the folder, and what the user is told."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate_study
from kxgraph.errors import NoSpaceError, StoreUnavailableError
from kxgraph.graph.falkordb_backend import FalkorStore
from kxgraph.graph.falkordb_server import AOF_DIR, STAGING_MARK, EmbeddedFalkorDB, aof_files
from kxgraph.loaders.pipeline import load
from tests.helpers import BUNDLED, fingerprint, redis_servers, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@asynccontextmanager
async def served(data: Path, **options: Any) -> AsyncIterator[tuple[EmbeddedFalkorDB, FalkorStore]]:
    """An embedded store of the test's own, owned and supervised in this process."""
    server = EmbeddedFalkorDB(data, appendfsync="always", **options)
    store = FalkorStore(graph_name="kxgraph", server=server)
    store.owns_server = True
    await store.open()
    try:
        yield server, store
    finally:
        await store.close()


def _kill(server: EmbeddedFalkorDB) -> int:
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


async def _until_healthy(store: FalkorStore, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await store.health()).ok:
        assert asyncio.get_running_loop().time() < deadline, (await store.health()).detail
        await asyncio.sleep(0.05)


async def _add_concepts(store: FalkorStore, prefix: str, n: int) -> list[str]:
    ids = [f"{prefix}{i}" for i in range(n)]
    for ident in ids:  # one acknowledged write each
        await store.execute("MERGE (c:Concept {id: $id}) SET c.study = 'acks'", {"id": ident})
    return ids


async def _acked_present(store: FalkorStore, ids: list[str]) -> bool:
    rows = await store.read("UNWIND $ids AS id MATCH (c:Concept {id: id}) RETURN count(c) AS n", {"ids": ids})
    return int(rows[0]["n"]) == len(ids)


async def test_two_crashes_in_a_row_one_during_the_restart(short_tmp: Path) -> None:
    async with served(short_tmp / "d") as (server, store):
        await load(store, [BUNDLED])
        acked = await _add_concepts(store, "a", 20)
        before = await fingerprint(store)
        first = _kill(server)
        # the second crash hits the restarted server as soon as it exists: during its start
        wait_until(lambda: server.pid not in (None, first), what="the first restart")
        second = _kill(server)
        wait_until(lambda: server.pid not in (None, first, second), what="the second restart")
        await _until_healthy(store)
        assert await fingerprint(store) == before
        assert await _acked_present(store, acked)
        assert redis_servers(short_tmp / "d") == 1
        wait_until(lambda: server.status().state == "ready", what="the store ready again")
        status = server.status()
        assert status.restarts >= 1, status
        assert "exited with code" in (status.last_exit or ""), status


async def test_a_crash_during_the_first_start_is_reported_and_leaves_no_process(short_tmp: Path) -> None:
    data = short_tmp / "d"
    async with served(data) as (_, store):
        big = generate_study(short_tmp / "big", quotes=3000, study_id="big")
        await load(store, [big])
    server = EmbeddedFalkorDB(data)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            server.start()
        except BaseException as exc:
            errors.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    wait_until(lambda: server.pid is not None, what="the server process", every=0.001)
    os.kill(server.pid, signal.SIGKILL)  # type: ignore[arg-type]
    starter.join(60)
    try:
        if errors:  # killed before it was ready: a clear error, nothing left running
            assert isinstance(errors[0], StoreUnavailableError), errors
            assert "exited" in str(errors[0]) or "stopped" in str(errors[0]), errors[0]
            assert redis_servers(data) == 0
        else:  # it was ready just before the kill: the supervisor brought it back
            wait_until(lambda: server.status().state == "ready" and server.status().restarts == 1,
                       what="the restart after the kill")
            assert redis_servers(data) == 1
    finally:
        server.stop()
    assert redis_servers(data) == 0


async def test_a_crash_during_a_load_leaves_the_graph_as_it_was(short_tmp: Path) -> None:
    big = generate_study(short_tmp / "big", quotes=6000, study_id="big")
    async with served(short_tmp / "d") as (server, store):
        await load(store, [BUNDLED])
        before = await fingerprint(store)
        loading = asyncio.create_task(load(store, [big]))
        await asyncio.to_thread(wait_until, lambda: _has_staging(server), 120, "the load writing its staging graph",
                                0.005)
        _kill(server)
        with pytest.raises(StoreUnavailableError) as caught:
            await loading
        assert "does not answer" in str(caught.value) or "restarted" in str(caught.value), caught.value
        await _until_healthy(store)
        assert await fingerprint(store) == before
        wait_until(lambda: not _has_staging(server), what="dropping the cut-off staging graph")
        assert redis_servers(short_tmp / "d") == 1
        report = await load(store, [big])  # and loading again works
        assert report.changed and "big" in report.studies


async def test_a_crash_as_a_new_graph_is_made_is_the_store_unavailable(short_tmp: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The window CI once hit during a load: a read of a graph that does not exist yet makes it with a
    write, and the store dies just then. The caller gets the project's error (a load says "does not
    answer"), never the client's own ``ConnectionError``."""
    from falkordb.asyncio.graph import AsyncGraph

    async with served(short_tmp / "d", max_restarts=0) as (server, store):  # restarts after a second
        real_query = AsyncGraph.query

        async def dying(self: AsyncGraph, q: str, *args: Any, **kwargs: Any) -> Any:
            if q == "RETURN 0":
                _kill(server)
                wait_until(lambda: not server.status().running, 10, "the kill landing")
            return await real_query(self, q, *args, **kwargs)

        monkeypatch.setattr(AsyncGraph, "query", dying)
        with pytest.raises(StoreUnavailableError, match="does not answer"):
            await store._run(store._graph("not-made-yet"), "MATCH (n) RETURN count(n) AS n", None,
                             read_only=True, timeout=None)
        monkeypatch.setattr(AsyncGraph, "query", real_query)
        await _until_healthy(store)


async def test_a_crash_during_compaction_loses_nothing(short_tmp: Path) -> None:
    async with served(short_tmp / "d") as (server, store):
        big = generate_study(short_tmp / "big", quotes=6000, study_id="big")
        await load(store, [BUNDLED, big])
        acked = await _add_concepts(store, "c", 30)
        before = await fingerprint(store)
        for _ in range(3):  # a rewrite takes milliseconds: try until the kill lands during one
            await store._redis("BGREWRITEAOF")
            info = await store._redis("INFO", "persistence")
            if int(info["aof_rewrite_in_progress"]):
                break
        _kill(server)
        await _until_healthy(store)
        assert await fingerprint(store) == before
        assert await _acked_present(store, acked)
        wait_until(lambda: redis_servers(short_tmp / "d") == 1, what="one store process (the rewrite child gone)")
        await store.compact()  # and compacting again works
        assert aof_files(short_tmp / "d")["aof_base_bytes"] > 0


async def test_loads_compact_the_append_only_file(short_tmp: Path) -> None:
    big = generate_study(short_tmp / "big", quotes=3000, study_id="big")
    async with served(short_tmp / "d") as (_, store):
        await load(store, [BUNDLED, big])
        once = aof_files(short_tmp / "d")
        for _ in range(5):
            await load(store, [BUNDLED, big], force=True)
        again = aof_files(short_tmp / "d")
        assert once["last_compacted"] is not None
        # the file follows the graph, not the number of loads (each load appends about its own size)
        assert again["aof_bytes"] < 1.5 * once["aof_bytes"], (once, again)
        health = await store.health()
        assert health.info["aof_bytes"] == again["aof_bytes"] and health.info["last_compacted"]


async def test_api_writes_are_compacted_by_the_supervisor(short_tmp: Path) -> None:
    """Writes that are no load (the API's) grow the file; past half its compacted size and 4 MB the
    supervisor compacts it within seconds, so a start after many writes stays short."""
    async with served(short_tmp / "d") as (_, store):
        await load(store, [BUNDLED])
        compacted = aof_files(short_tmp / "d")["last_compacted"]
        text = "w" * 4096
        for i in range(1300):  # about 5 MB of acknowledged writes
            await store.execute("CREATE (:Concept {id: $id, study: 'acks', text: $t})", {"id": f"w{i}", "t": text})
        grown = aof_files(short_tmp / "d")
        # the file has grown past 4 MB, or the supervisor has compacted it already (it looks every 5 s)
        assert grown["aof_bytes"] - grown["aof_base_bytes"] > 4 * 2**20 or grown["last_compacted"] != compacted, grown

        def compacted_again() -> bool:
            now = aof_files(short_tmp / "d")
            return now["aof_bytes"] - now["aof_base_bytes"] < 2**20 and now["last_compacted"] != compacted

        await asyncio.to_thread(wait_until, compacted_again, 30, "the supervisor's compaction")
        assert (await store.read("MATCH (c:Concept {study: 'acks'}) RETURN count(c) AS n"))[0]["n"] == 1300


async def _hold_a_lease(store: FalkorStore) -> None:
    """What a load writing its staging graph holds (the supervisor leaves the file alone then)."""
    await store._redis("SET", "kx:lease:kxgraph" + STAGING_MARK + "test", "1", "PX", "600000")


async def _write_bytes(store: FalkorStore, n: int, prefix: str) -> list[str]:
    text = "w" * 4096
    ids = [f"{prefix}{i}" for i in range(n // 4096 + 1)]
    for ident in ids:
        await store.execute("CREATE (:Concept {id: $id, study: 'acks', text: $t})", {"id": ident, "t": text})
    return ids


async def test_a_start_that_replayed_much_compacts_at_once(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads a crash cuts off never compact, and a load's lease keeps the supervisor off: the file
    grows. A restart that replayed more than half the snapshot compacts at once, so the next crash
    restarts from a snapshot, not from the whole history."""
    from kxgraph.graph import falkordb_server

    monkeypatch.setattr(falkordb_server, "COMPACT_MIN_BYTES", 256 * 1024)
    monkeypatch.setattr(falkordb_server, "COMPACT_HARD_GROWTH", 1000.0)
    data = short_tmp / "d"
    async with served(data) as (server, store):
        await load(store, [BUNDLED])
        await _hold_a_lease(store)
        ids = await _write_bytes(store, 1024 * 1024, "r")
        await asyncio.sleep(falkordb_server.HOUSEKEEPING_S + 1)
        before = aof_files(data)
        assert before["aof_bytes"] - before["aof_base_bytes"] > 1024 * 1024, before  # held off by the lease
        _kill(server)
        await _until_healthy(store)

        def compacted() -> bool:
            now = aof_files(data)
            return now["aof_bytes"] - now["aof_base_bytes"] < 128 * 1024 and now["last_compacted"] != before["last_compacted"]

        await asyncio.to_thread(wait_until, compacted, 30, "the compaction after the start")
        assert await _acked_present(store, ids)


async def test_writes_past_twice_the_snapshot_are_compacted_even_during_a_load(
        short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kxgraph.graph import falkordb_server

    monkeypatch.setattr(falkordb_server, "COMPACT_MIN_BYTES", 256 * 1024)
    data = short_tmp / "d"
    async with served(data) as (_, store):
        await load(store, [BUNDLED])
        start = aof_files(data)
        await _hold_a_lease(store)
        ids = await _write_bytes(store, max(3 * start["aof_base_bytes"], 1024 * 1024), "h")

        def compacted() -> bool:
            now = aof_files(data)
            return now["last_compacted"] != start["last_compacted"]

        await asyncio.to_thread(wait_until, compacted, 30, "the compaction past the hard limit")
        assert await _acked_present(store, ids)


async def test_a_torn_append_only_file_is_healed_and_said(short_tmp: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = short_tmp / "d"
    async with served(data) as (_, store):
        await load(store, [BUNDLED])
        kept = await _add_concepts(store, "k", 5)
        await store.execute("CREATE (:Concept {id: 'torn', study: 'acks', text: $t})", {"t": "x" * 500})
    incr = max((p for p in (data / AOF_DIR).iterdir() if ".incr." in p.name), key=lambda p: p.stat().st_mtime)
    size = incr.stat().st_size
    with open(incr, "r+b") as f:  # the last record loses its end, as in a crash mid-write
        f.truncate(size - 100)
    with caplog.at_level("WARNING", logger="kxgraph.graph.falkordb_server"):
        async with served(data) as (server, store):
            health = await store.health()
            assert health.ok, health.detail  # still healthy, and says what happened
            assert any("torn record" in w for w in health.info["warnings"]), health.info
            assert server.status().warnings and "no acknowledged write was" in server.status().warnings[0]
            assert await _acked_present(store, kept)
            assert not await store.read("MATCH (c:Concept {id: 'torn'}) RETURN c.id AS id")
            assert redis_servers(data) == 1
    said = [r for r in caplog.records if "torn record" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]  # once


async def test_a_stale_pid_file_of_a_reused_pid_kills_nothing(short_tmp: Path) -> None:
    data = short_tmp / "d"
    async with served(data) as (_, store):
        await load(store, [BUNDLED])
        before = await fingerprint(store)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        (data / "redis.pid").write_text(f"{bystander.pid}\n")  # the number now belongs to another process
        async with served(data) as (_, store):
            assert await fingerprint(store) == before
            assert bystander.poll() is None, "a process that is not our store was killed"
            assert redis_servers(data) == 1
    finally:
        bystander.kill()
        bystander.wait()


async def test_an_orphaned_store_is_stopped_before_a_new_one_starts(short_tmp: Path) -> None:
    """An owner that died on a system without PR_SET_PDEATHSIG (macOS) leaves its redis-server
    running; the next owner finds it by its pid file and stops it first: never two on one folder."""
    data = short_tmp / "d"
    first = EmbeddedFalkorDB(data)
    first.start()
    argv = list(first._argv)
    first.stop()
    orphan = subprocess.Popen(argv, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # nobody supervises it
    try:
        wait_until(lambda: (data / "redis.pid").is_file() and redis_servers(data) == 1, what="the orphan")
        async with served(data) as (server, store):
            assert server.pid != orphan.pid and (await store.health()).ok
            assert orphan.wait(timeout=30) is not None, "the orphan was not stopped"
            assert redis_servers(data) == 1
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()


async def test_writes_during_a_load_are_not_lost_nor_do_they_starve_it(short_tmp: Path) -> None:
    """A load keeps the other studies by copying the served graph; a write that lands on the
    served graph after the copy makes the load write its copy again, and its last attempt holds
    writes off (they are refused with a 503 to retry) so that a stream of writes cannot starve it."""
    big = generate_study(short_tmp / "big", quotes=4000, study_id="big")
    async with served(short_tmp / "d") as (server, store):
        await load(store, [BUNDLED])
        loading = asyncio.create_task(load(store, [big]))
        await asyncio.to_thread(wait_until, lambda: _has_staging(server), 120, "the load's staging graph", 0.005)
        acked: list[str] = []
        held: list[str] = []
        while not loading.done():  # a steady stream of writes for as long as the load runs
            ident = f"during{len(acked) + len(held)}"
            try:
                await store.execute("MERGE (c:Concept {id: $id}) SET c.study = 'acks'", {"id": ident})
                acked.append(ident)
            except StoreUnavailableError as exc:
                assert "a load is swapping in" in str(exc), exc
                held.append(ident)
            await asyncio.sleep(0.01)
        report = await loading
        assert report.changed and acked
        assert await _acked_present(store, acked), "a write acknowledged during the load was lost"
        refused = await store.read("UNWIND $ids AS id MATCH (c:Concept {id: id}) RETURN count(c) AS n", {"ids": held})
        assert refused[0]["n"] == 0, "a refused write was applied"
        assert (await store.read("MATCH (q:EvidenceQuote {study: 'big'}) RETURN count(q) AS n"))[0]["n"] > 4000


# --- a full disk ----------------------------------------------------------------------------------
@pytest.fixture
def small_disk(short_tmp: Path) -> Iterator[Path]:
    """A 24 MB file system of the test's own (tmpfs; needs root, as CI has)."""
    mount = short_tmp / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.truncate(0)
    free = shutil.disk_usage(disk).free
    with open(filler, "wb") as f:
        chunk = b"\0" * (1 << 20)
        remaining = max(0, free - leave)
        while remaining > 0:
            f.write(chunk[:remaining])
            remaining -= len(chunk)
    return filler


async def test_a_full_disk_is_named_changes_nothing_and_the_store_comes_back(small_disk: Path) -> None:
    data = small_disk / "d"
    big = generate_study(small_disk.parent / "big", quotes=20000, study_id="big")
    async with served(data) as (server, store):
        await load(store, [BUNDLED])
        acked = await _add_concepts(store, "f", 5)
        before = await fingerprint(store)
        # a load the disk cannot hold is refused before anything is written
        with pytest.raises(NoSpaceError) as refused:
            await load(store, [big])
        assert str(data) in str(refused.value) and "MB needed" in str(refused.value), refused.value
        assert await fingerprint(store) == before and (await store.health()).ok
        # the disk fills up under the store: its next write fails, and the error says why
        filler = _fill(small_disk, leave=64 * 1024)
        with pytest.raises(StoreUnavailableError) as full:
            for i in range(200):
                await store.execute("CREATE (:Concept {id: $id, study: 'acks', text: $t})",
                                    {"id": f"full{i}", "t": "y" * 4096})
        assert isinstance(full.value, NoSpaceError) and "no space left" in str(full.value), full.value
        wait_until(lambda: server.status().state == "waiting for disk space", what="the store waiting for space")
        health = await store.health()
        assert not health.ok and "no space left" in health.detail, health.detail
        assert redis_servers(data) == 0  # no crash loop meanwhile
        filler.unlink()  # space again: the store comes back by itself
        await _until_healthy(store)
        assert await _acked_present(store, acked)
        now = await fingerprint(store)
        assert [n for n in now[0] if not str(n["id"]).startswith("full")] == before[0]
        assert redis_servers(data) == 1


def _has_staging(server: EmbeddedFalkorDB) -> bool:
    import redis

    try:
        client = redis.Redis(unix_socket_path=str(server.socket_path), socket_timeout=5, decode_responses=True)
        try:
            return any(STAGING_MARK in g for g in client.execute_command("GRAPH.LIST"))
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False

