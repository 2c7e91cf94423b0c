"""docker-compose.yml: Neo4j 5.26 with a health check and auth from the environment, the API wired
to it. Checked structurally always; every ``NEO4J_*`` variable through Neo4j's own strict settings
validation, and on the tests' Neo4j, which runs with exactly those settings (no Docker engine
needed); with ``docker compose config`` where the docker CLI has compose."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_neo4j_service_has_health_check_and_auth_from_environment() -> None:
    from tests.neo4j_local import NEO4J_VERSION

    neo4j = compose()["services"]["neo4j"]
    line = ".".join(NEO4J_VERSION.split(".")[:2])  # the tests' Neo4j and the image: one 5.26 line
    assert neo4j["image"] == f"neo4j:{line}-community", neo4j["image"]
    assert "${NEO4J_PASSWORD" in neo4j["environment"]["NEO4J_AUTH"]
    assert "healthcheck" in neo4j and "NEO4J_AUTH" in " ".join(neo4j["healthcheck"]["test"])
    assert all(p.startswith("127.0.0.1:") for p in neo4j["ports"])


def test_every_neo4j_variable_maps_to_a_setting_neo4j_accepts() -> None:
    """The entrypoint makes a setting of every NEO4J_* variable but its own, and Neo4j's strict
    validation refuses to start on an unknown one (as NEO4J_PASSWORD once did)."""
    from tests.helpers import no_neo4j
    from tests.neo4j_local import check_settings, compose_settings, missing_tools, settings_from_docker_env

    env = compose()["services"]["neo4j"]["environment"]
    settings = compose_settings()
    assert set(settings) == {"server.memory.heap.max_size", "server.memory.pagecache.size"}, settings
    assert all(k.startswith("NEO4J_") for k in env)
    reason = missing_tools()
    if reason:
        no_neo4j(reason)
    assert check_settings(settings) is None
    refused = check_settings({**settings, **settings_from_docker_env({"NEO4J_PASSWORD": "x"})})
    assert refused is not None and "Unrecognized setting" in refused and "PASSWORD" in refused


def _bytes(value: str) -> float:
    import re

    number, unit = re.fullmatch(r"([\d.]+)\s*([KMGT]?)i?B?", value.strip(), re.IGNORECASE).groups()  # type: ignore[union-attr]
    return float(number) * 1024 ** "_KMGT".index(unit.upper() or "_")


@pytest.mark.neo4j
def test_the_tests_neo4j_runs_with_the_compose_settings(neo4j_target: Any) -> None:
    from neo4j import GraphDatabase

    from tests.neo4j_local import SUITE_SETTINGS, LocalNeo4j, compose_settings

    with GraphDatabase.driver(neo4j_target.uri, auth=(neo4j_target.user, neo4j_target.password)) as driver:
        records, _, _ = driver.execute_query("CALL dbms.listConfig() YIELD name, value RETURN name, value")
    running = {r["name"]: r["value"] for r in records}
    for key, value in compose_settings().items():
        assert _bytes(running[key]) == _bytes(value), (key, running[key], value)
    saved = LocalNeo4j.saved()  # `make neo4j`'s server, which CI's suite runs against
    if neo4j_target.local is not None or (saved is not None and saved.uri == neo4j_target.uri):
        # a server of tests/neo4j_local: with the suite's own settings too
        assert _seconds(running["dbms.cypher.min_replan_interval"]) == _seconds(SUITE_SETTINGS["dbms.cypher.min_replan_interval"])
        assert float(running["dbms.cypher.statistics_divergence_threshold"]) == 1.0


def _seconds(value: str) -> float:
    import re

    number, unit = re.fullmatch(r"([\d.]+)\s*(ms|s|m|h)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def test_api_service_uses_the_neo4j_backend() -> None:
    api = compose()["services"]["api"]
    env = api["environment"]
    assert env["KXGRAPH_BACKEND"] == "neo4j"
    assert env["KXGRAPH_NEO4J_URI"].endswith("neo4j:7687")
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert (ROOT / "Dockerfile").is_file()
    for folder in ("graph", "ontology", "loaders", "api", "kxgraph", "data"):
        assert f"COPY {folder} ./{folder}" in (ROOT / "Dockerfile").read_text()


def test_docker_compose_config_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("the docker CLI is not installed")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        pytest.skip("the docker CLI has no compose plugin here")
    result = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config",
                             "--quiet"], capture_output=True, text=True, check=False,
                            env={**os.environ, "NEO4J_PASSWORD": "test-password"})
    assert result.returncode == 0, result.stderr
