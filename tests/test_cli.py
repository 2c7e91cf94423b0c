"""The CLI against a real embedded store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from kxgraph.api.cli import app
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from typer.testing import CliRunner


@pytest.fixture
def runner(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KXGRAPH_DATA_DIR", str(short_tmp / "store"))
    monkeypatch.setenv("KXGRAPH_BACKEND", "falkordb")
    return CliRunner()


def test_status_starts_the_embedded_store_and_reports(runner: CliRunner, short_tmp: Path) -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "falkordb" in result.output
    assert str(short_tmp / "store") in result.output.replace("\n", "")
    assert not (short_tmp / "store" / "falkordb.sock").exists(), "status must stop what it started"


def test_status_attaches_to_a_server_another_process_owns(runner: CliRunner, short_tmp: Path) -> None:
    with EmbeddedFalkorDB(short_tmp / "store") as server:
        result = runner.invoke(app, ["status"])
        assert result.exit_code == 0, result.output
        assert server.status().running


def test_a_bad_setting_is_a_clear_error(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KXGRAPH_BACKEND", "mysql")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "backend" in result.output


def test_neo4j_without_uri_names_the_setting(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KXGRAPH_BACKEND", "neo4j")
    monkeypatch.delenv("KXGRAPH_NEO4J_URI", raising=False)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1
    assert "KXGRAPH_NEO4J_URI" in result.output
