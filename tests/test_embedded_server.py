"""The embedded FalkorDB: socket only, one owner per folder, survives kill -9, stops cleanly."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import redis

from kxgraph.errors import ConfigError, StoreLockedError, StoreUnavailableError
from kxgraph.graph import falkordb_server
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB, read_lock_owner


def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def client(server: EmbeddedFalkorDB) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.socket_path), socket_timeout=5, decode_responses=True)


def test_listens_on_a_private_unix_socket_only(short_tmp: Path) -> None:
    with EmbeddedFalkorDB(short_tmp / "d") as server:
        mode = stat.S_IMODE(os.stat(server.socket_path).st_mode)
        assert mode & 0o077 == 0, oct(mode)
        assert stat.S_IMODE(os.stat(short_tmp / "d").st_mode) == 0o700
        c = client(server)
        assert c.config_get("port")["port"] == "0"
        assert c.config_get("appendonly")["appendonly"] == "yes"
        assert "graph" in {m["name"] for m in c.module_list()}
        c.close()
    assert not server.socket_path.exists()


def test_a_second_owner_is_refused_with_a_clear_message(short_tmp: Path) -> None:
    with EmbeddedFalkorDB(short_tmp) as first:
        assert read_lock_owner(short_tmp) == os.getpid()
        second = EmbeddedFalkorDB(short_tmp)
        with pytest.raises(StoreLockedError, match="in use by process"):
            second.start()
        assert first.status().running
    # released on stop: a new owner can start
    with EmbeddedFalkorDB(short_tmp) as again:
        assert again.status().running


def test_a_socket_path_too_long_is_a_config_error(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    with pytest.raises(ConfigError, match="KXGRAPH_DATA_DIR"):
        EmbeddedFalkorDB(deep).start()


def test_kill_9_loses_no_acknowledged_write_and_the_server_comes_back(short_tmp: Path) -> None:
    with EmbeddedFalkorDB(short_tmp, appendfsync="always") as server:
        c = client(server)
        for i in range(50):
            c.execute_command("GRAPH.QUERY", "g", f"CREATE (:Concept {{id: 'c{i}'}})")
        first_pid = server.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        wait_for(lambda: server.pid not in (None, first_pid))
        wait_for(lambda: _answers(server))
        c = client(server)
        rows = c.execute_command("GRAPH.RO_QUERY", "g", "MATCH (n:Concept) RETURN count(n)")
        assert rows[1][0][0] == 50
        assert server.status().restarts == 1
        c.close()


def test_clean_stop_keeps_data_for_the_next_start(short_tmp: Path) -> None:
    with EmbeddedFalkorDB(short_tmp) as server:
        c = client(server)
        c.execute_command("GRAPH.QUERY", "g", "CREATE (:Concept {id: 'kept'})")
        c.close()
        pid = server.pid
    assert pid is not None
    wait_for(lambda: not _alive(pid))
    with EmbeddedFalkorDB(short_tmp) as server:
        rows = client(server).execute_command("GRAPH.RO_QUERY", "g", "MATCH (n) RETURN n.id")
        assert rows[1] == [["kept"]]


def _answers(server: EmbeddedFalkorDB) -> bool:
    try:
        return bool(client(server).ping())
    except redis.RedisError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_housekeeping_error_never_stops_the_server(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server is the supervisor thread's child (it dies with that thread, PR_SET_PDEATHSIG):
    an error in housekeeping — here, any error the connect of a thread may raise — is logged and
    the server runs on. (A test that refused every connect in its process once took the suite's
    shared server down this way.)"""
    from kxgraph.graph import falkordb_server

    monkeypatch.setattr(falkordb_server, "HOUSEKEEPING_S", 0.1)
    calls: list[float] = []

    def broken() -> None:
        calls.append(time.monotonic())
        raise AssertionError("housekeeping broke")

    with EmbeddedFalkorDB(short_tmp / "d") as server:
        pid = server.pid
        monkeypatch.setattr(server, "_housekeeping", broken)  # this server's only, not the suite's
        wait_for(lambda: len(calls) >= 3)  # it failed, and was called again: the thread lives
        time.sleep(0.3)  # PDEATHSIG would have stopped the server by now
        assert server.status().running and server.pid == pid
        c = client(server)
        assert c.ping()
        c.close()


class _FreezingServer(EmbeddedFalkorDB):
    """Its first ``freeze`` servers are stopped (SIGSTOP) once they open their socket: a start that
    answers nothing and works at nothing, as a server stuck while loading its data does."""

    def __init__(self, data_dir: Path, freeze: int, stall_timeout: float = 1.0) -> None:
        super().__init__(data_dir, start_timeout=10.0, stall_timeout=stall_timeout)
        self.freeze = freeze
        self.frozen: list[subprocess.Popen[bytes]] = []

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = super()._spawn()
        if len(self.frozen) < self.freeze:
            wait_for(self.socket_path.exists, timeout=10)
            os.kill(proc.pid, signal.SIGSTOP)
            self.frozen.append(proc)
        return proc


def test_a_start_that_stalls_is_tried_again(short_tmp: Path) -> None:
    """A first start that makes no progress is stopped (a stopped process too: it gets SIGCONT after
    SIGTERM) and started again; the data it had is there after it."""
    with EmbeddedFalkorDB(short_tmp / "d") as server:
        c = client(server)
        c.set("kept", "1")
        c.close()
    server = _FreezingServer(short_tmp / "d", freeze=1)
    started = time.monotonic()
    with server:
        [frozen] = server.frozen
        assert server.pid != frozen.pid and not _alive(frozen.pid)
        assert frozen.returncode == 0  # it stopped on SIGTERM, cleanly: not killed after a grace
        assert "start stalled, tried again (1 of 2)" in (server.status().last_exit or "")
        c = client(server)
        assert c.get("kept") == "1"
        c.close()
    # the watchdog's client waits 2 s, once: the redis client's default ten tries took 50 s
    assert time.monotonic() - started < 20


def test_a_start_that_uses_no_cpu_is_tried_again_before_the_stall_timeout(
        short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loading server that loads nothing and uses no CPU time is stuck, however long the stall
    timeout (FalkorDB sometimes stops after decoding its graph): it is started again after
    ``IDLE_STUCK``, not after two minutes."""
    monkeypatch.setattr(falkordb_server, "IDLE_STUCK", 2.0)
    server = _FreezingServer(short_tmp / "d", freeze=1, stall_timeout=120.0)
    started = time.monotonic()
    with server:
        assert "loaded nothing and used no CPU time for 2 s" in (server.status().last_exit or "")
        assert server.pid != server.frozen[0].pid
    assert time.monotonic() - started < 20


def test_a_start_that_keeps_stalling_is_reported(short_tmp: Path) -> None:
    server = _FreezingServer(short_tmp / "d", freeze=1 + falkordb_server.STALL_RETRIES)
    with pytest.raises(StoreUnavailableError, match=r"no progress .* \(started 3 times, each stalled\)"):
        server.start()
    assert len(server.frozen) == 3 and not any(_alive(proc.pid) for proc in server.frozen)
    assert read_lock_owner(short_tmp / "d") is None
