"""Continua with any number of ordered stops (the allotment study's bolted on → fitting in →
belonging), on both stores: read through GraphQL, kept through RDF and .qdpx, RDF written before
stops existed read the same, and mistakes in 'stops' said with their place and fix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rdflib import RDF, Graph
from rdflib.compare import isomorphic

from kxgraph.errors import InputError
from kxgraph.graph.store import Store
from kxgraph.loaders.export import export_graph, serialize
from kxgraph.loaders.pipeline import load, prepare
from kxgraph.loaders.refi_export import to_qdpx
from kxgraph.loaders.yaml_format import read_study_file
from kxgraph.ontology.terms import KX
from tests.helpers import BUNDLED, SECOND, both, fingerprint, shared_load

pytestmark = pytest.mark.anyio
STOPS = """query($id: ID!) { continuum(id: $id) { name left { name } right { name }
  stops { ordinal position concept { id name } continuum { id } } } }"""


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
async def studies(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Store]:
    async with shared_load(request, [BUNDLED, SECOND]) as s:
        yield s


async def test_a_continuum_of_three_stops_reads_in_order(studies: Store) -> None:
    data = await both(studies, STOPS, {"id": "allotment/continuum/settling-in"})
    k = data["continuum"]
    assert [(s["ordinal"], s["position"], s["concept"]["name"]) for s in k["stops"]] == \
        [(0, 0.0, "Bolted on"), (1, 0.5, "Fitting in"), (2, 1.0, "Belonging")]
    assert k["left"]["name"] == "Bolted on" and k["right"]["name"] == "Belonging"
    assert {s["continuum"]["id"] for s in k["stops"]} == {"allotment/continuum/settling-in"}
    middle = await both(studies, "query { concept(id: \"allotment/concept/fitting-in\") { continua { id } } }")
    assert middle["concept"]["continua"] == [{"id": "allotment/continuum/settling-in"}]  # a stop between, too
    # a continuum of two poles has the two stops they make
    poles = await both(studies, STOPS, {"id": "link-worker/continuum/discretion-boundaries"})
    stops = poles["continuum"]["stops"]
    assert [(s["position"], s["concept"]["name"]) for s in stops] == \
        [(0.0, poles["continuum"]["left"]["name"]), (1.0, poles["continuum"]["right"]["name"])]


async def test_stops_come_back_through_rdf_and_qdpx(store: Store, tmp_path: Path) -> None:
    await load(store, [SECOND])
    before = await fingerprint(store)
    ttl = tmp_path / "allotment.ttl"
    ttl.write_text(serialize(await export_graph(store), "turtle"), encoding="utf-8")
    qdpx = tmp_path / "allotment.qdpx"
    qdpx.write_bytes(to_qdpx(await export_graph(store, ["allotment"]), "allotment").data)

    def content(fp: tuple[list[dict[str, object]], list[dict[str, object]]]) -> object:
        return ([n for n in fp[0] if "Load" not in n["labels"]],  # type: ignore[operator]
                [r for r in fp[1] if not str(r["src"]).startswith("load/")])
    for path in (ttl, qdpx):
        await store.drop_graph()
        await load(store, [path])
        assert content(await fingerprint(store)) == content(before), path.name
    stops = await store.read("MATCH (:Continuum)-[:HAS_STOP]->(s:ContinuumStop)-[:AT_CONCEPT]->(c:Concept) "
                             "RETURN s.ordinal AS i, c.name AS name ORDER BY i")
    assert [r["name"] for r in stops] == ["Bolted on", "Fitting in", "Belonging"]


def test_rdf_written_before_stops_reads_as_the_same_graph(tmp_path: Path) -> None:
    """An export of poles only (as kxgraph wrote before continua had stops) gets the stops its
    poles make, the graph a study file of 'left' and 'right' gives."""
    now = prepare([BUNDLED]).rdf()
    old = Graph()
    for t in now:
        if t[1] not in (KX.hasStop, KX.stopConcept) and (t[0], RDF.type, KX.ContinuumStop) not in now:
            old.add(t)
    assert len(old) < len(now)
    path = tmp_path / "old.ttl"
    path.write_text(old.serialize(format="turtle"), encoding="utf-8")
    again = prepare([path]).rdf()
    drop = lambda g: {t for t in g if "/load/" not in str(t[0]) and "/load/" not in str(t[2])}  # noqa: E731
    mine, theirs = Graph(), Graph()
    for t in drop(now):
        mine.add(t)
    for t in drop(again):
        theirs.add(t)
    made = {t for t in theirs if (t[0], RDF.type, KX.ContinuumStop) in again}
    assert made and made == {t for t in mine if (t[0], RDF.type, KX.ContinuumStop) in now}
    assert isomorphic(mine, theirs)


CASES = {
    "one stop": ("stops: [a]", "continua[0] (id 'k').stops", "names 1 concept(s): a continuum needs two at least"),
    "a stop twice": ("stops: [a, b, a]", "continua[0] (id 'k').stops", "'a' is in 'stops' twice"),
    "left is not the first stop": ("stops: [a, b]\n    left: b", "continua[0] (id 'k').left",
                                   "'left' is 'b' but the first of 'stops' is 'a'"),
    "no poles": ("description: none", "continua[0] (id 'k')", "a continuum needs its poles"),
    "a stop that is no concept": ("stops: [a, nope]", "continua[0] (id 'k').stops[1]", "'nope' is not an id"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mistakes_in_stops_are_said_with_place_and_fix(tmp_path: Path, case: str) -> None:
    body, place, said = CASES[case]
    study = tmp_path / "study.yaml"
    study.write_text(f"""kxgraph: 1
study: {{id: s, name: S}}
concepts:
  - {{id: a, name: A}}
  - {{id: b, name: B}}
continua:
  - id: k
    name: K
    {body}
""", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_study_file(study)
    text = str(err.value)
    assert f"{study}, {place}: " in text and said in text and "fix: " in text, text
