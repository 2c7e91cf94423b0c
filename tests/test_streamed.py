"""A study whose tables are large is loaded a batch of claims at a time (``loaders/streamed.py``):
the store then holds what the whole reading writes, the load reports the same counts, and a
problem is said as the whole reading says it, with nothing changed in the store."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bench.generate import generate_study
from kxgraph.errors import InputError
from kxgraph.graph.store import Store, WriteOp
from kxgraph.loaders import streamed
from kxgraph.loaders.pipeline import LoadReport, check, load, prepare

pytestmark = pytest.mark.anyio

NODES = "MATCH (n) WHERE NOT n:Load RETURN labels(n) AS labels, properties(n) AS props"
RELATIONSHIPS = "MATCH (a)-[r]->(b) WHERE NOT a:Load RETURN a.id AS src, type(r) AS type, b.id AS dst"
LOADS = ("MATCH (l:Load)-[:GENERATED]->(:Study) RETURN l.nodeCount AS nodes, l.relationshipCount AS relationships, "
         "l.quoteCount AS quotes, l.tripleCount AS triples, l.files AS files ORDER BY l.endedAt DESC LIMIT 1")


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _study(tmp_path: Path) -> Path:
    """A generated study of about 3,000 quotes in 6 tables, with quotes cited from two batches: a
    claim of the last table cites a quote of the first table, and another the quote of a concept's
    definition (in study.yaml)."""
    folder = generate_study(tmp_path / "study", 3000, study_id="streamed")
    tables = sorted((folder / "tables").glob("*.csv"), key=lambda p: int(p.stem.split("-")[1]))
    first, last = _rows(tables[0]), _rows(tables[-1])
    cited = first[1]
    definition = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))["concepts"][0]["definition"]
    definition_quote, doc = definition["evidence"][0]["text"], definition["evidence"][0]["document"]
    last.append(["discussion_point", "point-again", "Cites a quote of the first table.", cited[3], cited[4],
                 cited[5], "", cited[7], cited[8]])
    last.append(["discussion_point", "point-definition", "Cites a definition's quote.", cited[3], cited[4],
                 "", "", definition_quote, doc])
    _write(tables[-1], last)
    return folder


def _stream(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    monkeypatch.setattr(streamed, "STREAM_TABLE_BYTES", 0 if on else 1 << 40)
    monkeypatch.setattr(streamed, "BATCH_QUOTES", 500)


async def _load(store: Store, folder: Path, said: list[str] | None = None, force: bool = True) -> LoadReport:
    return await load(store, [folder], meaning=False, force=force,
                      progress=(said.append if said is not None else None))


async def _graph(store: Store) -> tuple[list[Any], list[Any], dict[str, Any]]:
    nodes = sorted((sorted(r["labels"]), sorted((k, str(v)) for k, v in r["props"].items()))
                   for r in await store.read(NODES))
    rels = sorted((r["src"], r["type"], r["dst"]) for r in await store.read(RELATIONSHIPS))
    return nodes, rels, (await store.read(LOADS))[0]


def _counts(report: LoadReport) -> tuple[int, int, int, int, list[str]]:
    return report.nodes, report.relationships, report.quotes, report.triples, report.files


async def test_a_study_loaded_a_batch_at_a_time_is_the_study_loaded_whole(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _study(tmp_path)
    _stream(monkeypatch, on=False)
    whole = await _load(store, folder)
    written_whole = await _graph(store)
    _stream(monkeypatch, on=True)
    said: list[str] = []
    batched = await _load(store, folder, said)
    assert sum(m.startswith("batch ") for m in said) >= 6  # it was read a batch at a time
    assert _counts(batched) == _counts(whole) and batched.changed
    written = await _graph(store)
    assert written[0] == written_whole[0]  # every node and its properties
    assert written[1] == written_whole[1]  # every relationship
    assert written[2] == written_whole[2]  # the Load node's counts and files
    assert whole.quotes == written[2]["quotes"] == sum(1 for n in written[0] if "EvidenceQuote" in n[0])
    # loaded again from the same files: nothing to write, the counts of the last load
    again = await _load(store, folder, force=False)
    assert not again.changed and _counts(again) == _counts(whole)


def _damage(folder: Path, how: str) -> None:
    tables = sorted((folder / "tables").glob("*.csv"), key=lambda p: int(p.stem.split("-")[1]))
    rows = _rows(tables[-1])
    row = rows[-1]
    if how == "unknown concept":
        row[4] = "concept-nowhere"
    elif how == "quote not in its document":
        row[7] = "Words nobody wrote in any document of this study."
    elif how == "an id of another table":
        row[1] = _rows(tables[0])[1][1]
    elif how == "the id of a concept":
        row[1] = "concept-1"
    elif how == "a valence the shapes refuse":
        rows.append(["consequence", "consequence-odd", "An odd consequence.", row[3], row[4].split(";")[0],
                     "stakeholder-1", "lukewarm", row[7], row[8]])
    elif how == "a table that is not CSV":
        rows.append(['discussion_point', 'point-bad', '"unclosed', "", "", "", "", "", ""])
        _write(tables[-1], rows)
        tables[-1].write_text(tables[-1].read_text(encoding="utf-8") + 'x,"y\n', encoding="utf-8")
        return
    _write(tables[-1], rows)


@pytest.mark.parametrize("how", ["unknown concept", "quote not in its document", "an id of another table",
                                 "the id of a concept", "a valence the shapes refuse", "a table that is not CSV"])
async def test_a_problem_met_a_batch_at_a_time_is_said_as_the_whole_study_says_it(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    folder = _study(tmp_path)
    _stream(monkeypatch, on=True)
    await _load(store, folder)
    before = await _graph(store)
    _damage(folder, how)  # in the last table: batches before it were checked and written
    with pytest.raises(InputError) as whole:
        prepare([folder])
    said: list[str] = []
    with pytest.raises(InputError) as batched:
        await _load(store, folder, said)
    assert str(batched.value) == str(whole.value)
    if how != "a table that is not CSV":
        assert sum(m.startswith("batch ") for m in said) >= 5  # found after five batches were written
    assert await _graph(store) == before  # nothing of the failed load is in the store


def test_a_study_checked_a_batch_at_a_time_counts_and_fails_as_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kxgraph validate`` (``pipeline.check``) writes nothing and says what a load would write."""
    folder = _study(tmp_path)
    prep = prepare([folder])
    _stream(monkeypatch, on=True)
    said: list[str] = []
    studies, counts = check([folder], said.append)
    assert sum(m.startswith("batch ") for m in said) >= 6
    assert studies == prep.study_ids
    assert (counts.nodes, counts.relationships, counts.quotes, counts.triples) == \
        (prep.projected.node_count, prep.projected.relationship_count, prep.quote_count, prep.triples)
    _damage(folder, "unknown concept")
    with pytest.raises(InputError) as whole:
        prepare([folder])
    with pytest.raises(InputError) as batched:
        check([folder])
    assert str(batched.value) == str(whole.value)


def test_a_stream_of_writes_made_again_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend tries a replacement again by iterating its writes again (FalkorDB, when the served
    graph was written during the load; Neo4j, on a transient error): the same writes, the same counts."""
    _stream(monkeypatch, on=True)
    study = streamed.StreamedStudy.open(_study(tmp_path))
    assert study is not None
    writes = study.writes([], lambda counts: [WriteOp("the end", [vars(counts)])], lambda _msg: None)

    def made() -> list[tuple[str, list[Any]]]:
        return [(op.statement, list(op.rows)) for op in writes]

    first = made()
    counts = vars(study.counts).copy()
    assert made() == first and vars(study.counts) == counts
    assert first[-1] == ("the end", [counts]) and counts["quotes"] > 3000


async def test_a_large_study_loaded_with_embeddings_is_read_whole_and_says_why(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kxgraph.loaders import embedding, pipeline

    class Read(Exception):
        pass

    def read_whole(*_args: object, **_kwargs: object) -> None:
        raise Read

    folder = _study(tmp_path)
    _stream(monkeypatch, on=True)
    monkeypatch.setattr(embedding, "unavailable", lambda: None)  # the model is there
    monkeypatch.setattr(pipeline, "prepare", read_whole)
    said: list[str] = []
    with pytest.raises(Read):
        await load(store, [folder], meaning=True, progress=said.append)
    assert [m for m in said if "KXGRAPH_MEANING=false" in m] and not any(m.startswith("batch ") for m in said)


def test_small_tables_and_files_without_tables_are_read_whole(tmp_path: Path) -> None:
    folder = generate_study(tmp_path / "small", 300, study_id="small")
    assert streamed.StreamedStudy.open(folder) is None  # its tables are far below STREAM_TABLE_BYTES
    assert streamed.StreamedStudy.open(folder, at_least=0) is not None
    from kxgraph.loaders.bundled import bundled_study_path

    assert streamed.StreamedStudy.open(bundled_study_path(), at_least=0) is None  # no tables


@given(st.lists(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30), max_size=8),
       st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30))
def test_numbers_hold_what_a_set_holds(batches: list[list[int]], asked: list[int]) -> None:
    numbers, held = streamed.Numbers(), set()
    for batch in batches:
        numbers.update(batch)
        held.update(batch)
        assert len(numbers) == len(held)
    for n in asked + [n for batch in batches for n in batch]:
        assert (n in numbers) == (n in held)
