"""docker-compose.yml: Neo4j 5 with a health check and auth from the environment, the API wired to
it. Checked structurally always; with ``docker compose config`` where the docker CLI has compose."""

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
    neo4j = compose()["services"]["neo4j"]
    assert neo4j["image"].startswith("neo4j:5")
    assert "${NEO4J_PASSWORD" in neo4j["environment"]["NEO4J_AUTH"]
    assert "healthcheck" in neo4j
    assert all(p.startswith("127.0.0.1:") for p in neo4j["ports"])


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
