"""Reading ``study.yaml`` lets go of what it has made into RDF (``build_study(..., consume=True)``)
and gives what it gave when it kept everything."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib.compare import isomorphic

from bench.generate import generate_study
from kxgraph.loaders.bundled import bundled_study_path
from kxgraph.loaders.yaml_format import build_study, read_study_file, study_data


def _small_study(tmp_path: Path) -> Path:
    return generate_study(tmp_path / "syn", 300, study_id="syn-file")


@pytest.mark.parametrize("which", ["bundled", "tables"])
def test_a_study_read_while_letting_go_is_the_study_read_whole(which: str, tmp_path: Path) -> None:
    path = (bundled_study_path() if which == "bundled" else _small_study(tmp_path)) / "study.yaml"
    data, places_of, tables = study_data(path)
    rows = sum(len(v) for v in data.values() if isinstance(v, list))
    kept = build_study(data, path, dict(places_of), tables=tables)
    let_go = build_study(data, path, places_of, tables=tables, consume=True)
    assert rows > 20
    assert all(item is None for v in data.values() if isinstance(v, list) for item in v)  # each let go
    assert not places_of  # every table row's place used, and forgotten
    assert isomorphic(kept.graph, let_go.graph) and len(kept.graph) == len(let_go.graph)
    assert kept.places == let_go.places and kept.quotes == let_go.quotes
    assert (kept.documents, kept.study_id, kept.tables) == (let_go.documents, let_go.study_id, let_go.tables)
    whole = read_study_file(path)  # what the loader reads
    assert isomorphic(whole.graph, kept.graph) and whole.quotes == kept.quotes and whole.places == kept.places
    if which == "tables":  # a table row's place names its file and row
        assert any(" row " in q.place for q in whole.quotes)
