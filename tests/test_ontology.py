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


def test_ids_are_read_by_the_ontology_and_every_writer_mints_them_so() -> None:
    """Every node label has its one ``kx:idSegment``; the study format, the REFI-QDA importer, the
    loader's quotes and the API's edits mint ids with those segments, so the ontology alone tells
    which label an id names (the API's look-ups by id use it)."""
    from kxgraph.loaders.yaml_format import SECTIONS
    from kxgraph.ontology.vocabulary import label_of_id

    proj = projection()
    assert sorted(proj.segments.values(), key=str) == sorted(NodeLabel, key=str)  # one each, all of them
    for section in SECTIONS.values():
        assert proj.segments[section.kind] == proj.labels[section.cls], section.kind
    cases = {"link-worker/consequence/holding-risks": NodeLabel.Consequence,
             "link-worker/quote/exeter-blog/3182-3326": NodeLabel.EvidenceQuote,
             "interviews/concept/5f0c2c1e-0000-4000-8000-000000000001": NodeLabel.Concept,
             "interviews/link/30000000-0000-4000-8000-000000000003": NodeLabel.CodeLink,
             "link-worker/stop/discretion-boundaries-0": NodeLabel.ContinuumStop,
             "link-worker/definition/holding": NodeLabel.Definition,
             "link-worker/scheme": NodeLabel.ConceptScheme,
             "load/2026-12-06T201500-1a2b3c4d": NodeLabel.Load, "edit/2026-12-06T201500-1a2b3c4d": NodeLabel.Edit,
             "link-worker/quote/exeter-blog/3182-3326#embedding": NodeLabel.Embedding}
    for ident, label in cases.items():
        assert label_of_id(ident) == label, ident
    for unknown in ("", "holding", "link-worker/nonsense/x", "nonsense/x"):
        assert label_of_id(unknown) is None, unknown


def test_the_claims_are_the_ontology_s() -> None:
    """The API's lists of claim labels are the classes under kx:Claim (which edits check against)."""
    from kxgraph.api.graphql import types
    from kxgraph.api.graphql.common import CLAIMS
    from kxgraph.ontology.vocabulary import claim_labels

    assert set(CLAIMS) == set(types.CLAIM_LABELS) == claim_labels()
    assert NodeLabel.DiscussionPoint in claim_labels() and NodeLabel.Concept not in claim_labels()
