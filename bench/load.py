"""A bounded load run on the bundled study alone: `kxgraph serve` (embedded store) under 32
concurrent clients for 60 s on 127.0.0.1, with wrk posting the example GraphQL queries. Reports
requests per second, latency percentiles and errors. ``--seconds`` and ``--clients`` change it.
(``python -m bench`` runs the same load at every scale.)"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(seconds: int = 60, clients: int = 32) -> dict[str, Any]:
    from bench.wrk import run_wrk
    from tests.serve import Server

    srv = Server().start()
    try:
        return {**run_wrk(srv.base, seconds, clients), "healthy_after": srv.healthy()}
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
