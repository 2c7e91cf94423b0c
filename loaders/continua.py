"""Continua and their stops. A continuum spans ordered stops, each a concept: two (its poles, as
``left``/``right`` in a study file) or more (``stops: [bolted-on, fitting-in, belonging]``). Every
continuum gets one ``kx:ContinuumStop`` per stop, with its place in the order (``kx:ordinal``) and
its position from 0 (the first stop, the left pole) to 1 (the last, the right pole), evenly spaced,
the scale a placement's ``position`` is on. RDF written before stops existed has poles only:
:func:`complete_continua` gives it the two stops its poles make, so every continuum reads the same."""

from __future__ import annotations

from collections.abc import Sequence

from rdflib import RDF, Graph, Literal, URIRef

from kxgraph.loaders.projection import node_id
from kxgraph.ontology.terms import DATA, KX

__all__ = ["complete_continua", "stop_iri", "write_stops"]


def stop_iri(continuum: URIRef, ordinal: int) -> URIRef:
    """``…/link-worker/continuum/discretion`` -> ``…/link-worker/stop/discretion-0``."""
    study, _kind, slug = node_id(continuum).split("/", 2)
    return DATA[f"{study}/stop/{slug}-{ordinal}"]


def write_stops(g: Graph, continuum: URIRef, concepts: Sequence[URIRef]) -> list[URIRef]:
    """The poles (first and last) and a stop per concept, in order; the stops' IRIs."""
    from kxgraph.ontology.terms import literal

    g.add((continuum, KX.leftPole, concepts[0]))
    g.add((continuum, KX.rightPole, concepts[-1]))
    last = len(concepts) - 1
    stops = []
    for ordinal, concept in enumerate(concepts):
        stop = stop_iri(continuum, ordinal)
        for p, o in ((RDF.type, KX.ContinuumStop), (KX.stopConcept, concept), (KX.ordinal, Literal(ordinal)),
                     (KX.position, literal(ordinal / last if last else 0.0))):
            g.add((stop, p, o))
        g.add((continuum, KX.hasStop, stop))
        stops.append(stop)
    return stops


def complete_continua(g: Graph) -> None:
    """Each continuum with poles and no stops gets the two stops its poles make."""
    for continuum in set(g.subjects(RDF.type, KX.Continuum)):
        if g.value(continuum, KX.hasStop) is not None or not isinstance(continuum, URIRef):
            continue
        left, right = g.value(continuum, KX.leftPole), g.value(continuum, KX.rightPole)
        if isinstance(left, URIRef) and isinstance(right, URIRef):
            write_stops(g, continuum, [left, right])
