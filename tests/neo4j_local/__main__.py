"""``python -m tests.neo4j_local start|stop|status|check``: the local Neo4j of ``make neo4j``.

- ``start``: fetch Neo4j (Maven, cached), start it detached on 127.0.0.1 on a free port with a
  generated password and a temporary data folder, wait until Bolt answers, write
  ``.neo4j/kxgraph.env`` (``KXGRAPH_NEO4J_URI=…`` lines). Already running: says so, changes nothing.
- ``stop``: shut it down cleanly, remove its data folder and ``.neo4j/kxgraph.env``.
- ``status``: whether it runs, and where.
- ``check``: docker-compose.yml's Neo4j settings through Neo4j's strict validation.
"""

from __future__ import annotations

import sys
import time

from tests.neo4j_local import ENV_FILE, NEO4J_VERSION, LocalNeo4j, Neo4jUnavailable, check_settings, compose_settings


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    saved = LocalNeo4j.saved()
    if command == "start":
        if saved is not None and saved.running():
            print(f"the local Neo4j already runs at {saved.uri} (pid {saved.pid}); settings in {ENV_FILE}")
            return 0
        if saved is not None:  # a stale record of a server that died
            saved.stop()
            LocalNeo4j.forget()
        started = time.monotonic()
        server = LocalNeo4j.create()
        try:
            server.start(detached=True)
        except Neo4jUnavailable as exc:
            server.stop()
            print(f"neo4j: {exc}", file=sys.stderr)
            return 1
        server.save()
        print(f"Neo4j {NEO4J_VERSION} Community runs at {server.uri} (pid {server.pid}, data {server.home}), "
              f"started in {time.monotonic() - started:.1f} s; settings in {ENV_FILE}")
        return 0
    if command == "stop":
        if saved is None:
            print("no local Neo4j is recorded as running")
            return 0
        saved.stop()
        LocalNeo4j.forget()
        print(f"stopped the local Neo4j on port {saved.port}")
        return 0
    if command == "status":
        if saved is not None and saved.running():
            print(f"running at {saved.uri} (pid {saved.pid}, data {saved.home}); settings in {ENV_FILE}")
            return 0
        print("not running")
        return 3
    if command == "check":
        try:
            problem = check_settings(compose_settings())
        except Neo4jUnavailable as exc:
            print(f"neo4j: {exc}", file=sys.stderr)
            return 1
        print(problem or f"docker-compose.yml's Neo4j settings are valid for Neo4j {NEO4J_VERSION}")
        return 1 if problem else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
