"""The CLI against a real embedded store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kxgraph.api.cli import app
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB


@pytest.fixture
def runner(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KXGRAPH_DATA_DIR", str(short_tmp / "store"))
    monkeypatch.setenv("KXGRAPH_BACKEND", "falkordb")
    return CliRunner()


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def any_runner(request: pytest.FixtureRequest, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on each backend: the embedded store, or the tests' Neo4j (its database wiped first)."""
    if request.param == "neo4j":
        target = request.getfixturevalue("neo4j_target")
        monkeypatch.setenv("KXGRAPH_BACKEND", "neo4j")
        for key, value in target.env().items():
            monkeypatch.setenv(key, value)
        wiped = runner.invoke(app, ["reset", "--yes"])
        assert wiped.exit_code == 0, wiped.output
    return runner


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


ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "studies" / "link-worker"


def test_validate_load_export_round(any_runner: CliRunner, tmp_path: Path) -> None:
    runner = any_runner
    result = runner.invoke(app, ["validate", str(BUNDLED)])
    assert result.exit_code == 0, result.output
    assert "44 evidence quotes" in result.output
    result = runner.invoke(app, ["load", str(BUNDLED)])
    assert result.exit_code == 0, result.output
    assert "loaded: link-worker" in result.output
    result = runner.invoke(app, ["load", str(BUNDLED)])
    assert result.exit_code == 0 and "unchanged" in result.output, result.output
    out = tmp_path / "graph.jsonld"
    result = runner.invoke(app, ["export", "--format", "json-ld", "--output", str(out)])
    assert result.exit_code == 0, result.output
    import json

    assert len(json.loads(out.read_text())) > 100


def test_invalid_files_exit_non_zero_with_the_place(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "study.yaml"
    bad.write_text("kxgraph: 1\nstudy: {id: x, name: X}\nconcepts:\n  - {id: c, name: C, colour: red}\n")
    for command in ("validate", "load"):
        result = runner.invoke(app, [command, str(bad)])
        assert result.exit_code == 1, result.output
        assert "concepts[0] (id 'c')" in result.output and "unknown field 'colour'" in result.output
    result = runner.invoke(app, ["export", "--format", "xml"])
    assert result.exit_code == 2


def test_import_export_qdpx_and_replace_document(any_runner: CliRunner, short_tmp: Path) -> None:
    runner = any_runner
    from tests.test_refi_qda import FIXTURE, make_qdpx

    qdpx = make_qdpx(FIXTURE, short_tmp / "interviews.qdpx")
    dry = runner.invoke(app, ["import-qdpx", str(qdpx), "--study-id", "interviews", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "checked (nothing written)" in dry.output and "7 codings" in dry.output
    done = runner.invoke(app, ["import-qdpx", str(qdpx), "--study-id", "interviews"])
    assert done.exit_code == 0 and "imported: study interviews" in done.output and "warning:" in done.output
    again = runner.invoke(app, ["import-qdpx", str(qdpx), "--study-id", "interviews"])
    assert "unchanged" in again.output
    out = short_tmp / "out.qdpx"
    exported = runner.invoke(app, ["export", "--format", "qdpx", "--study", "interviews", "-o", str(out)])
    assert exported.exit_code == 0 and out.is_file(), exported.output
    new = short_tmp / "v2.txt"
    new.write_text("Preface.\n" + (FIXTURE / "sources" / "a1b2c3d4-0000-4000-8000-000000000002.txt")
                   .read_text(encoding="utf-8"), encoding="utf-8")
    replaced = runner.invoke(app, ["replace-document", "interviews/document/a1b2c3d4-0000-4000-8000-000000000002",
                                   str(new)])
    assert replaced.exit_code == 0, replaced.output
    assert "2 quotes - 2 moved" in " ".join(replaced.output.split())
    missing = runner.invoke(app, ["replace-document", "interviews/document/nope", str(new)])
    assert missing.exit_code == 1 and "no document" in missing.output
    template = runner.invoke(app, ["template", "claims"])
    assert template.output.startswith("kind,id,text,raised_in")


def test_an_unexpected_error_is_one_clear_line_and_debug_shows_the_traceback(
        short_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from kxgraph.api import cli
    from kxgraph.loaders import pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(pipeline, "prepare", broken)
    monkeypatch.setattr(sys, "argv", ["kxgraph", "validate", str(BUNDLED)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "unexpected ZeroDivisionError: a bug" in err and "--debug" in err and "Traceback" not in err, err
    monkeypatch.setattr(sys, "argv", ["kxgraph", "--debug", "validate", str(BUNDLED)])
    with pytest.raises(ZeroDivisionError):
        cli.main()


def test_a_second_serve_on_a_folder_in_use_says_so_without_a_traceback(short_tmp: Path) -> None:
    import os
    import subprocess
    import sys

    with EmbeddedFalkorDB(short_tmp / "store"):
        done = subprocess.run([sys.executable, "-m", "kxgraph", "serve"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "KXGRAPH_DATA_DIR": str(short_tmp / "store")}, check=False)
    assert done.returncode == 1
    assert "is in use by process" in done.stderr and "Traceback" not in done.stderr, done.stderr
