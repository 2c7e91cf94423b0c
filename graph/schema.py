"""What the store must index: unique keys, range indexes and full-text indexes, by label."""

from __future__ import annotations

from dataclasses import dataclass

from kxgraph.ontology.vocabulary import NodeLabel, check_label

__all__ = ["FULLTEXT_FIELDS", "GraphSchema", "default_schema"]

#: The properties full-text search looks in, per label.
FULLTEXT_FIELDS: dict[NodeLabel, tuple[str, ...]] = {
    NodeLabel.EvidenceQuote: ("exact",),
    NodeLabel.DiscussionPoint: ("text",),
    NodeLabel.Concept: ("name", "definition"),
    NodeLabel.Consequence: ("text",),
}



@dataclass(frozen=True)
class GraphSchema:
    unique_keys: tuple[tuple[NodeLabel, str], ...]
    range_indexes: tuple[tuple[NodeLabel, str], ...]
    fulltext: tuple[tuple[NodeLabel, tuple[str, ...]], ...]

    def __post_init__(self) -> None:
        for label, _ in (*self.unique_keys, *self.range_indexes, *self.fulltext):
            check_label(label)


def default_schema() -> GraphSchema:
    """Every label keyed by ``id`` and indexed by ``study`` (lists filter by it, reloads delete by
    it); names indexed for look-ups; the full-text fields above."""
    return GraphSchema(
        unique_keys=tuple((label, "id") for label in NodeLabel),
        range_indexes=((NodeLabel.Concept, "name"), (NodeLabel.Stakeholder, "name"),
                       (NodeLabel.EvidenceQuote, "documentSha256"),
                       *((label, "study") for label in NodeLabel),
                       # nodes added through the API (origin 'api') are found without a scan
                       (NodeLabel.EvidenceQuote, "origin"), (NodeLabel.DiscussionPoint, "origin")),
        fulltext=tuple(FULLTEXT_FIELDS.items()),
    )
