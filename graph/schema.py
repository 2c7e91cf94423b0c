"""What the store must index: unique keys, range indexes and full-text indexes, by label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kxgraph.ontology.vocabulary import NodeLabel, check_label

__all__ = ["FULLTEXT_FIELDS", "SEARCH_KEY", "VECTOR_DIMENSIONS", "VECTOR_KEY", "VECTOR_LABEL", "GraphSchema",
           "default_schema", "search_text"]

#: The properties full-text search looks in, per label.
FULLTEXT_FIELDS: dict[NodeLabel, tuple[str, ...]] = {
    NodeLabel.EvidenceQuote: ("exact",),
    NodeLabel.DiscussionPoint: ("text",),
    NodeLabel.Concept: ("name", "definition"),
    NodeLabel.Consequence: ("text",),
}
#: the one property the full-text indexes cover: the fields above, joined, with every run of
#: white space (line breaks, tabs) one space. FalkorDB's tokenizer splits words at spaces and
#: punctuation but not at line breaks, so "they\nwaited" would be one word there.
SEARCH_KEY = "searchText"


def search_text(label: NodeLabel | str, props: Mapping[str, Any]) -> str | None:
    """What full-text search reads of a node of ``label`` (None for labels it does not search)."""
    fields = FULLTEXT_FIELDS.get(NodeLabel(label))
    if fields is None:
        return None
    return " ".join(" ".join(str(props[f]).split()) for f in fields if props.get(f))


#: the vector index of search by meaning: on the embeddings' vectors (``loaders/embedding.py``)
VECTOR_LABEL, VECTOR_KEY, VECTOR_DIMENSIONS = NodeLabel.Embedding, "vector", 384


@dataclass(frozen=True)
class GraphSchema:
    unique_keys: tuple[tuple[NodeLabel, str], ...]
    range_indexes: tuple[tuple[NodeLabel, str], ...]
    fulltext: tuple[tuple[NodeLabel, tuple[str, ...]], ...]
    #: vector indexes (label, property, dimensions), cosine similarity
    vectors: tuple[tuple[NodeLabel, str, int], ...] = ()

    def __post_init__(self) -> None:
        for label in (*(x[0] for x in (*self.unique_keys, *self.range_indexes, *self.fulltext)),
                      *(v[0] for v in self.vectors)):
            check_label(label)


def default_schema() -> GraphSchema:
    """Every label keyed by ``id`` and indexed by ``study`` (lists filter by it, reloads delete by
    it); names indexed for look-ups; the full-text fields above."""
    return GraphSchema(
        unique_keys=tuple((label, "id") for label in NodeLabel),
        range_indexes=((NodeLabel.Concept, "name"), (NodeLabel.Stakeholder, "name"),
                       (NodeLabel.EvidenceQuote, "documentSha256"),
                       *((label, "study") for label in NodeLabel)),
        fulltext=tuple((label, (SEARCH_KEY,)) for label in FULLTEXT_FIELDS),
        vectors=((VECTOR_LABEL, VECTOR_KEY, VECTOR_DIMENSIONS),),
    )
