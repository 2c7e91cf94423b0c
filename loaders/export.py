"""The store back to RDF: every node and relationship of the studies, in the kxgraph ontology."""

from __future__ import annotations

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import PROV

from kxgraph.graph import cypher
from kxgraph.graph.store import Store
from kxgraph.loaders.projection import STRUCTURAL_KEYS
from kxgraph.loaders.standalone import stable_json_ld, with_entailments
from kxgraph.ontology.terms import DATA, KX, OA, literal
from kxgraph.ontology.vocabulary import NodeLabel, RelType, projection

__all__ = ["FORMATS", "export_graph", "serialize"]

FORMATS = {"turtle": "turtle", "json-ld": "json-ld"}


async def export_graph(store: Store, studies: list[str] | None = None, *, provenance: bool = False) -> Graph:
    """The served graph as RDF; ``studies`` to keep only some. With ``provenance``, the loads and
    edits that made them too, as PROV-O activities (what they used and generated, when, by whom):
    a reader of the file sees where each study came from; kxgraph, reading it back, records a load
    of its own instead (:mod:`kxgraph.loaders.standalone` takes them off)."""
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
    if provenance:
        await _provenance(store, g, studies)
    return g


#: times of activities, typed as PROV-O has them
TIMES = {PROV.startedAtTime, PROV.endedAtTime}


async def _provenance(store: Store, g: Graph, studies: list[str] | None) -> None:
    proj = projection()
    for row in await store.read(cypher.EXPORT_PROVENANCE, {"studies": studies}):
        props = row["props"]
        subject = DATA[props["id"]]
        g.add((subject, RDF.type, proj.classes[NodeLabel(row["labels"][0])]))
        for key, value in props.items():
            if key in STRUCTURAL_KEYS:
                continue
            predicate = proj.key_predicates[key]
            for v in value if isinstance(value, list) else [value]:
                g.add((subject, predicate, Literal(v, datatype=XSD.dateTime) if predicate in TIMES else literal(v)))
        g.add((subject, URIRef(proj.predicates[RelType(row["type"])]), DATA[row["dst"]]))


def serialize(g: Graph, fmt: str) -> str:
    """The graph as a file that stands alone (:mod:`kxgraph.loaders.standalone`): Turtle, or
    JSON-LD in one order."""
    full = with_entailments(g)
    if FORMATS[fmt] == "json-ld":
        return stable_json_ld(full)
    return full.serialize(format=FORMATS[fmt])
