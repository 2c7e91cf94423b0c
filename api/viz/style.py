"""Colours and shapes by kind, the same in every picture and its legend."""

from __future__ import annotations

__all__ = ["NEGATIVE", "POSITIVE", "STYLE", "style_of"]

POSITIVE = "#2e7d32"
NEGATIVE = "#c62828"

STYLE: dict[str, tuple[str, str]] = {  # kind -> (colour, vis-network shape)
    "Study": ("#37474f", "box"),
    "Concept": ("#1565c0", "dot"),
    "Continuum": ("#6a1b9a", "diamond"),
    "Definition": ("#0277bd", "box"),
    "Stakeholder": ("#ef6c00", "square"),
    "Actor": ("#8d6e63", "square"),
    "Event": ("#00838f", "star"),
    "Activity": ("#26a69a", "triangle"),
    "DiscussionPoint": ("#5d4037", "box"),
    "Consequence": ("#ad1457", "box"),
    "Placement": ("#7b1fa2", "box"),
    "RoleElement": ("#9e9d24", "ellipse"),
    "Reflection": ("#546e7a", "box"),
    "EvidenceQuote": ("#f9a825", "box"),
    "SourceDocument": ("#424242", "box"),
    "Person": ("#4e342e", "ellipse"),
    "Organisation": ("#455a64", "ellipse"),
    "Place": ("#2e7d32", "ellipse"),
    "DelegateGroup": ("#ff8f00", "ellipse"),
    "Method": ("#6d4c41", "box"),
    "ConceptScheme": ("#1565c0", "box"),
}


def style_of(kind: str) -> tuple[str, str]:
    return STYLE.get(kind, ("#757575", "dot"))
