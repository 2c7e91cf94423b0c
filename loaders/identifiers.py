"""Entity ids: ``<study>/<kind>/<slug>`` (the IRI below the data namespace). The kind tells the
label, so a look-up by id can use the label's index."""

from __future__ import annotations

from kxgraph.loaders.yaml_format import SECTIONS
from kxgraph.ontology.vocabulary import NodeLabel, projection

__all__ = ["label_of_id"]


def _kinds() -> dict[str, NodeLabel]:
    proj = projection()
    kinds = {s.kind: proj.labels[s.cls] for s in SECTIONS.values()}
    kinds.update(definition=NodeLabel.Definition, quote=NodeLabel.EvidenceQuote,
                 scheme=NodeLabel.ConceptScheme, coding=NodeLabel.Coding, note=NodeLabel.Note,
                 collection=NodeLabel.Collection, case=NodeLabel.Case, stop=NodeLabel.ContinuumStop)
    return kinds


def label_of_id(ident: str) -> NodeLabel | None:
    """The label an id belongs to, or None when the id has no known shape."""
    parts = ident.split("/")
    if len(parts) >= 3:
        return _kinds().get(parts[1])
    if len(parts) == 2:
        return {"load": NodeLabel.Load, "edit": NodeLabel.Edit}.get(parts[0]) or \
            (NodeLabel.ConceptScheme if parts[1] == "scheme" else None)
    return None
