"""The Cypher catalogue: every statement both backends accept, written once.

Labels and relationship types cannot be parameters in Cypher, so the templates below take members
of the ontology's closed sets (:class:`NodeLabel`, :class:`RelType`) and nothing else; every value
is a parameter. What differs per backend (DDL, full-text calls) lives in that backend's module.
``tests/test_cypher_lint.py`` runs every statement here (and each backend's own) through Neo4j's
front end.
"""

from __future__ import annotations

from collections.abc import Iterator

from kxgraph.ontology.vocabulary import NodeLabel, RelType, check_label, check_rel_type

__all__ = [
    "COUNT_BY_LABEL",
    "COUNT_NODES",
    "COUNT_RELATIONSHIPS",
    "CURRENT_LOADS",
    "DELETE_ALL",
    "DOCUMENT_QUOTES",
    "EMBEDDINGS_BY_MODEL",
    "EMBEDDINGS_OF",
    "EMBEDDING_OF_NODE",
    "EXPORT_NODES",
    "EXPORT_PROVENANCE",
    "EXPORT_RELATIONSHIPS",
    "FINGERPRINT_NODES",
    "FINGERPRINT_RELATIONSHIPS",
    "LEGACY_EDITS",
    "LOAD_HISTORY",
    "PING",
    "REPLACE_DOCUMENT",
    "SET_EDIT_ENTRIES",
    "STUDY_EDITS",
    "STUDY_IDS",
    "STUDY_LOADED_AT",
    "all_statements",
    "delete_studies",
    "merge_nodes",
    "merge_relationships",
]

PING = "RETURN 1 AS ok"
COUNT_NODES = "MATCH (n) RETURN count(n) AS n"
COUNT_RELATIONSHIPS = "MATCH ()-[r]->() RETURN count(r) AS n"
COUNT_BY_LABEL = "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label"
DELETE_ALL = "MATCH (n) DETACH DELETE n"
FINGERPRINT_NODES = (
    "MATCH (n) RETURN n.id AS id, labels(n) AS labels, properties(n) AS props ORDER BY id"
)
FINGERPRINT_RELATIONSHIPS = (
    "MATCH (a)-[r]->(b) RETURN a.id AS src, type(r) AS type, b.id AS dst, properties(r) AS props "
    "ORDER BY src, type, dst"
)

# --- studies, loads and export ------------------------------------------------------------------
#: the files of the load that made the current version of each study
CURRENT_LOADS = (
    "UNWIND $studies AS sid MATCH (l:Load)-[:GENERATED]->(s:Study {study: sid}) "
    "RETURN sid AS study, l.files AS files, l.nodeCount AS nodes, l.relationshipCount AS relationships, "
    "l.quoteCount AS quotes, l.tripleCount AS triples"
)
STUDY_IDS = "MATCH (s:Study) RETURN s.study AS study ORDER BY study"
#: when a study was last loaded (dates what its own files leave undated, e.g. notes in a .qdpx)
STUDY_LOADED_AT = "MATCH (l:Load)-[:GENERATED]->(s:Study {study: $study}) RETURN max(l.endedAt) AS at"
LOAD_HISTORY = (
    "MATCH (l:Load) RETURN l.id AS id, l.startedAt AS startedAt, l.endedAt AS endedAt, "
    "l.files AS files, l.nodeCount AS nodeCount, l.quoteCount AS quoteCount ORDER BY l.startedAt"
)
# (text embeddings are derived data of the store's, never exported: made again at each load)
EXPORT_NODES = (
    "MATCH (n) WHERE NOT n:Load AND NOT n:Edit AND NOT n:Embedding RETURN labels(n) AS labels, properties(n) AS props"
)
EXPORT_RELATIONSHIPS = (
    "MATCH (a)-[r]->(b) WHERE NOT a:Load AND NOT b:Load AND NOT a:Edit AND NOT b:Edit AND NOT a:Embedding "
    "RETURN a.id AS src, type(r) AS type, b.id AS dst"
)
#: the text embeddings of some studies, by the key they were made from (a reload reuses them)
EMBEDDINGS_OF = "UNWIND $studies AS sid MATCH (e:Embedding {study: sid}) RETURN e.key AS key, e.vector AS vector"
#: how many of some studies' embeddings there are, and how many of them the model ``$model`` made
EMBEDDINGS_BY_MODEL = (
    "UNWIND $studies AS sid OPTIONAL MATCH (e:Embedding {study: sid}) "
    "RETURN count(e) AS n, sum(CASE WHEN e.key STARTS WITH $model THEN 1 ELSE 0 END) AS current"
)


#: a node's own embedding (what "similar" starts from)
EMBEDDING_OF_NODE = "MATCH (e:Embedding)-[:EMBEDS]->(o {id: $id}) RETURN e.vector AS vector LIMIT 1"

#: the loads and edits that made (some) studies, and what they used and generated: PROV-O in RDF
EXPORT_PROVENANCE = (
    "MATCH (a)-[:GENERATED]->(x) WHERE (a:Load OR a:Edit) AND ($studies IS NULL OR x.study IN $studies) "
    "WITH DISTINCT a MATCH (a)-[r]->(b) "
    "RETURN labels(a) AS labels, properties(a) AS props, type(r) AS type, b.id AS dst"
)
#: a document's text and its quotes' selectors, to place the quotes again in a new version
DOCUMENT_QUOTES = (
    "MATCH (d:SourceDocument {id: $id}) OPTIONAL MATCH (q:EvidenceQuote)-[:IN_DOCUMENT]->(d) "
    "RETURN d.content AS content, d.sha256 AS sha256, d.study AS study, q.id AS quote, q.exact AS exact, "
    "q.prefix AS prefix, q.suffix AS suffix, q.start AS start, q.end AS end ORDER BY quote"
)
#: one statement, so one transaction: the new text and every quote's new place (``null`` removes)
REPLACE_DOCUMENT = (
    "MATCH (d:SourceDocument {id: $id}) SET d += $document WITH d "
    "UNWIND $quotes AS row MATCH (q:EvidenceQuote {id: row.id})-[:IN_DOCUMENT]->(d) SET q += row.props "
    "RETURN count(q) AS n"
)
#: the edits made through the API to some studies (all, with ``$studies`` null), oldest first
STUDY_EDITS = (
    "MATCH (e:Edit) WHERE e.editEntry IS NOT NULL AND ($studies IS NULL OR e.editedStudy IN $studies) "
    "RETURN properties(e) AS props ORDER BY e.startedAt, e.id"
)
#: edits recorded before edits kept their entry (their nodes then carried ``origin: 'api'`` and
#: their links as id lists): what each generated, to write its entry (``loaders/edits.py``)
LEGACY_EDITS = (
    "MATCH (e:Edit) WHERE e.editEntry IS NULL OPTIONAL MATCH (e)-[:GENERATED]->(n) "
    "RETURN properties(e) AS edit, collect({label: labels(n)[0], props: properties(n)}) AS made"
)
#: rows ``{"id", "entry", "study"}``: the entry and the study of edits recorded without them
SET_EDIT_ENTRIES = (
    "UNWIND $rows AS row MATCH (e:Edit {id: row.id}) SET e.editEntry = row.entry, e.editedStudy = row.study"
)


def delete_studies(label: NodeLabel | str) -> str:
    """Remove the nodes of one label of whole studies (every node carries its study's id, indexed
    per label): rows ``{"study": id}``. What was added through the API goes too: the load that
    replaces the study applies its edits again (``loaders/edits.py``)."""
    lab = check_label(label).value
    return f"UNWIND $rows AS row MATCH (n:{lab} {{study: row.study}}) DETACH DELETE n"


def merge_nodes(label: NodeLabel | str) -> str:
    """Upsert nodes of one label by ``id``: rows ``{"id": str, "props": {...}}``."""
    lab = check_label(label).value
    return f"UNWIND $rows AS row MERGE (n:{lab} {{id: row.id}}) SET n += row.props"


def merge_relationships(src: NodeLabel | str, rel: RelType | str, dst: NodeLabel | str) -> str:
    """Upsert relationships between existing nodes: rows ``{"src": id, "dst": id}``."""
    s, t, d = check_label(src).value, check_rel_type(rel).value, check_label(dst).value
    return (
        f"UNWIND $rows AS row MATCH (a:{s} {{id: row.src}}) MATCH (b:{d} {{id: row.dst}}) "
        f"MERGE (a)-[:{t}]->(b)"
    )


#: properties nodes added through the API carried before edits kept their entry (see
#: :data:`LEGACY_EDITS`): never exported, and gone at their study's next load
LEGACY_KEYS = ("origin", "claimIds", "documentIds", "raisedInIds", "concernsIds", "affectsIds", "evidenceIds")


def all_statements() -> Iterator[str]:
    """Every statement of the catalogue, templates expanded over a representative set."""
    yield from (PING, COUNT_NODES, COUNT_RELATIONSHIPS, COUNT_BY_LABEL, DELETE_ALL,
                FINGERPRINT_NODES, FINGERPRINT_RELATIONSHIPS, CURRENT_LOADS,
                STUDY_IDS, STUDY_LOADED_AT, LOAD_HISTORY, EXPORT_NODES, EXPORT_RELATIONSHIPS, EXPORT_PROVENANCE,
                DOCUMENT_QUOTES, EMBEDDINGS_OF, EMBEDDING_OF_NODE,
                EMBEDDINGS_BY_MODEL, REPLACE_DOCUMENT, STUDY_EDITS, LEGACY_EDITS, SET_EDIT_ENTRIES)
    for label in NodeLabel:
        yield merge_nodes(label)
        yield delete_studies(label)
    for rel in RelType:
        yield merge_relationships(NodeLabel.Concept, rel, NodeLabel.Concept)
