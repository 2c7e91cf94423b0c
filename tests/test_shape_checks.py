"""The shapes compiled into plain checks (``loaders/shape_checks.py``) find exactly what pyshacl
finds — the same (focus node, path, message, value) results, as many times each — on every study
and broken input of the suite and on damage generated at random; the loader uses them."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from kxgraph.errors import InputError, ValidationError
from kxgraph.loaders import shacl
from kxgraph.loaders.shape_checks import NotCompiled, compiled_shapes, run
from kxgraph.loaders.sources import read_source
from kxgraph.loaders.study_store import study_graph
from kxgraph.ontology.terms import KX
from kxgraph.ontology.vocabulary import ontology_graph
from tests.helpers import BUNDLED, ROOT

STUDIES = [BUNDLED, ROOT / "tests" / "data" / "garden-study", ROOT / "tests" / "data" / "hostile-study"]
BROKEN = sorted((ROOT / "tests" / "bad_inputs" / "files").iterdir())


def both(data: Graph, focus: list[URIRef] | None = None) -> tuple[Counter[str], Counter[str]]:
    shapes = compiled_shapes(shacl.validation_shapes())
    assert shapes is not None, "every shape of ontology/shapes.ttl compiles"
    size = len(data)
    compiled = Counter(map(repr, run(shapes, data, ontology_graph(), focus)))
    assert len(data) == size  # nothing lent to the check is left in the data
    return compiled, Counter(map(repr, shacl.pyshacl_results(data, focus)))


def test_every_shape_compiles_and_none_is_left_out() -> None:
    shapes = compiled_shapes(shacl.validation_shapes())
    assert shapes is not None
    flat = shacl.validation_shapes()
    assert len(shapes) == len(set(flat.subjects(SH.path, None)))
    assert sum(len(s.checks) for s in shapes) >= 100  # minCount, maxCount, class... one check each


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.name)
def test_the_same_results_as_pyshacl_on_every_study(path: Path) -> None:
    compiled, reference = both(read_source(path).rdf())
    assert compiled == reference


def test_the_same_results_as_pyshacl_on_every_broken_input_that_reaches_validation() -> None:
    reached = []
    for path in BROKEN:
        try:
            data = read_source(path).rdf()
        except InputError:
            continue  # refused before validation (tests/test_bad_inputs.py checks the message)
        compiled, reference = both(data)
        assert compiled == reference, path.name
        reached.append((path.name, sum(reference.values())))
    assert len(reached) >= 4 and sum(n for _, n in reached) >= 3, reached  # the shacl-* cases among them


KINDS = [KX.EvidenceQuote, KX.DiscussionPoint, KX.Consequence, KX.Concept, KX.Continuum, KX.ContinuumStop,
         KX.Stakeholder, KX.Event, KX.Activity, KX.SourceDocument, KX.Placement, KX.Definition]


def values(nodes: list[URIRef]) -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(nodes), st.builds(BNode),
        st.sampled_from([Literal(""), Literal("positive"), Literal("negative", datatype=XSD.string),
                         Literal("x", lang="en"), Literal(-1), Literal(0), Literal(7), Literal("12", datatype=XSD.integer),
                         Literal("abc", datatype=XSD.integer), Literal("0.5", datatype=XSD.decimal),
                         Literal("1.5", datatype=XSD.decimal), Literal(0.5), Literal("a" * 64), Literal("f" * 64),
                         Literal(True), URIRef("https://example.org/elsewhere")]))


@cache
def bundled_graph() -> Graph:
    return read_source(BUNDLED).rdf()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_same_results_as_pyshacl_on_damage(data: st.DataObject) -> None:
    # rdflib's SimpleMemory, or the one the loader's graphs use (whose indexes the checks read)
    graph = study_graph() if data.draw(st.booleans(), label="the loader's store") else Graph(store="SimpleMemory")
    graph += bundled_graph()
    nodes = sorted({s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)})
    paths = sorted({p for p in shacl.validation_shapes().objects(None, SH.path) if isinstance(p, URIRef)})
    triples = sorted(graph)
    for _ in range(data.draw(st.integers(0, 6), label="removed")):
        graph.remove(data.draw(st.sampled_from(triples)))
    for _ in range(data.draw(st.integers(0, 6), label="added")):
        graph.add((data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(paths)), data.draw(values(nodes))))
    for _ in range(data.draw(st.integers(0, 2), label="retyped")):
        graph.add((data.draw(st.sampled_from(nodes)), RDF.type, data.draw(st.sampled_from(KINDS))))
    if data.draw(st.booleans(), label="a class of the data's own"):
        thing = URIRef("https://example.org/ns#Thing")
        graph.add((thing, RDFS.subClassOf, KX.EvidenceQuote))
        graph.add((data.draw(st.sampled_from(nodes)), RDF.type, thing))
    focus = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(nodes), max_size=4)), label="focus")
    try:
        compiled, reference = both(graph, focus)
    except NotCompiled:
        return  # a blank node compared by sh:lessThan: pyshacl alone answers (test below)
    assert compiled == reference


def test_what_the_checks_do_not_read_goes_to_pyshacl() -> None:
    data = read_source(BUNDLED).rdf()
    quote = sorted(data.subjects(RDF.type, KX.EvidenceQuote))[0]
    data.add((quote, URIRef("http://www.w3.org/ns/oa#end"), BNode()))
    shapes = compiled_shapes(shacl.validation_shapes())
    assert shapes is not None
    with pytest.raises(NotCompiled):
        run(shapes, data, ontology_graph())
    with pytest.raises(Exception, match="BlankNode"):  # pyshacl's own answer, as before
        shacl.validate(data, file="study.ttl")


def test_the_loader_validates_with_the_compiled_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("pyshacl was asked")

    monkeypatch.setattr(shacl, "pyshacl_results", refuse)
    data = read_source(BUNDLED).rdf()
    shacl.validate(data, file="study.yaml")
    quote = sorted(data.subjects(RDF.type, KX.EvidenceQuote))[0]
    data.remove((quote, URIRef("http://www.w3.org/ns/oa#exact"), None))
    with pytest.raises(ValidationError, match="a quote has its exact text"):
        shacl.validate(data, file="study.yaml")
