"""Read statements the API uses, in one catalogue with :mod:`kxgraph.graph.cypher`.

Templates take labels and relationship types from the ontology's closed sets only; every value is a
parameter. Each batched statement starts ``UNWIND $ids AS id`` so that one round trip answers a
whole DataLoader batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from kxgraph.ontology.vocabulary import NodeLabel, RelType, check_label, check_rel_type

__all__ = [
    "CODED_QUOTES",
    "CONCEPT_PLACEMENTS",
    "CONSEQUENCE_GROUPS",
    "CONSEQUENCE_MATRIX",
    "EVENT_CONCEPTS",
    "EVENT_DISCUSSION_POINTS",
    "EVENT_PRESENTERS",
    "EVENT_STAKEHOLDERS",
    "all_statements",
    "count_nodes",
    "links",
    "list_page",
    "neighbours",
    "nodes_by_id",
]

Direction = Literal["out", "in"]


def nodes_by_id(label: NodeLabel | str) -> str:
    lab = check_label(label).value
    return f"UNWIND $ids AS id MATCH (n:{lab} {{id: id}}) RETURN id, properties(n) AS props"


def links(src: NodeLabel | str, rel: RelType | str, direction: Direction,
          dst: NodeLabel | str | None = None) -> str:
    """Neighbours of a batch of nodes along one relationship type, with the neighbour's label."""
    s, r = check_label(src).value, check_rel_type(rel).value
    target = f"(b:{check_label(dst).value})" if dst is not None else "(b)"
    arrow = f"-[:{r}]->{target}" if direction == "out" else f"<-[:{r}]-{target}"
    return (f"UNWIND $ids AS id MATCH (a:{s} {{id: id}}){arrow} "
            "RETURN id, labels(b)[0] AS label, properties(b) AS props")


def neighbours(label: NodeLabel | str) -> str:
    """Every neighbour of a batch of nodes of one label, for the neighbourhood view."""
    lab = check_label(label).value
    return (f"UNWIND $ids AS id MATCH (a:{lab} {{id: id}})-[r]-(b) WHERE NOT b:Load "
            "RETURN id, type(r) AS type, startNode(r) = a AS outgoing, labels(b)[0] AS label, "
            "b.id AS bid, coalesce(b.name, b.text, b.exact, b.title, b.id) AS name "
            # ordered before the cap, so that a truncated neighbourhood is the same on every store
            "ORDER BY id, type, outgoing, bid LIMIT $limit")


#: sort keys of list pages: a display text, then the id
_SORT = "coalesce(n.name, n.title, n.text, n.exact, n.id)"


def _of_study(lab: str, by_study: bool) -> str:
    # with a study named, a plain equality the store answers from its index on `study` (an
    # `IS NULL OR` form would read every node of the label: 60 ms at 1M quotes)
    return f"MATCH (n:{lab}) WHERE n.study = $study " if by_study else f"MATCH (n:{lab}) "


def list_page(label: NodeLabel | str, descending: bool = False, by_study: bool = False) -> str:
    """One page of a label, keyset-paginated on (display text, id), optionally filtered."""
    lab = check_label(label).value
    gt, order = ("<", "DESC") if descending else (">", "ASC")
    return (
        _of_study(lab, by_study) +
        f"WITH n, {_SORT} AS k "
        "WHERE ($contains IS NULL OR toLower(k) CONTAINS toLower($contains)) "
        f"AND ($after_key IS NULL OR k {gt} $after_key OR (k = $after_key AND n.id {gt} $after_id)) "
        f"RETURN k, properties(n) AS props ORDER BY k {order}, n.id {order} LIMIT $limit"
    )


def count_nodes(label: NodeLabel | str, by_study: bool = False) -> str:
    lab = check_label(label).value
    return (_of_study(lab, by_study) + f"WITH n, {_SORT} AS k "
            "WHERE ($contains IS NULL OR toLower(k) CONTAINS toLower($contains)) RETURN count(n) AS n")


CODED_QUOTES = (
    "UNWIND $ids AS id MATCH (c:Concept {id: id})<-[:APPLIES_CODE]-(:Coding)-[:CODES_TEXT]->(b:EvidenceQuote) "
    "RETURN DISTINCT id, labels(b)[0] AS label, properties(b) AS props"
)
CONCEPT_PLACEMENTS = (
    "UNWIND $ids AS id MATCH (c:Concept {id: id})<-[:HAS_LEFT_POLE|HAS_RIGHT_POLE]-(:Continuum)"
    "<-[:ON_CONTINUUM]-(b:Placement) RETURN DISTINCT id, labels(b)[0] AS label, properties(b) AS props"
)
EVENT_PRESENTERS = (
    "UNWIND $ids AS id MATCH (e:Event {id: id})<-[:PART_OF]-(:Activity)-[:PRESENTED_BY]->(b:Person) "
    "RETURN DISTINCT id, labels(b)[0] AS label, properties(b) AS props"
)
#: the discussion points raised at an event or at one of its activities, found from the event
#: inwards (never by scanning every discussion point: the cost follows the event's answer)
_EVENT_POINTS = (
    "UNWIND $ids AS id MATCH (e:Event {id: id}) OPTIONAL MATCH (a)-[:PART_OF]->(e) "
    "WITH id, e, collect(a) AS parts UNWIND parts + [e] AS x "
    "MATCH (d:DiscussionPoint)-[:RAISED_IN]->(x) "
)
EVENT_DISCUSSION_POINTS = (
    _EVENT_POINTS.replace("(d:DiscussionPoint)", "(b:DiscussionPoint)") +
    "RETURN DISTINCT id, labels(b)[0] AS label, properties(b) AS props"
)
EVENT_CONCEPTS = (
    _EVENT_POINTS +
    "MATCH (d)-[:CONCERNS]->(b) RETURN DISTINCT id, labels(b)[0] AS label, properties(b) AS props"
)
EVENT_STAKEHOLDERS = (
    _EVENT_POINTS +
    "MATCH (d)-[:AFFECTS]->(b:Stakeholder) RETURN DISTINCT id, labels(b)[0] AS label, properties(b) AS props"
)
#: from the stakeholders (few) to their consequences, never scanning every consequence
CONSEQUENCE_GROUPS = (
    "MATCH (s:Stakeholder) "
    "WHERE ($stakeholder IS NULL OR s.id = $stakeholder) AND ($study IS NULL OR s.study = $study) "
    "MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->(s) MATCH (c)-[:OF_CONCEPT]->(k) "
    "WITH s, k, c.valence AS valence, collect(properties(c)) AS items "
    "RETURN properties(s) AS stakeholder, labels(k)[0] AS concept_label, properties(k) AS concept, "
    "valence, items ORDER BY stakeholder.name, concept.name, valence DESC"
)
CONSEQUENCE_MATRIX = (
    "MATCH (s:Stakeholder) WHERE ($study IS NULL OR s.study = $study) "
    "MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->(s) MATCH (c)-[:OF_CONCEPT]->(k) "
    "RETURN k.id AS concept, k.name AS concept_name, s.id AS stakeholder, s.name AS stakeholder_name, "
    "sum(CASE WHEN c.valence = 'positive' THEN 1 ELSE 0 END) AS positive, "
    "sum(CASE WHEN c.valence = 'negative' THEN 1 ELSE 0 END) AS negative, count(c) AS total "
    "ORDER BY concept_name, stakeholder_name"
)


def all_statements() -> Iterator[str]:
    yield from (CODED_QUOTES, CONCEPT_PLACEMENTS, EVENT_PRESENTERS, EVENT_DISCUSSION_POINTS, EVENT_CONCEPTS,
                EVENT_STAKEHOLDERS, CONSEQUENCE_GROUPS, CONSEQUENCE_MATRIX)
    for label in NodeLabel:
        yield nodes_by_id(label)
        yield neighbours(label)
        for by_study in (False, True):
            yield list_page(label, by_study=by_study)
            yield list_page(label, descending=True, by_study=by_study)
            yield count_nodes(label, by_study=by_study)
    for rel in RelType:
        yield links(NodeLabel.Concept, rel, "out")
        yield links(NodeLabel.Concept, rel, "in", NodeLabel.Concept)
    yield add_quote(NodeLabel.DiscussionPoint)
    yield add_discussion_point(NodeLabel.Activity)


# --- writes made through the API (each one statement: all or nothing) ---------------------------------
def add_quote(claim_label: NodeLabel | str) -> str:
    """A new evidence quote for an existing claim, recorded by an Edit. Nothing is created unless
    both the claim and the document exist."""
    c = check_label(claim_label).value
    return (
        f"MATCH (c:{c} {{id: $claim}}) MATCH (d:SourceDocument {{id: $document}}) "
        "CREATE (q:EvidenceQuote) SET q += $quote "
        "CREATE (e:Edit) SET e += $edit "
        "CREATE (e)-[:GENERATED]->(q) "
        "MERGE (c)-[:SUPPORTED_BY]->(q) MERGE (q)-[:IN_DOCUMENT]->(d) "
        "RETURN properties(q) AS props"
    )


def add_discussion_point(raised_label: NodeLabel | str) -> str:
    """A new discussion point with its quotes, recorded by an Edit. Its other links (concepts,
    stakeholders, the quotes' document) are made by the relink statements from its id lists."""
    r = check_label(raised_label).value
    return (
        f"MATCH (r:{r} {{id: $raised_in}}) "
        "CREATE (d:DiscussionPoint) SET d += $point "
        "CREATE (e:Edit) SET e += $edit "
        "CREATE (e)-[:GENERATED]->(d) CREATE (d)-[:RAISED_IN]->(r) "
        "WITH d, e UNWIND $quotes AS quote "
        "CREATE (q:EvidenceQuote) SET q += quote "
        "CREATE (e)-[:GENERATED]->(q) CREATE (d)-[:SUPPORTED_BY]->(q) "
        "RETURN count(q) AS quotes"
    )
