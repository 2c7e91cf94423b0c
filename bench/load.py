"""A bounded load run: `kxgraph serve` (embedded store, bundled study) under 32 concurrent clients
for 60 s on 127.0.0.1, with wrk (Debian's package) posting example GraphQL queries. Reports
requests per second, latency percentiles and errors. ``--seconds`` and ``--clients`` change it."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def bodies() -> list[str]:
    from bench.common import examples

    return [json.dumps({"query": q, "variables": v}) for _, q, v in examples()]


def run(seconds: int = 60, clients: int = 32) -> dict[str, Any]:
    from tests.serve import Server

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    srv = Server().start()
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(LUA % ", ".join("[==[" + b + "]==]" for b in bodies()))
        out = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", f.name,
                              srv.base], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
        m = re.search(r"^KX (.*)$", out, re.M)
        assert m, out
        n, conn, read, write, status, timeout, duration_us, p50, p95, p99 = m.group(1).split()
        errors = int(conn) + int(read) + int(write) + int(status) + int(timeout)
        return {"clients": clients, "seconds": seconds, "requests": int(n),
                "requests_per_second": round(int(n) / (int(duration_us) / 1e6), 1),
                "p50_ms": round(float(p50) / 1000, 1), "p95_ms": round(float(p95) / 1000, 1),
                "p99_ms": round(float(p99) / 1000, 1), "errors": errors,
                "healthy_after": srv.healthy()}
    finally:
        srv.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.clients), indent=2))


if __name__ == "__main__":
    main()
