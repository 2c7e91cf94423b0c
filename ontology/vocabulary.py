"""Node labels and relationship types as closed sets, and the projection map read off ``kx.ttl``.

The enums are what code outside ``ontology/`` uses to name labels and types; ``tests/test_ontology.py``
checks that they are exactly the ``kx:graphLabel`` / ``kx:graphType`` values of the Turtle.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from kxgraph.errors import VocabularyError
from kxgraph.ontology.terms import KX

__all__ = [
    "NodeLabel",
    "Projection",
    "RelType",
    "check_label",
    "check_rel_type",
    "claim_labels",
    "label_of_id",
    "ontology_graph",
    "projection",
    "shapes_graph",
    "single_valued",
    "superclasses",
]


class NodeLabel(str, Enum):
    Study = "Study"
    ConceptScheme = "ConceptScheme"
    Concept = "Concept"
    Definition = "Definition"
    Continuum = "Continuum"
    ContinuumStop = "ContinuumStop"
    Stakeholder = "Stakeholder"
    Actor = "Actor"
    Organisation = "Organisation"
    Person = "Person"
    Place = "Place"
    Event = "Event"
    Activity = "Activity"
    DelegateGroup = "DelegateGroup"
    Method = "Method"
    DiscussionPoint = "DiscussionPoint"
    Consequence = "Consequence"
    RoleElement = "RoleElement"
    Placement = "Placement"
    Reflection = "Reflection"
    SourceDocument = "SourceDocument"
    EvidenceQuote = "EvidenceQuote"
    Edit = "Edit"
    Load = "Load"
    Coding = "Coding"
    Note = "Note"
    CodeLink = "CodeLink"
    Collection = "Collection"
    Case = "Case"
    Embedding = "Embedding"


class RelType(str, Enum):
    IN_SCHEME = "IN_SCHEME"
    RELATED_TO = "RELATED_TO"
    PART_OF = "PART_OF"
    AT_LOCATION = "AT_LOCATION"
    MEMBER_OF = "MEMBER_OF"
    IN_DOCUMENT = "IN_DOCUMENT"
    CREATED_BY = "CREATED_BY"
    PUBLISHED_BY = "PUBLISHED_BY"
    ABOUT = "ABOUT"
    USED = "USED"
    GENERATED = "GENERATED"
    EMBEDS = "EMBEDS"
    PRESENTED_BY = "PRESENTED_BY"
    ATTENDED_BY = "ATTENDED_BY"
    REPRESENTS = "REPRESENTS"
    ACTOR_IN = "ACTOR_IN"
    CONDUCTED_BY = "CONDUCTED_BY"
    FUNDED_BY = "FUNDED_BY"
    WORKS_ON = "WORKS_ON"
    USES_METHOD = "USES_METHOD"
    HAS_LEFT_POLE = "HAS_LEFT_POLE"
    HAS_RIGHT_POLE = "HAS_RIGHT_POLE"
    HAS_STOP = "HAS_STOP"
    AT_CONCEPT = "AT_CONCEPT"
    DEFINES = "DEFINES"
    PRESENTS = "PRESENTS"
    RAISED_IN = "RAISED_IN"
    CONCERNS = "CONCERNS"
    AFFECTS = "AFFECTS"
    INVOLVES = "INVOLVES"
    ABOUT_ELEMENT = "ABOUT_ELEMENT"
    OF_CONCEPT = "OF_CONCEPT"
    FOR_STAKEHOLDER = "FOR_STAKEHOLDER"
    PLACES = "PLACES"
    ON_CONTINUUM = "ON_CONTINUUM"
    SUPPORTED_BY = "SUPPORTED_BY"
    BROADER = "BROADER"
    APPLIES_CODE = "APPLIES_CODE"
    CODES_TEXT = "CODES_TEXT"
    ANNOTATES = "ANNOTATES"
    HAS_MEMBER = "HAS_MEMBER"
    MODIFIED_BY = "MODIFIED_BY"
    LINK_FROM = "LINK_FROM"
    LINK_TO = "LINK_TO"


def check_label(value: str | NodeLabel) -> NodeLabel:
    """The label as a member of the closed set, or :class:`VocabularyError`."""
    try:
        return NodeLabel(value)
    except ValueError:
        raise VocabularyError(f"{value!r} is not a node label of the kxgraph ontology") from None


def check_rel_type(value: str | RelType) -> RelType:
    """The relationship type as a member of the closed set, or :class:`VocabularyError`."""
    try:
        return RelType(value)
    except ValueError:
        raise VocabularyError(f"{value!r} is not a relationship type of the kxgraph ontology") from None


def _read(name: str) -> Graph:
    text = resources.files("kxgraph.ontology").joinpath(name).read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


@lru_cache(maxsize=1)
def ontology_graph() -> Graph:
    """The ontology (``kx.ttl``), parsed once on first use."""
    return _read("kx.ttl")


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    """The SHACL shapes (``shapes.ttl``), parsed once on first use."""
    return _read("shapes.ttl")


@dataclass(frozen=True)
class Projection:
    """How RDF maps onto the property graph, as the ontology declares it."""

    labels: dict[URIRef, NodeLabel]          # class IRI -> label
    classes: dict[NodeLabel, URIRef]         # label -> class IRI
    rel_types: dict[URIRef, RelType]         # predicate IRI -> relationship type
    predicates: dict[RelType, URIRef]        # relationship type -> predicate IRI
    keys: dict[URIRef, str]                  # datatype predicate IRI -> property key
    key_predicates: dict[str, URIRef]        # property key -> predicate IRI
    multiple: frozenset[str]                 # keys stored as lists
    segments: dict[str, NodeLabel]           # the part of an id that names its class -> label


@lru_cache(maxsize=1)
def projection() -> Projection:
    g = ontology_graph()
    labels = {URIRef(str(s)): check_label(str(o)) for s, o in g.subject_objects(KX.graphLabel)}
    rel_types = {URIRef(str(s)): check_rel_type(str(o)) for s, o in g.subject_objects(KX.graphType)}
    keys = {URIRef(str(s)): str(o) for s, o in g.subject_objects(KX.graphProperty)}
    multiple = frozenset(keys[URIRef(str(s))] for s in g.subjects(KX.graphMultiple, Literal(True)))
    if RDFS.label not in keys:  # pragma: no cover - guards an edited ontology
        raise VocabularyError("kx.ttl must map rdfs:label to a property key")
    return Projection(
        labels=labels,
        classes={v: k for k, v in labels.items()},
        rel_types=rel_types,
        predicates={v: k for k, v in rel_types.items()},
        keys=keys,
        key_predicates={v: k for k, v in keys.items()},
        multiple=multiple,
        segments={str(o): labels[URIRef(str(s))] for s, o in g.subject_objects(KX.idSegment)},
    )


#: ids of no study: ``load/<slug>``, ``edit/<slug>``
_STUDYLESS = ("load", "edit")


def label_of_id(ident: str) -> NodeLabel | None:
    """The label of the entity an id names, read off the id as the ontology's ``kx:idSegment``s
    shape it (``link-worker/consequence/holding-risks`` -> Consequence), or None when the id has no
    shape the ontology knows. Lets a look-up by id use the label's index."""
    segments = projection().segments
    if ident.endswith("#embedding"):
        return segments.get("embedding")
    parts = ident.split("/")
    if len(parts) >= 3:
        return segments.get(parts[1])
    if len(parts) == 2:
        if parts[0] in _STUDYLESS:
            return segments.get(parts[0])
        return segments.get("scheme") if parts[1] == "scheme" else None
    return None


@lru_cache(maxsize=1)
def superclasses() -> dict[URIRef, frozenset[URIRef]]:
    """Each class of the graph -> every class above it in ``kx.ttl`` (transitively)."""
    onto = ontology_graph()
    direct: dict[URIRef, set[URIRef]] = {}
    for sub, sup in onto.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct.setdefault(sub, set()).add(sup)
    out: dict[URIRef, frozenset[URIRef]] = {}
    for cls in projection().labels:
        seen: set[URIRef] = set()
        stack = list(direct.get(cls, ()))
        while stack:
            c = stack.pop()
            if c not in seen:
                seen.add(c)
                stack.extend(direct.get(c, ()))
        out[cls] = frozenset(seen)
    return out


@lru_cache(maxsize=1)
def single_valued() -> frozenset[tuple[NodeLabel, RelType]]:
    """The relationships a node of a label has at most one of, out of it: ``shapes.ttl`` gives its
    predicate ``sh:maxCount 1`` on the label's class or a class above it. Every load and edit is
    checked against the shapes, so a read may take the one there is without ordering candidates."""
    shapes, proj = shapes_graph(), projection()
    capped: set[tuple[URIRef, URIRef]] = set()  # (target class, predicate)
    for node_shape, prop in shapes.subject_objects(SH.property):
        path = shapes.value(prop, SH.path)
        most = shapes.value(prop, SH.maxCount)
        if not isinstance(path, URIRef) or not isinstance(most, Literal) or int(most.toPython()) > 1:
            continue
        for target in shapes.objects(node_shape, SH.targetClass):
            if isinstance(target, URIRef):
                capped.add((target, path))
    return frozenset((label, rel) for cls, label in proj.labels.items()
                     for target, path in capped if (rel := proj.rel_types.get(path)) is not None
                     and (target == cls or target in superclasses().get(cls, frozenset())))


@lru_cache(maxsize=1)
def claim_labels() -> frozenset[NodeLabel]:
    """The labels of claims (the classes under ``kx:Claim``), which evidence quotes back."""
    proj = projection()
    return frozenset(label for cls, label in proj.labels.items() if KX.Claim in superclasses().get(cls, frozenset()))
