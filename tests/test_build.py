"""The package builds plainly: the design card's top-level folders are ``kxgraph``'s sub-packages
through the links committed in ``kxgraph/`` (``pyproject.toml``), and the wheel holds every file of
them, ``py.typed`` included, with no warning from setuptools on the way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("graph", "ontology", "loaders", "api", "data")


def _files(folder: Path) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_the_links_are_the_top_level_folders() -> None:
    for name in FOLDERS:
        link = ROOT / "kxgraph" / name
        assert link.is_symlink() and os.readlink(link) == f"../{name}", link
        assert link.resolve() == ROOT / name


def test_the_wheel_holds_every_file_of_the_folders_and_no_warning(tmp_path: Path) -> None:
    # built from a copy (setuptools writes build/ and *.egg-info beside the sources), links kept
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in (*FOLDERS, "kxgraph"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # without build isolation: the setuptools of the dev install (pyproject's floor), nothing fetched
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--quiet", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    said = [line for line in (done.stdout + done.stderr).splitlines() if "warn" in line.lower()]
    assert said == []
    (wheel,) = (tmp_path / "dist").glob("kxgraph-*.whl")
    names = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("kxgraph/")}
    expected = {"kxgraph/" + f for name in FOLDERS for f in _files(ROOT / name)}
    expected |= _files(ROOT / "kxgraph")  # the root package's own files (the links are folders)
    assert "kxgraph/py.typed" in names
    assert sorted(expected - names) == []
    assert sorted(names - expected) == []

