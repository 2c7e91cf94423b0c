"""Colours and shapes by kind, the same in every picture and its legend."""

from __future__ import annotations

__all__ = ["NEGATIVE", "POSITIVE", "STYLE", "style_of"]

#: valence: blue and vermillion (told apart with every colour vision), negative edges dashed too
POSITIVE = "#0072b2"
NEGATIVE = "#d55e00"

# Okabe & Ito's and Paul Tol's colour-blind-safe palettes; kinds that share a colour differ in shape
STYLE: dict[str, tuple[str, str]] = {  # kind -> (colour, vis-network shape)
    "Study": ("#332288", "box"),
    "ConceptScheme": ("#332288", "box"),
    "Concept": ("#0072b2", "dot"),
    "Continuum": ("#cc79a7", "diamond"),
    "Definition": ("#56b4e9", "box"),
    "Stakeholder": ("#e69f00", "square"),
    "Actor": ("#e69f00", "triangleDown"),
    "DelegateGroup": ("#e69f00", "ellipse"),
    "Event": ("#009e73", "star"),
    "Activity": ("#009e73", "triangle"),
    "DiscussionPoint": ("#b85000", "box"),
    "Consequence": ("#882255", "box"),
    "Placement": ("#cc79a7", "box"),
    "Reflection": ("#999999", "box"),
    "Method": ("#666666", "box"),
    "RoleElement": ("#ddcc77", "ellipse"),
    "EvidenceQuote": ("#f0e442", "box"),
    "SourceDocument": ("#000000", "box"),
    "Person": ("#44aa99", "ellipse"),
    "Organisation": ("#117733", "ellipse"),
    "Place": ("#117733", "triangle"),
}


def style_of(kind: str) -> tuple[str, str]:
    return STYLE.get(kind, ("#757575", "dot"))
