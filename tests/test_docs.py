"""The README is the project's promise to a new user (datasette's ``test_docs.py`` is the model):
every setting and every command is documented there, and every block of commands it marks
``<!-- runnable -->`` runs as written, in a fresh folder beside the checkout."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kxgraph.api.cli import app
from kxgraph.settings import Settings
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTING_ROW = re.compile(r"^\| `(KXGRAPH_[A-Z0-9_]+)` \|", re.MULTILINE)


def test_every_setting_is_in_the_readme_table_and_every_row_is_a_setting() -> None:
    documented = set(SETTING_ROW.findall(README))
    settings = {f"KXGRAPH_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set(), "settings missing from the README's table"
    assert documented - settings == set(), "README rows that are no setting"


def test_every_command_is_in_the_readme() -> None:
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    missing = {c for c in commands if not re.search(rf"kxgraph {re.escape(c)}\b", README)}
    assert not missing, f"commands the README never shows: {sorted(missing)}"


def test_every_make_target_a_user_calls_is_in_the_readme() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony is not None
    internal = {"install", "lint", "typecheck", "pytest", "pytest-slow", "neo4j-info", "cypher-lint", "clean"}
    targets = set(phony.group(1).split()) - internal
    assert {"run", "test", "test-slow", "test-all", "neo4j", "neo4j-stop"} <= targets
    missing = {t for t in targets if not re.search(rf"make {re.escape(t)}(?![\w-])", README)}
    assert not missing, f"make targets the README never shows: {sorted(missing)}"


def runnable_blocks() -> list[list[str]]:
    blocks = re.findall(r"<!-- runnable -->\s*```sh\n(.*?)```", README, re.DOTALL)
    out = []
    for block in blocks:
        lines = [line.split("  #")[0].strip() for line in block.splitlines()]
        out.append([line for line in lines if line and not line.startswith("#")])
    return out


def test_the_readme_commands_run_as_written(short_tmp: Path) -> None:
    """Each runnable command, in order, in a fresh folder (the checkout's data/ and tests/ linked in,
    the files a user would bring made there) with its own embedded store."""
    blocks = runnable_blocks()
    assert len(blocks) >= 4 and sum(map(len, blocks)) >= 12, blocks
    work = short_tmp / "work"
    work.mkdir()
    for name in ("data", "tests"):
        (work / name).symlink_to(ROOT / name)
    from tests.test_refi_qda import FIXTURE, make_qdpx

    make_qdpx(FIXTURE, work / "interviews.qdpx")
    (work / "notes.md").write_text("# Notes\n\nThe link worker said that holding matters.\n", encoding="utf-8")
    (work / "notes-v2.md").write_text("# Notes\n\nA preface.\n\nThe link worker said that holding matters.\n",
                                      encoding="utf-8")
    env = {**os.environ, "KXGRAPH_DATA_DIR": str(short_tmp / "store"), "KXGRAPH_BACKEND": "falkordb"}
    for block in blocks:
        for line in block:
            argv = shlex.split(line)
            assert argv[0] == ".venv/bin/kxgraph", f"a runnable line that is not a kxgraph command: {line}"
            done = subprocess.run([sys.executable, "-m", "kxgraph", *argv[1:]], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr, f"{line}\n{done.stderr}"
    for made in ("graph.ttl", "interviews-from-kxgraph.qdpx", "my-study/study.yaml", "my-study/tables/event-2.csv",
                 "holding.html"):
        assert (work / made).is_file(), made


@pytest.mark.parametrize("name", ["SECURITY.md", "BENCHMARKS.md", "docs/data-format.md", "docs/graphql.md"])
def test_the_other_documents_name_only_files_that_exist(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    for path in sorted(set(re.findall(r"`((?:tests|bench|api|graph|loaders|ontology)/[\w/.-]+\.(?:py|ttl|md|json))`",
                                      text))):
        assert (ROOT / path).exists(), f"{name} names {path}, which does not exist"


def test_the_graphql_guide_has_every_example_and_names_tests_that_exist() -> None:
    text = (ROOT / "docs" / "graphql.md").read_text(encoding="utf-8")
    for example in sorted((ROOT / "examples" / "queries").glob("*.graphql")):
        assert f"`{example.stem}`" in text, f"docs/graphql.md does not show {example.name}"
    cited = re.findall(r"(tests/\w+\.py)::(\w+)", text)
    assert cited
    for path, test in cited:
        assert re.search(rf"^(async )?def {test}\(", (ROOT / path).read_text(encoding="utf-8"), re.M), (path, test)
