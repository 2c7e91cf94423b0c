"""A local Neo4j 5.26 Community for the tests, the benchmarks and development.

The real Neo4j kernel, Cypher runtime and full-text indexes, from Neo4j's official artifacts on Maven
Central (``org.neo4j:neo4j``, which carries the Bolt connector), embedded in a twenty-line Java
launcher (``KxNeo4j.java``) listening on 127.0.0.1 with authentication on. No mock, no home-made
server, no Docker.

- :func:`build` resolves the artifacts with Maven (cached in ``~/.m2``) and compiles the launcher
  once into ``.neo4j/build/<key>/`` (``key`` follows ``pom.xml`` and the launcher's source).
- :class:`LocalNeo4j` starts one server on a data folder (a temporary one by default), waits until
  Bolt answers, and can be killed (``kill -9`` of its JVM), restarted on the same folder and port,
  and stopped. Its settings are written as a ``neo4j.conf`` and checked by Neo4j's strict validation.
- ``python -m tests.neo4j_local start|stop|status|check`` is what ``make neo4j`` and
  ``make neo4j-stop`` call; ``start`` writes ``.neo4j/kxgraph.env``.

It lives under ``tests/`` rather than in a top-level ``neo4j/`` folder because such a folder would
shadow the ``neo4j`` driver package for anything run from the repository root.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ENV_FILE",
    "NEO4J_VERSION",
    "STATE_DIR",
    "LocalNeo4j",
    "Neo4jUnavailable",
    "build",
    "check_settings",
    "compose_settings",
    "missing_tools",
    "settings_from_docker_env",
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATE_DIR = ROOT / ".neo4j"
ENV_FILE = STATE_DIR / "kxgraph.env"
STATE_FILE = STATE_DIR / "server.json"
POM = HERE / "pom.xml"
LAUNCHER = HERE / "KxNeo4j.java"
NEO4J_VERSION = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", POM.read_text(encoding="utf-8"))[1]  # type: ignore[index]

#: Variables the Neo4j Docker image's entrypoint reads itself; every other ``NEO4J_*`` variable is
#: turned into a setting (``NEO4J_server_memory_heap_max__size`` -> ``server.memory.heap.max_size``).
DOCKER_ENTRYPOINT_VARIABLES = frozenset({
    "NEO4J_AUTH", "NEO4J_ACCEPT_LICENSE_AGREEMENT", "NEO4J_PLUGINS", "NEO4J_DEBUG", "NEO4J_EDITION",
    "NEO4J_HOME", "NEO4J_CONF", "NEO4J_SHA256", "NEO4J_TARBALL", "NEO4J_apoc_export_file_enabled",
})


#: Settings of every local server on top of docker-compose.yml's: keep a statement's plan (planned
#: again at most hourly) however much the graph's statistics move. The suite wipes and reloads the
#: one database hundreds of times, and with Neo4j's defaults (10 s, 0.75) it planned the same
#: statements again and again: the Neo4j tests took 262 s with the defaults and 235 s with these
#: (`pytest -m "neo4j and not slow"`, one process, 2026-12-07). A plan changes no answer, only how
#: fast it comes; a deployment (docker-compose.yml) keeps Neo4j's defaults.
#: And a shutdown without Bolt's graceful wait: Netty's event loops waited a quiet period of 5 s
#: each (two of them) for work that never comes, so a clean stop of an idle server took 10.3 s, at
#: the end of every run that started one; with no quiet period it takes 0.3 s (a throwaway timing of
#: ``LocalNeo4j.create().start()`` then ``stop()``, 2026-12-07). An internal setting of Neo4j 5.26,
#: read as an integer of seconds (``GraphDatabaseInternalSettings``).
SUITE_SETTINGS = {"dbms.cypher.min_replan_interval": "1h", "dbms.cypher.statistics_divergence_threshold": "1.0",
                  "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0"}


class Neo4jUnavailable(RuntimeError):
    """The local Neo4j cannot be built or started here; ``str()`` says why."""


def missing_tools() -> str | None:
    """Why the local Neo4j cannot run on this machine (no Java 17+, no Maven), or ``None``."""
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if java is None or shutil.which("javac") is None:
        return "no Java 17+ JDK (java and javac) on PATH: the local Neo4j needs one (apt-get install openjdk-17-jdk-headless)"
    if mvn is None:
        return "no Maven (mvn) on PATH: the local Neo4j fetches Neo4j from Maven Central with it (apt-get install maven)"
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)', probe.stderr)
    if not found or int(found[1]) < 17:
        return f"Neo4j {NEO4J_VERSION} needs Java 17 or newer; found: {probe.stderr.splitlines()[:1]}"
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def build(*, quiet: bool = True) -> tuple[str, Path]:
    """``(classpath, classes folder)`` of the launcher: Maven resolves Neo4j once, javac compiles."""
    reason = missing_tools()
    if reason:
        raise Neo4jUnavailable(reason)
    key = hashlib.sha256(POM.read_bytes() + LAUNCHER.read_bytes()).hexdigest()[:12]
    out = STATE_DIR / "build" / key
    cp_file, classes = out / "classpath.txt", out / "classes"
    with _locked(STATE_DIR / "build.lock"):
        if not (classes / "KxNeo4j.class").is_file():
            out.mkdir(parents=True, exist_ok=True)
            mvn = [shutil.which("mvn") or "mvn", "-B", "-f", str(POM), "dependency:build-classpath",
                   f"-Dmdep.outputFile={cp_file}"]
            if quiet:
                mvn.insert(1, "-q")
            done = subprocess.run(mvn, capture_output=quiet, text=True, check=False, timeout=1800)
            if done.returncode != 0:
                tail = "\n".join((done.stdout or "").splitlines()[-15:])
                raise Neo4jUnavailable(f"Maven could not fetch Neo4j {NEO4J_VERSION} from Maven Central:\n{tail}")
            done = subprocess.run([shutil.which("javac") or "javac", "-cp", cp_file.read_text().strip(),
                                   "-d", str(classes), str(LAUNCHER)],
                                  capture_output=True, text=True, check=False, timeout=300)
            if done.returncode != 0:
                raise Neo4jUnavailable(f"javac could not compile {LAUNCHER.name}:\n{done.stderr}")
    return cp_file.read_text().strip(), classes


#: neosemantics (n10s) on Maven Central: the newest of the 5.x line served there (built for Neo4j
#: 5.1; its procedures run on 5.26, as tests/test_n10s.py checks)
N10S_ARTIFACT = "org.neo4j:neosemantics:5.1.0.0"


def n10s_plugins() -> Path:
    """A plugins folder holding the n10s jar, fetched once by Maven from Maven Central."""
    reason = missing_tools()
    if reason:
        raise Neo4jUnavailable(reason)
    folder = STATE_DIR / "build" / "n10s-plugins"
    jar = folder / (N10S_ARTIFACT.split(":")[1] + "-" + N10S_ARTIFACT.split(":")[2] + ".jar")
    with _locked(STATE_DIR / "build.lock"):
        if not jar.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            done = subprocess.run([shutil.which("mvn") or "mvn", "-B", "-q", "dependency:copy",
                                   f"-Dartifact={N10S_ARTIFACT}", f"-DoutputDirectory={folder}"],
                                  capture_output=True, text=True, check=False, timeout=900, cwd=folder)
            if done.returncode != 0 or not jar.is_file():
                tail = "\n".join((done.stdout or "").splitlines()[-15:])
                raise Neo4jUnavailable(f"Maven could not fetch {N10S_ARTIFACT} from Maven Central:\n{tail}")
    return folder


def settings_from_docker_env(env: Mapping[str, str]) -> dict[str, str]:
    """The settings the Neo4j Docker image's entrypoint makes of ``NEO4J_*`` variables: ``_`` is a
    dot, ``__`` an underscore (its documented rule); the entrypoint's own variables are left out."""
    out: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith("NEO4J_") or name in DOCKER_ENTRYPOINT_VARIABLES:
            continue
        key = name[len("NEO4J_"):].replace("__", "\0").replace("_", ".").replace("\0", "_")
        out[key] = str(value)
    return out


def compose_settings() -> dict[str, str]:
    """The Neo4j settings that ``docker-compose.yml`` passes to its Neo4j service."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    env = compose["services"]["neo4j"].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return settings_from_docker_env(env)


def _write_conf(path: Path, settings: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in sorted(settings.items())]
    path.write_text("# written by tests/neo4j_local\n" + "\n".join(lines) + "\n", encoding="utf-8")


def check_settings(settings: Mapping[str, str]) -> str | None:
    """``None`` when Neo4j's strict validation accepts every setting, else its reason."""
    cp, classes = build()
    with tempfile.TemporaryDirectory(prefix="kxneo4jconf") as tmp:
        conf = Path(tmp) / "neo4j.conf"
        _write_conf(conf, settings)
        done = subprocess.run([_java(), "-cp", f"{classes}{os.pathsep}{cp}", "KxNeo4j", "check", str(conf)],
                              capture_output=True, text=True, check=False, timeout=120)
    if done.returncode == 0 and done.stdout.strip() == "VALID":
        return None
    return (done.stdout.strip().removeprefix("INVALID ") or done.stderr.strip()) or f"exit {done.returncode}"


def _java() -> str:
    return shutil.which("java") or "java"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _set_pdeathsig() -> None:  # in the child, between fork and exec: die with the test process
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child not yet reaped) is not alive
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


@dataclass
class LocalNeo4j:
    """One local Neo4j server on ``home`` (its data folder) and ``port`` (Bolt, 127.0.0.1)."""

    home: Path
    port: int
    password: str
    heap: str = "1g"
    #: extra Neo4j settings on top of docker-compose.yml's and the launcher's own
    settings: dict[str, str] = field(default_factory=dict)
    owns_home: bool = False
    pid: int | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_start: int = field(default=0, repr=False)

    @classmethod
    def create(cls, *, home: Path | None = None, port: int | None = None, heap: str | None = None,
               pagecache: str | None = None, settings: Mapping[str, str] | None = None) -> LocalNeo4j:
        """A server not yet started: a new temporary data folder, a free port, a generated password."""
        owns = home is None
        home = home or Path(tempfile.mkdtemp(prefix="kxneo4j-"))
        extra = dict(settings or {})
        pagecache = pagecache or os.environ.get("KX_NEO4J_PAGECACHE")
        if pagecache:  # otherwise docker-compose.yml's
            extra["server.memory.pagecache.size"] = pagecache
        return cls(home=home, port=port or free_port(), password=secrets.token_urlsafe(18),
                   heap=heap or os.environ.get("KX_NEO4J_HEAP", "1g"), settings=extra, owns_home=owns)

    # --- what clients need ----------------------------------------------------------------------
    @property
    def uri(self) -> str:
        return f"neo4j://127.0.0.1:{self.port}"

    @property
    def user(self) -> str:
        return "neo4j"

    def env(self) -> dict[str, str]:
        """The ``KXGRAPH_*`` settings that point kxgraph at this server."""
        return {"KXGRAPH_NEO4J_URI": self.uri, "KXGRAPH_NEO4J_USER": self.user,
                "KXGRAPH_NEO4J_PASSWORD": self.password, "KXGRAPH_NEO4J_DATABASE": "neo4j"}

    def all_settings(self) -> dict[str, str]:
        """Exactly what the server is started with: docker-compose.yml's settings, then ours
        (:data:`SUITE_SETTINGS`, then the server's own)."""
        return {**compose_settings(), **SUITE_SETTINGS, **self.settings,
                "server.bolt.enabled": "true",
                "server.bolt.listen_address": f"127.0.0.1:{self.port}",
                "server.bolt.advertised_address": f"127.0.0.1:{self.port}",
                "dbms.security.auth_enabled": "true",
                "server.directories.logs": str(self.home / "logs")}

    @property
    def log_path(self) -> Path:
        return self.home / "launcher.log"

    # --- life -----------------------------------------------------------------------------------
    def start(self, timeout: float = 180.0, *, detached: bool = False, launch_only: bool = False) -> LocalNeo4j:
        """Start the JVM and wait until Bolt answers with the password. ``detached``: outlive this
        process (``make neo4j``); otherwise the server dies with it (Linux: PR_SET_PDEATHSIG).
        ``launch_only``: return once the JVM is launched; :meth:`wait_ready` waits for it."""
        if self.pid is not None and _alive(self.pid):
            raise Neo4jUnavailable(f"the local Neo4j on port {self.port} is already running (pid {self.pid})")
        cp, classes = build()
        conf = self.home / "conf" / "neo4j.conf"
        _write_conf(conf, self.all_settings())
        argv = [_java(), f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
                "-Dfile.encoding=UTF-8", "-cp", f"{classes}{os.pathsep}{cp}", "KxNeo4j", "serve", str(conf), str(self.home)]
        env = {**os.environ, "KX_NEO4J_PASSWORD": self.password}
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            preexec = _set_pdeathsig if (sys.platform.startswith("linux") and not detached) else None
            self._proc = subprocess.Popen(argv, cwd=self.home, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec)
        finally:
            log.close()
        self.pid = self._proc.pid
        if not launch_only:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Wait until the server :meth:`start` launched (here or in another process) answers Bolt
        with the password; raise :class:`Neo4jUnavailable` with its log when it cannot."""
        from neo4j import GraphDatabase
        from neo4j import exceptions as ne

        deadline = time.monotonic() + timeout
        while True:
            if self.pid is None or not _alive(self.pid):
                raise Neo4jUnavailable(f"the local Neo4j exited while starting; log {self.log_path}:\n{self.log_tail()}")
            since = self._log_since_start()
            if "\nREADY " in f"\n{since}":
                break
            if "\nFAILED " in f"\n{since}":
                self.kill()
                raise Neo4jUnavailable(f"the local Neo4j could not start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise Neo4jUnavailable(f"the local Neo4j did not start within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)
        driver_log = logging.getLogger("neo4j")  # each refused attempt would be logged with a traceback
        if driver_log.level == logging.NOTSET:
            driver_log.setLevel(logging.CRITICAL)
        with GraphDatabase.driver(self.uri, auth=(self.user, self.password)) as driver:
            while True:
                try:
                    driver.verify_connectivity()
                    return
                except (ne.ServiceUnavailable, ne.SessionExpired, OSError):
                    if time.monotonic() > deadline:
                        raise Neo4jUnavailable(f"Bolt on port {self.port} does not answer") from None
                    time.sleep(0.1)

    def _log_since_start(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """``kill -9`` of the JVM: no shutdown, no flush — a crash."""
        if self.running():
            assert self.pid is not None
            os.kill(self.pid, signal.SIGKILL)
        self._reap(30)

    def stop(self, *, remove: bool | None = None) -> None:
        """A clean shutdown (SIGTERM runs the database's shutdown hook), then the data folder is
        removed if it is a temporary one of ours (or ``remove``)."""
        if self.running():
            assert self.pid is not None
            os.kill(self.pid, signal.SIGTERM)
            if not self._reap(90):
                os.kill(self.pid, signal.SIGKILL)
                self._reap(30)
        self.pid = None
        if remove if remove is not None else self.owns_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def restart(self, timeout: float = 180.0) -> LocalNeo4j:
        """Start again on the same data folder and port (after :meth:`kill` or :meth:`stop`)."""
        self.pid = None
        self._proc = None
        return self.start(timeout)

    def _reap(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.pid is not None and _alive(self.pid):
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=0.1)
            else:
                time.sleep(0.1)
            if time.monotonic() > deadline:
                return False
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        return True

    # --- the detached server of `make neo4j` ----------------------------------------------------
    def state(self) -> str:
        """What another process needs to reach, wait for or stop this server (JSON)."""
        return json.dumps({"home": str(self.home), "port": self.port, "pid": self.pid,
                           "password": self.password, "owns_home": self.owns_home})

    @classmethod
    def from_state(cls, text: str) -> LocalNeo4j:
        state = json.loads(text)
        return cls(home=Path(state["home"]), port=int(state["port"]), password=state["password"],
                   pid=state.get("pid"), owns_home=bool(state.get("owns_home")))

    def save(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(self.state())
        os.chmod(STATE_FILE, 0o600)
        ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in self.env().items()), encoding="utf-8")
        os.chmod(ENV_FILE, 0o600)

    @classmethod
    def saved(cls) -> LocalNeo4j | None:
        try:
            return cls.from_state(STATE_FILE.read_text())
        except (OSError, ValueError, KeyError):
            return None

    @staticmethod
    def forget() -> None:
        for path in (STATE_FILE, ENV_FILE):
            path.unlink(missing_ok=True)

    def running(self) -> bool:
        """The JVM of this server is alive (and is our launcher, not a process that reused its pid)."""
        if self.pid is None or not _alive(self.pid):
            return False
        try:
            return b"KxNeo4j" in Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return sys.platform == "darwin"
