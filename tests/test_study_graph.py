"""The bundled link worker study, loaded into every available backend: complete, evidenced,
idempotent, all-or-nothing, and round-tripping through RDF."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rdflib.compare import isomorphic

from kxgraph.errors import QueryError
from kxgraph.graph import cypher
from kxgraph.graph.store import Store, WriteOp
from kxgraph.loaders import pipeline
from kxgraph.loaders.export import export_graph, serialize
from kxgraph.loaders.pipeline import load, prepare
from tests.helpers import BUNDLED, SECOND, SHARED_SOURCE, fingerprint, names

pytestmark = pytest.mark.anyio


@pytest.fixture
async def loaded(bundled: Store) -> AsyncIterator[Store]:
    yield bundled


async def test_inventory_is_complete(loaded: Store) -> None:
    s = loaded
    assert await names(s, "Concept") == ["Belonging", "Boundaries", "Discretion", "Fitting in", "Holding",
                                         "Patient readiness"]
    assert len(await names(s, "Stakeholder")) == 5
    assert len(await names(s, "Event")) == 2
    assert len(await names(s, "Continuum")) == 2
    assert set(await names(s, "Person")) == {"Debra Westlake", "Stephanie Tierney"}
    assert len(await names(s, "DelegateGroup")) == 5
    assert len(await names(s, "RoleElement")) >= 5
    points = await s.read("MATCH (d:DiscussionPoint)-[:CONCERNS]->(c) RETURN c.name AS concept, "
                          "count(DISTINCT d) AS n ORDER BY concept")
    assert (await s.read("MATCH (d:DiscussionPoint) RETURN count(d) AS n"))[0]["n"] == 9
    by_concept = {r["concept"]: r["n"] for r in points}
    assert by_concept["Holding"] == 3
    assert by_concept["Discretion"] == 5  # the sixth point of that table concerns boundaries
    discretion_round = await s.read(
        "MATCH (d:DiscussionPoint)-[:RAISED_IN]->(a:Activity {id: 'link-worker/activity/discretion-round-table'}) "
        "RETURN count(d) AS n")
    assert discretion_round[0]["n"] == 6
    poles = await s.read("MATCH (c:Continuum)-[:HAS_LEFT_POLE]->(l), (c)-[:HAS_RIGHT_POLE]->(r) "
                         "RETURN l.name AS left, r.name AS right ORDER BY left")
    assert poles == [{"left": "Belonging", "right": "Fitting in"},
                     {"left": "Discretion", "right": "Boundaries"}]
    holding = await s.read("MATCH (d:Definition)-[:DEFINES]->(c:Concept {name: 'Holding'}) "
                           "RETURN d.text AS text, c.definition AS definition")
    assert "contained, reassured and emotionally supported" in holding[0]["text"]
    exeter = await s.read("MATCH (e:Event)-[:AT_LOCATION]->(p:Place) WHERE e.date = '2023-10' "
                          "RETURN p.name AS place, e.duration AS duration")
    assert exeter == [{"place": "Exeter Community Centre", "duration": "PT2H"}]
    study = await s.read("MATCH (s:Study)-[:FUNDED_BY]->(o:Organisation) RETURN s.grantNumber AS g, o.name AS o")
    assert study[0]["g"] == "NIHR130247" and "NIHR" in study[0]["o"]
    valence = await s.read("MATCH (c:Consequence) RETURN DISTINCT c.valence AS v ORDER BY v")
    assert [r["v"] for r in valence] == ["negative", "positive"]
    gps = await s.read("MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->(:Stakeholder {name: 'GPs and health care "
                       "professionals'}) RETURN count(c) AS n")
    assert gps[0]["n"] >= 1
    placed = await s.read("MATCH (p:Placement)-[:ON_CONTINUUM]->(:Continuum {name: 'Discretion to boundaries'}) "
                          "RETURN min(p.position) AS lo, max(p.position) AS hi, count(p) AS n")
    assert placed[0]["n"] >= 5 and 0 <= placed[0]["lo"] <= placed[0]["hi"] <= 1
    assert len(await s.read("MATCH (r:Reflection) RETURN r.id")) == 2


async def test_every_claim_is_backed_by_a_quote(loaded: Store) -> None:
    for label in ("Definition", "DiscussionPoint", "Consequence", "Placement", "Reflection", "Method"):
        unbacked = await loaded.read(f"MATCH (c:{label}) WHERE NOT (c)-[:SUPPORTED_BY]->(:EvidenceQuote) "
                                     "RETURN c.id AS id")
        assert unbacked == [], label
        assert (await loaded.read(f"MATCH (c:{label}) RETURN count(c) AS n"))[0]["n"] > 0, label


async def test_every_stored_quote_is_its_document_text(loaded: Store) -> None:
    rows = await loaded.read(
        "MATCH (q:EvidenceQuote)-[:IN_DOCUMENT]->(d:SourceDocument) RETURN q.exact AS exact, q.start AS start, "
        "q.end AS end, q.prefix AS prefix, q.suffix AS suffix, q.documentSha256 AS qsha, d.sha256 AS dsha, "
        "d.content AS content, d.path AS path")
    assert len(rows) == 44
    bundled_text = (BUNDLED / rows[0]["path"]).read_bytes().decode("utf-8")
    for r in rows:
        text = r["content"]
        assert text == bundled_text
        assert r["exact"] == text[r["start"]:r["end"]]
        assert r["prefix"] == text[max(0, r["start"] - 32):r["start"]]
        assert r["suffix"] == text[r["end"]:r["end"] + 32]
        assert r["qsha"] == r["dsha"] == hashlib.sha256(text.encode()).hexdigest()
    if SHARED_SOURCE.exists():  # the shipped copy is the source exactly as captured
        assert SHARED_SOURCE.read_bytes() == (BUNDLED / rows[0]["path"]).read_bytes()


async def test_a_second_load_is_a_no_op(loaded: Store) -> None:
    before = await fingerprint(loaded)
    report = await load(loaded, [BUNDLED])
    assert not report.changed
    assert await fingerprint(loaded) == before


async def test_a_forced_reload_gives_the_same_study(loaded: Store) -> None:
    def without_loads(fp: tuple[list[dict[str, object]], list[dict[str, object]]]) -> object:
        nodes, rels = fp
        return ([n for n in nodes if "Load" not in n["labels"]],  # type: ignore[operator]
                [r for r in rels if not str(r["src"]).startswith("load/")])
    before = without_loads(await fingerprint(loaded))
    report = await load(loaded, [BUNDLED], force=True)
    assert report.changed
    assert without_loads(await fingerprint(loaded)) == before
    assert len(await loaded.read("MATCH (l:Load) RETURN l.id AS id")) == 2


async def test_a_load_that_fails_midway_leaves_the_served_graph_unchanged(
        loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = await fingerprint(loaded)
    real_ops = pipeline.Projected.write_ops

    def failing_ops(self: pipeline.Projected) -> list[WriteOp]:
        ops = real_ops(self)
        half = len(ops) // 2
        return [*ops[:half], WriteOp("UNWIND $rows AS row RETURN row.x.y.z AS boom", [{"x": 1}]), *ops[half:]]

    monkeypatch.setattr(pipeline.Projected, "write_ops", failing_ops)
    with pytest.raises(QueryError):
        await load(loaded, [BUNDLED, SECOND], force=True)
    assert await fingerprint(loaded) == before


async def test_provenance_records_the_load(loaded: Store) -> None:
    rows = await loaded.read("MATCH (l:Load)-[:GENERATED]->(s:Study) MATCH (l)-[:USED]->(d:SourceDocument) "
                             "RETURN l.files AS files, l.startedAt AS started, l.quoteCount AS quotes, "
                             "s.name AS study, d.sha256 AS doc")
    assert len(rows) == 1
    r = rows[0]
    assert r["quotes"] == 44
    assert r["started"].startswith("20") and "T" in r["started"]
    assert any(f.startswith(r["doc"]) or f.endswith("exeter-knowledge-exchange-blog.txt") for f in r["files"])
    assert any(f.endswith("study.yaml") for f in r["files"])


async def test_load_export_load_round_trips_as_rdf(loaded: Store, tmp_path: Path) -> None:
    original = prepare([BUNDLED]).rdf()
    exported = await export_graph(loaded)
    assert isomorphic(original, exported)
    for fmt, suffix in (("turtle", ".ttl"), ("json-ld", ".jsonld")):
        f = tmp_path / f"export{suffix}"
        f.write_text(serialize(exported, fmt), encoding="utf-8")
        await loaded.drop_graph()
        report = await load(loaded, [f])
        assert report.changed and report.quotes == 44
        assert isomorphic(await export_graph(loaded), original), fmt


def _without_loads(fp: tuple[list[dict[str, Any]], list[dict[str, Any]]], study: str | None = None) -> object:
    """The graph but the Load nodes (each load adds one), of one study or all."""
    nodes, rels = fp
    return ([n for n in nodes if "Load" not in n["labels"] and study in (None, n["props"].get("study"))],
            [r for r in rels if not str(r["src"]).startswith("load/")
             and study in (None, str(r["src"]).split("/", 1)[0])])


async def test_a_second_study_loads_beside_the_first(loaded: Store) -> None:
    """The first study comes through whole, properties and relationships (FalkorDB copies it into
    the graph the load writes), and loading the second again changes nothing but the Load nodes."""
    first = _without_loads(await fingerprint(loaded), "link-worker")
    report = await load(loaded, [SECOND])
    assert report.studies == ["allotment"] and report.changed
    assert await names(loaded, "Concept", "allotment") == ["Belonging", "Bolted on", "Fitting in", "Ownership of plots"]
    assert len(await names(loaded, "Concept", "link-worker")) == 6
    assert _without_loads(await fingerprint(loaded), "link-worker") == first
    both = _without_loads(await fingerprint(loaded))
    assert (await load(loaded, [SECOND], force=True)).changed
    assert _without_loads(await fingerprint(loaded)) == both
    studies = await loaded.read(cypher.STUDY_IDS)
    assert [r["study"] for r in studies] == ["allotment", "link-worker"]
    # the two 'Belonging' concepts are different nodes, each in its own study's scheme
    schemes = await loaded.read("MATCH (c:Concept {name: 'Belonging'})-[:IN_SCHEME]->(s) RETURN s.id AS s ORDER BY s")
    assert [r["s"] for r in schemes] == ["allotment/scheme", "link-worker/scheme"]


async def test_fulltext_finds_holding_quotes(loaded: Store) -> None:
    rows = await loaded.fulltext("EvidenceQuote", "holding")
    assert rows and all("holding" in r["node"]["exact"].lower() for r in rows)


def test_a_load_counts_its_triples_as_len_does() -> None:
    """``Prepared.triples`` (what the load report and the Load node say) is ``len()`` of the graph,
    counted from rdflib's index instead of walking every triple; a graph on another store too."""
    from rdflib import Graph

    from kxgraph.loaders.study_store import StudyMemory, triple_count

    prep = prepare([BUNDLED, SECOND])
    assert type(prep.rdf().store) is StudyMemory
    assert prep.triples == len(prep.rdf()) > 700
    other = Graph()
    other += prep.rdf()
    assert triple_count(other) == len(prep.rdf())
    for src in prep.sources:
        assert triple_count(src.graph) == len(src.graph)
