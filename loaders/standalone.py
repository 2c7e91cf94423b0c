"""RDF that stands alone: what an exported file states beyond the graph, and how a read takes it off.

The graph holds each fact once; a Turtle or JSON-LD file read without ``ontology/kx.ttl`` beside it
needs what the ontology would let a reasoner derive. :func:`with_entailments` adds it on export:

- every superclass type of an entity (a ``kx:Concept`` is also a ``skos:Concept``, a ``kx:Event`` a
  ``prov:Activity``), so SKOS tools find the concepts and SHACL's ``sh:class`` holds on the file alone;
- ``skos:related`` both ways (it is symmetric), ``skos:narrower`` for every ``skos:broader``;
- ``skos:topConceptOf`` / ``skos:hasTopConcept`` for each concept of a scheme with no broader one there.

:func:`without_entailments` removes exactly these when such a file is read back, and the PROV-O
record of the loads and edits that made the studies (the read records a load of its own), so that a
round trip gives the graph it started from. :func:`stable_json_ld` writes JSON-LD in one order (rdflib's
follows the run's hash seed).
"""

from __future__ import annotations

import json
from typing import Any

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SKOS

from kxgraph.ontology.terms import KX
from kxgraph.ontology.vocabulary import projection, superclasses

__all__ = ["stable_json_ld", "with_entailments", "without_entailments"]

#: what the export derives from another triple; a read drops them all (``skos:related`` aside)
DERIVED_PREDICATES = (SKOS.narrower, SKOS.topConceptOf, SKOS.hasTopConcept)


def with_entailments(g: Graph) -> Graph:
    """A copy of ``g`` with what a reader without the ontology needs (see the module's docstring)."""
    out = Graph()
    for prefix, ns in g.namespaces():
        out.bind(prefix, ns, override=True)
    out += g
    supers = superclasses()
    for s, cls in g.subject_objects(RDF.type):
        for sup in supers.get(URIRef(str(cls)), ()):
            out.add((s, RDF.type, sup))
    for a, b in g.subject_objects(SKOS.related):
        out.add((b, SKOS.related, a))
    broader = set(g.subject_objects(SKOS.broader))
    for a, b in broader:
        out.add((b, SKOS.narrower, a))
    for concept, scheme in g.subject_objects(SKOS.inScheme):
        if not any((concept, SKOS.broader, p) in g and (p, SKOS.inScheme, scheme) in g
                   for p in g.objects(concept, SKOS.broader)):
            out.add((concept, SKOS.topConceptOf, scheme))
            out.add((scheme, SKOS.hasTopConcept, concept))
    return out


def without_entailments(g: Graph) -> Graph:
    """``g`` without what :func:`with_entailments` adds: the superclass types of entities that have a
    class of the graph, the derived SKOS links, and ``skos:related`` kept one way per pair."""
    for activity in {s for cls in (KX.Load, KX.Edit) for s in g.subjects(RDF.type, cls)}:
        g.remove((activity, None, None))
    supers = superclasses()
    labels = projection().labels
    for s in set(g.subjects(RDF.type)):
        types = {URIRef(str(t)) for t in g.objects(s, RDF.type)}
        own = [t for t in types if t in labels]
        if not own:
            continue
        implied = frozenset().union(*(supers.get(t, frozenset()) for t in own))
        for t in types - set(own):
            if t in implied:
                g.remove((s, RDF.type, t))
    for p in DERIVED_PREDICATES:
        g.remove((None, p, None))
    for a, b in list(g.subject_objects(SKOS.related)):
        if str(a) > str(b) and (b, SKOS.related, a) in g:
            g.remove((a, SKOS.related, b))
    return g


def _sorted_json(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _sorted_json(v) for k, v in sorted(node.items())}
    if isinstance(node, list):
        items = [_sorted_json(v) for v in node]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


def stable_json_ld(g: Graph) -> str:
    """JSON-LD with nodes and values in one order, so the same graph always gives the same text."""
    data = json.loads(g.serialize(format="json-ld"))
    return json.dumps(_sorted_json(data), indent=2, ensure_ascii=False) + "\n"
