"""FalkorDB's own Cypher and how values travel to and from it: the full-text and vector calls,
RediSearch escaping, parameters (vectors as text, no NUL), answers as plain Python, and the statements
that copy a graph window by window (FalkorDB's internal ids; Neo4j never copies). The backend that
sends them is :mod:`kxgraph.graph.falkordb_backend`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kxgraph.errors import InputError, QueryError
from kxgraph.graph.schema import GraphSchema
from kxgraph.graph.search_query import parse_search
from kxgraph.ontology.vocabulary import NodeLabel, RelType, check_label, check_rel_type

__all__ = ["NEAREST", "Numbers", "copy_nodes", "copy_relationships", "escape_redisearch", "fulltext_statement",
           "label_ids", "params", "plain", "property_key", "window_nodes", "window_relationships"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def escape_redisearch(text: str, *, prefix: bool = False) -> str:
    """User text as a RediSearch query (:mod:`kxgraph.graph.search_query`): never a syntax error."""
    return parse_search(_CONTROL.sub(" ", text), prefix_last=prefix).redisearch()


def fulltext_statement() -> str:
    return ("CALL db.idx.fulltext.queryNodes($label, $query) YIELD node, score "
            "RETURN properties(node) AS node, score ORDER BY score DESC LIMIT $limit")


_SCALARS = frozenset({str, int, float, bool, type(None)})


#: the embeddings nearest a vector, the nodes they embed, and those nodes' evidence quotes (claims have some)
NEAREST = ("CALL db.idx.vector.queryNodes('Embedding', 'vector', $limit, vecf32($vector)) YIELD node, score "
           "MATCH (node)-[:EMBEDS]->(o) RETURN labels(o)[0] AS label, properties(o) AS node, score, "
           "[(o)-[:SUPPORTED_BY]->(q:EvidenceQuote) | properties(q)] AS evidence ORDER BY score ASC")


def plain(value: Any) -> Any:
    """FalkorDB client values -> plain Python (nodes/edges become property dicts). Scalars first:
    they are most of an answer's values (this runs over every value of every answer)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    from falkordb import Edge, Node

    if isinstance(value, Node | Edge):
        return dict(value.properties)
    return value


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Numbers:
    """A list of numbers (a vector) as the text of a FalkorDB parameter, made at C speed: the client
    formats each item of a list in Python, which made writing 384-number vectors take longer than
    making them (BENCHMARKS.md)."""

    __slots__ = ("text",)

    def __init__(self, values: list[float] | tuple[float, ...]) -> None:
        self.text = "[" + ",".join(map(repr, values)) + "]"

    def __str__(self) -> str:
        return self.text


_NUMBER_TYPES = ({float}, {int}, {float, int})


def params(value: Any) -> Any:
    """``value`` as it is sent: lists of numbers made :class:`Numbers`; a NUL anywhere refused
    (FalkorDB reads parameters as C strings: a NUL would end the statement early)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InputError("the text holds a NUL character, which the embedded store cannot keep or match",
                             fix="remove NUL characters from the text")
        return value
    if isinstance(value, Mapping):
        return {params(k): params(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) > 8 and set(map(type, value)) in _NUMBER_TYPES:
            return Numbers(value)
        return [params(v) for v in value]
    return value


# FalkorDB's own Cypher for copying a graph (Neo4j loads in one transaction and never copies):
# internal ids are FalkorDB's, and a range on them is answered by a "Node By Label and ID Scan".
def label_ids(label: NodeLabel) -> str:
    return f"MATCH (n:{check_label(label).value}) RETURN ID(n) AS i"


#: a node the copy keeps: not of a study being replaced (what the API added to it is applied again by
#: the load, as edits; the Edit nodes, of no study, are kept)
_KEPT = "(NOT {v}.study IN $skip)"


def copy_nodes(label: NodeLabel, schema: GraphSchema) -> str:
    """Nodes copied into an empty staging graph, rows ``{"i": internal id in the served graph,
    "props": {...}}``: each node as it was, and the internal id it got, so that the relationships
    can be made by internal ids. Vector properties (the schema's vector indexes) come back as
    lists and are written again as vectors, which is what the index reads."""
    vectors = [f"n.{property_key(key)} = vecf32(row.props.{property_key(key)})"
               for lab, key, _ in schema.vectors if lab is label]
    return (f"UNWIND $rows AS row CREATE (n:{check_label(label).value}) SET "
            + ", ".join(["n = row.props", *vectors]) + " RETURN row.i AS i, ID(n) AS j")


def copy_relationships(rel: RelType | str) -> str:
    """Relationships copied between nodes already copied: rows ``{"s": internal id, "d": internal
    id}`` (FalkorDB seeks a node by its internal id only from a plain variable, hence the ``WITH``)."""
    return (f"UNWIND $rows AS row WITH row.s AS s, row.d AS d MATCH (a) WHERE ID(a) = s WITH a, d "
            f"MATCH (b) WHERE ID(b) = d CREATE (a)-[:{check_rel_type(rel).value}]->(b)")


def window_nodes(label: NodeLabel) -> str:
    return (f"MATCH (n:{check_label(label).value}) WHERE ID(n) >= $lo AND ID(n) < $hi AND {_KEPT.format(v='n')} "
            "RETURN ID(n) AS i, properties(n) AS props")


def window_relationships(label: NodeLabel) -> str:
    return (f"MATCH (a:{check_label(label).value}) WHERE ID(a) >= $lo AND ID(a) < $hi AND {_KEPT.format(v='a')} "
            f"MATCH (a)-[r]->(b) WHERE {_KEPT.format(v='b')} "
            "RETURN ID(a) AS s, type(r) AS type, ID(b) AS d")


def property_key(key: str) -> str:
    if not _KEY.match(key):
        raise QueryError(f"{key!r} is not a valid property key")
    return key
