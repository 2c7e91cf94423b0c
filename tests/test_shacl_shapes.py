"""The shapes pyshacl is given (each property shape standing on its own with its node shape's
targets, which is twice as fast) find exactly what ``shapes.ttl`` as written finds."""

from __future__ import annotations

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, SH, XSD

from kxgraph.loaders.shacl import validation_shapes
from kxgraph.loaders.sources import read_source
from kxgraph.ontology.terms import KX, OA
from kxgraph.ontology.vocabulary import ontology_graph, shapes_graph
from tests.helpers import BUNDLED


def _violations(data: Graph, shapes: Graph) -> list[tuple[str, str, str, str]]:
    from pyshacl import validate

    copy = Graph()  # pyshacl needs a context-aware store; the loader's graphs are SimpleMemory
    copy += data
    _, results, _ = validate(copy, shacl_graph=shapes, ont_graph=ontology_graph(), inference="none",
                             allow_warnings=True)
    return sorted((str(results.value(r, SH.focusNode)), str(results.value(r, SH.resultPath)),
                   str(results.value(r, SH.resultMessage)), str(results.value(r, SH.value)))
                  for r in results.subjects(SH.resultSeverity, SH.Violation))


def test_flattened_shapes_find_the_same_violations() -> None:
    data = read_source(BUNDLED).rdf()
    quotes = sorted(data.subjects(RDF.type, KX.EvidenceQuote))
    claims = sorted(data.subjects(RDF.type, KX.DiscussionPoint))
    named = sorted(s for s in data.subjects(RDFS.label, None) if (s, RDF.type, KX.Stakeholder) in data)
    data.remove((quotes[0], OA.exact, None))                                    # missing
    data.add((quotes[1], OA.end, Literal(0, datatype=XSD.integer)))             # two ends, start not before end
    data.add((quotes[2], KX.documentSha256, Literal("not a checksum")))         # pattern, and two values
    data.remove((claims[0], KX.supportedBy, None))                              # a claim without evidence
    data.add((claims[1], KX.supportedBy, named[0]))                             # evidence of the wrong class
    data.remove((named[1], RDFS.label, None))                                   # a stakeholder without a name
    as_written = _violations(data, shapes_graph())
    assert len({v[:2] for v in as_written}) == 7  # every change above is found
    assert _violations(data, validation_shapes()) == as_written
    assert not list(validation_shapes().subject_objects(SH.property))  # every property shape stands alone


def test_validation_leaves_the_data_as_it_was() -> None:
    import pytest

    from kxgraph.errors import ValidationError
    from kxgraph.loaders.shacl import validate

    data = read_source(BUNDLED).rdf()
    before = set(data)
    validate(data, file="study.yaml")  # conforms
    assert set(data) == before
    quote = sorted(data.subjects(RDF.type, KX.EvidenceQuote))[0]
    data.remove((quote, OA.exact, None))
    broken = set(data)
    with pytest.raises(ValidationError, match="a quote has its exact text"):
        validate(data, file="study.yaml")
    assert set(data) == broken  # nothing the ontology lent the check is left behind
