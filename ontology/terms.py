"""The ``kx:`` namespace as a closed set of terms: ``KX.Concept`` works, ``KX.Concpet`` raises.

Kept equal to ``kx.ttl`` by ``tests/test_ontology.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import DefinedNamespace, Namespace

__all__ = ["DATA", "KX", "KX_NS", "OA", "literal"]

KX_NS = "https://w3id.org/kxgraph/ns#"

#: Where the IRIs of data (studies, concepts, quotes...) live.
DATA = Namespace("https://w3id.org/kxgraph/id/")
#: The Web Annotation vocabulary: a quote's source, exact text and offsets.
OA = Namespace("http://www.w3.org/ns/oa#")


def literal(value: Any) -> Literal:
    """A Python value as the one literal kxgraph writes for it (loader and export agree)."""
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value)
    if isinstance(value, float | Decimal):
        return Literal(Decimal(repr(float(value))))
    return Literal(str(value))


class KX(DefinedNamespace):
    _NS = Namespace(KX_NS)
    _fail = True

    # projection annotations
    graphLabel: URIRef
    graphType: URIRef
    graphProperty: URIRef
    graphMultiple: URIRef
    idSegment: URIRef

    # classes
    Claim: URIRef
    Study: URIRef
    ConceptScheme: URIRef
    Concept: URIRef
    Definition: URIRef
    Continuum: URIRef
    ContinuumStop: URIRef
    Stakeholder: URIRef
    Actor: URIRef
    Organisation: URIRef
    Person: URIRef
    Place: URIRef
    Event: URIRef
    Activity: URIRef
    DelegateGroup: URIRef
    Method: URIRef
    DiscussionPoint: URIRef
    Consequence: URIRef
    RoleElement: URIRef
    Placement: URIRef
    Reflection: URIRef
    SourceDocument: URIRef
    EvidenceQuote: URIRef
    Edit: URIRef
    Coding: URIRef
    Note: URIRef
    CodeLink: URIRef
    Collection: URIRef
    Case: URIRef
    Load: URIRef
    TextEmbedding: URIRef

    # object properties
    embeds: URIRef
    modifiedBy: URIRef
    linkOrigin: URIRef
    linkTarget: URIRef
    presenter: URIRef
    attendedBy: URIRef
    represents: URIRef
    actorIn: URIRef
    conductedBy: URIRef
    fundedBy: URIRef
    worksOn: URIRef
    usesMethod: URIRef
    leftPole: URIRef
    rightPole: URIRef
    hasStop: URIRef
    stopConcept: URIRef
    defines: URIRef
    presents: URIRef
    raisedIn: URIRef
    concerns: URIRef
    affects: URIRef
    involves: URIRef
    aboutElement: URIRef
    ofConcept: URIRef
    forStakeholder: URIRef
    placesElement: URIRef
    onContinuum: URIRef
    supportedBy: URIRef
    appliesCode: URIRef
    codesText: URIRef
    annotates: URIRef
    hasMember: URIRef

    # datatype properties
    text: URIRef
    valence: URIRef
    position: URIRef
    kind: URIRef
    aim: URIRef
    duration: URIRef
    content: URIRef
    ordinal: URIRef
    status: URIRef
    grantNumber: URIRef
    sha256: URIRef
    documentSha256: URIRef
    length: URIRef
    path: URIRef
    file: URIRef
    tripleCount: URIRef
    nodeCount: URIRef
    relationshipCount: URIRef
    quoteCount: URIRef
    operation: URIRef
    agentName: URIRef
    editedStudy: URIRef
    editEntry: URIRef
    guid: URIRef
    colour: URIRef
    codable: URIRef
    attributes: URIRef
    software: URIRef
    direction: URIRef
    variables: URIRef
    anchorStatus: URIRef
    anchorScore: URIRef
