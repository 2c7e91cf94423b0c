"""wrk (Debian's package) posting the example GraphQL queries in turn: a bounded load on 127.0.0.1."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from typing import Any

from bench.common import examples

__all__ = ["run_wrk"]

LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, bodies[(i %% #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("KX %%d %%d %%d %%d %%d %%d %%d %%.1f %%.1f %%.1f\\n", summary.requests,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
end
"""


def run_wrk(base: str, seconds: int, clients: int, only: str | None = None) -> dict[str, Any]:
    """Requests per second, latency percentiles and errors (connection, read, write, non-2xx status,
    timeouts of 10 s) of ``clients`` connections for ``seconds``; ``only``: that example alone."""
    if not base.startswith("http://127.0.0.1:"):
        raise ValueError("the load runs against 127.0.0.1 only")
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    bodies = [json.dumps({"query": q, "variables": v}) for name, q, v in examples() if only in (None, name)]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as f:
        f.write(LUA % ", ".join("[==[" + b + "]==]" for b in bodies))
        f.flush()
        out = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", f.name, base],
                             capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    m = re.search(r"^KX (.*)$", out, re.M)
    if m is None:
        raise RuntimeError(f"wrk said:\n{out}")
    n, conn, read, write, status, timeout, duration_us, p50, p95, p99 = m.group(1).split()
    errors = {"connect": int(conn), "read": int(read), "write": int(write), "status": int(status),
              "timeout": int(timeout)}
    return {"clients": clients, "seconds": seconds, "requests": int(n),
            "requests_per_second": round(int(n) / (int(duration_us) / 1e6), 1),
            "p50_ms": round(float(p50) / 1000, 1), "p95_ms": round(float(p95) / 1000, 1),
            "p99_ms": round(float(p99) / 1000, 1), "errors": sum(errors.values()), "errors_by_kind": errors}
