"""The store back to RDF: every node and relationship of the studies, in the kxgraph ontology."""

from __future__ import annotations

from rdflib import RDF, Graph, URIRef

from kxgraph.graph import cypher
from kxgraph.graph.store import Store
from kxgraph.loaders.projection import STRUCTURAL_KEYS
from kxgraph.loaders.standalone import stable_json_ld, with_entailments
from kxgraph.loaders.yaml_format import OA, literal
from kxgraph.ontology.terms import DATA, KX
from kxgraph.ontology.vocabulary import NodeLabel, RelType, projection

__all__ = ["FORMATS", "export_graph", "serialize"]

FORMATS = {"turtle": "turtle", "json-ld": "json-ld"}


async def export_graph(store: Store, studies: list[str] | None = None) -> Graph:
    """The served graph as RDF (loads' provenance left out); ``studies`` to keep only some."""
    proj = projection()
    g = Graph()
    g.bind("kx", KX._NS)
    g.bind("oa", OA)
    g.bind("data", DATA)
    keep = set(studies) if studies else None
    for row in await store.read(cypher.EXPORT_NODES):
        props = row["props"]
        if keep is not None and props.get("study") not in keep:
            continue
        subject = DATA[props["id"]]
        label = NodeLabel(row["labels"][0])
        g.add((subject, RDF.type, proj.classes[label]))
        for key, value in props.items():
            if key in STRUCTURAL_KEYS:
                continue
            predicate = proj.key_predicates[key]
            for v in value if isinstance(value, list) else [value]:
                g.add((subject, predicate, literal(v)))
    for row in await store.read(cypher.EXPORT_RELATIONSHIPS):
        if keep is not None and row["src"].split("/", 1)[0] not in keep:
            continue
        g.add((DATA[row["src"]], URIRef(proj.predicates[RelType(row["type"])]), DATA[row["dst"]]))
    return g


def serialize(g: Graph, fmt: str) -> str:
    """The graph as a file that stands alone (:mod:`kxgraph.loaders.standalone`): Turtle, or
    JSON-LD in one order."""
    full = with_entailments(g)
    if FORMATS[fmt] == "json-ld":
        return stable_json_ld(full)
    return full.serialize(format=FORMATS[fmt])
