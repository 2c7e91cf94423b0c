"""Read statements the API uses, in one catalogue with :mod:`kxgraph.graph.cypher`.

Templates take labels and relationship types from the ontology's closed sets only; every value is a
parameter. Each batched statement starts ``UNWIND $ids AS id`` so that one round trip answers a
whole DataLoader batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from kxgraph.ontology.vocabulary import NodeLabel, check_label

__all__ = [
    "CONSEQUENCE_MATRIX_COLUMNS",
    "QUOTE_DOCUMENT_TEXT",
    "STUDY_DOCUMENTS",
    "all_statements",
    "concepts_of",
    "consequence_groups",
    "consequence_matrix",
    "neighbours",
    "nodes_by_id",
    "stakeholders",
]

Direction = Literal["out", "in"]


def nodes_by_id(label: NodeLabel | str) -> str:
    lab = check_label(label).value
    return f"UNWIND $ids AS id MATCH (n:{lab} {{id: id}}) RETURN id, properties(n) AS props"


#: the columns of :func:`neighbours`' rows
NEIGHBOUR_COLUMNS = ("id", "type", "outgoing", "label", "bid", "name")


def neighbours(label: NodeLabel | str) -> str:
    """Every neighbour of a batch of nodes of one label, for the neighbourhood view."""
    lab = check_label(label).value
    # `a.id IN $ids`, not `UNWIND $ids … {id: id}`: with the label tests on b, FalkorDB's planner
    # starts that form from every node of the graph (1 s at 10k quotes, a timeout at 100k)
    return (f"MATCH (a:{lab}) WHERE a.id IN $ids MATCH (a)-[r]-(b) WHERE NOT b:Load AND NOT b:Embedding "
            "RETURN a.id AS id, type(r) AS type, startNode(r) = a AS outgoing, labels(b)[0] AS label, "
            "b.id AS bid, coalesce(b.name, b.text, b.exact, b.title, b.id) AS name "
            # ordered before the cap, so that a truncated neighbourhood is the same on every store
            "ORDER BY id, type, outgoing, bid LIMIT $limit")


#: the documents of a study, at most two (an added quote may leave out its document when there is one)
STUDY_DOCUMENTS = "MATCH (d:SourceDocument) WHERE d.study = $study RETURN properties(d) AS props LIMIT 2"


#: the text of each quote's document, once per document: rows ``quotes, content``
QUOTE_DOCUMENT_TEXT = (
    "UNWIND $ids AS id MATCH (q:EvidenceQuote {id: id})-[:IN_DOCUMENT]->(d:SourceDocument) "
    "WITH d, collect(id) AS quotes RETURN quotes, d.content AS content"
)
def stakeholders(var: str, *, by_id: bool, by_study: bool) -> str:
    """The stakeholders a consequence question starts from: the one of ``$stakeholder``, those of
    ``$study``, both or all, as plain equalities written for the arguments given. The form
    ``($study IS NULL OR s.study = $study)`` kept the stores from their index: every stakeholder was
    read, 10,000 at 1M quotes (BENCHMARKS.md)."""
    terms = ([f"{var}.id = $stakeholder"] if by_id else []) + ([f"{var}.study = $study"] if by_study else [])
    return f"MATCH ({var}:Stakeholder)" + (f" WHERE {' AND '.join(terms)}" if terms else "")


def consequence_groups(*, by_id: bool, by_study: bool) -> str:
    """From the stakeholders (few) to their consequences, never scanning every consequence."""
    return (
        f"{stakeholders('s', by_id=by_id, by_study=by_study)} "
        "MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->(s) MATCH (c)-[:OF_CONCEPT]->(k) "
        "WITH s, k, c.valence AS valence, collect(properties(c)) AS items "
        "RETURN properties(s) AS stakeholder, labels(k)[0] AS concept_label, properties(k) AS concept, "
        "valence, items ORDER BY stakeholder.name, concept.name, valence DESC"
    )


def consequence_matrix(*, by_study: bool) -> str:
    return (
        f"{stakeholders('s', by_id=False, by_study=by_study)} "
        "MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->(s) MATCH (c)-[:OF_CONCEPT]->(k) "
        "RETURN k.id AS concept, k.name AS concept_name, s.id AS stakeholder, s.name AS stakeholder_name, "
        "sum(CASE WHEN c.valence = 'positive' THEN 1 ELSE 0 END) AS positive, "
        "sum(CASE WHEN c.valence = 'negative' THEN 1 ELSE 0 END) AS negative, count(c) AS total "
        "ORDER BY concept_name, stakeholder_name"
    )


#: the columns of :func:`consequence_matrix`' rows
CONSEQUENCE_MATRIX_COLUMNS = ("concept", "concept_name", "stakeholder", "stakeholder_name", "positive", "negative",
                              "total")


def concepts_of(label: NodeLabel | str) -> str:
    """The concepts each of a batch of quotes or claims (of ``label``) bears on: a claim's own
    concept, the concepts of the claims a quote supports, and the codes applied to a quote; rows
    ``id``, ``label``, ``props``."""
    lab = check_label(label).value
    about = "CONCERNS|OF_CONCEPT|DEFINES"
    return (f"UNWIND $ids AS id MATCH (n:{lab} {{id: id}}) "
            f"WITH id, [(n)<-[:SUPPORTED_BY]-()-[:{about}]->(k) | k] + [(n)-[:{about}]->(k) | k] "
            "+ [(n)<-[:CODES_TEXT]-(:Coding)-[:APPLIES_CODE]->(k) | k] AS ks "
            "UNWIND ks AS k RETURN DISTINCT id, labels(k)[0] AS label, properties(k) AS props")


def all_statements() -> Iterator[str]:
    yield from (QUOTE_DOCUMENT_TEXT, STUDY_DOCUMENTS)
    for by_study in (False, True):
        yield consequence_matrix(by_study=by_study)
        for by_id in (False, True):
            yield consequence_groups(by_id=by_id, by_study=by_study)
    for label in NodeLabel:
        yield nodes_by_id(label)
        yield neighbours(label)
    yield concepts_of(NodeLabel.EvidenceQuote)
