"""The Python vocabulary and the Turtle ontology say the same thing."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, Graph, URIRef

from kxgraph.errors import VocabularyError
from kxgraph.ontology.terms import KX, KX_NS
from kxgraph.ontology.vocabulary import (
    NodeLabel,
    RelType,
    check_label,
    check_rel_type,
    ontology_graph,
    projection,
)


def kx_terms(g: Graph) -> set[str]:
    return {str(s)[len(KX_NS):] for s in set(g.subjects()) if isinstance(s, URIRef)
            and str(s).startswith(KX_NS)}


def test_python_terms_are_exactly_the_turtle_terms() -> None:
    declared = set(KX.__annotations__)
    assert declared == kx_terms(ontology_graph())


def test_a_typo_in_a_term_is_an_error() -> None:
    assert str(KX.Concept) == KX_NS + "Concept"
    with pytest.raises(AttributeError):
        _ = KX.Concpet


def test_labels_and_types_are_exactly_the_ontology_annotations() -> None:
    p = projection()
    assert set(p.labels.values()) == set(NodeLabel)
    assert set(p.rel_types.values()) == set(RelType)
    assert len(p.labels) == len(NodeLabel), "two classes share a label"
    assert len(p.rel_types) == len(RelType), "two properties share a relationship type"
    assert len(p.keys) == len(set(p.keys.values())), "two properties share a key"


def test_every_labelled_kx_class_is_an_owl_class() -> None:
    g = ontology_graph()
    for cls in projection().labels:
        if str(cls).startswith(KX_NS):
            assert (cls, RDF.type, OWL.Class) in g, cls


@pytest.mark.parametrize("bad", ["concept", "Concept ", "Foo", "Concept:Admin", ""])
def test_check_label_refuses_anything_outside_the_closed_set(bad: str) -> None:
    with pytest.raises(VocabularyError):
        check_label(bad)
    with pytest.raises(VocabularyError):
        check_rel_type(bad)
