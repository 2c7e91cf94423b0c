"""A real ``kxgraph serve`` in a subprocess, on 127.0.0.1 and a free port, with its own data folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, **env: str) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="kxs"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "KXGRAPH_DATA_DIR": str(self.data), "KXGRAPH_PORT": str(self.port),
                    "KXGRAPH_BACKEND": "falkordb", **env}
        self.log_path = self.data.parent / f"{self.data.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Server:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "kxgraph", "serve"], env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.healthy():
            assert self.proc.poll() is None, self.log()
            assert time.monotonic() < deadline, "kxgraph serve did not become healthy:\n" + self.log()
            time.sleep(0.1)
        return self

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kxgraph", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def redis_pid(self) -> int:
        """The embedded store's pid from its pid file (-1 while the file is being rewritten)."""
        try:
            return int((self.data / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return -1

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self._log.close()
        shutil.rmtree(self.data, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)
