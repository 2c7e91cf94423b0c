"""RDF -> property graph, as the ontology's projection annotations say: one node per typed entity
(label from its class, ``id`` from its IRI), datatype properties as node properties, object
properties as relationships. A triple the projection cannot represent is an error, so that the
graph can always be exported back to the same RDF."""

from __future__ import annotations

from collections import ChainMap, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from typing import Any, overload

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from kxgraph.errors import DataFormatError
from kxgraph.graph import cypher
from kxgraph.graph.schema import SEARCH_KEY, search_text
from kxgraph.graph.store import Row, WriteOp
from kxgraph.loaders.quote_rows import QuoteRowLike, QuoteRows
from kxgraph.loaders.study_store import objects_by_subject, triples
from kxgraph.ontology.terms import DATA, KX, OA
from kxgraph.ontology.vocabulary import NodeLabel, RelType, projection

__all__ = ["NodeRows", "Projected", "QuoteNodeRows", "RelationshipRows", "node_id", "project", "python_value"]

#: properties every node carries besides the ontology's keys (and those nodes added through the API
#: carried before edits were applied by loads): never exported as RDF
STRUCTURAL_KEYS = ("id", "iri", "study", SEARCH_KEY, *cypher.LEGACY_KEYS)
#: relationships that read the same both ways (``skos:related``): stored once, smaller id first
SYMMETRIC = frozenset({RelType.RELATED_TO})


def node_id(iri: object) -> str:
    text = str(iri)
    base = str(DATA)
    if not text.startswith(base):
        raise DataFormatError(f"{text} is not a kxgraph data IRI", place=text,
                              fix=f"name entities under {base}")
    return text[len(base):]


def python_value(lit: Literal) -> Any:
    """A literal as a value both stores keep: str, int, float, bool (times as ISO-8601 strings)."""
    value = lit.toPython()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(lit)


class _Rows(Sequence[Row]):
    """A label's (or a relationship type's) rows kept as pairs, and given as the rows the
    catalogue's merge statements take when read: the store reads them a batch at a time, so only
    a batch's rows are made. A study of 1M quotes is 1.6M nodes and 3.3M relationships; as rows
    they were two dictionaries a node and one a relationship (projecting 200k quotes added 210 MB
    then, 57 MB now)."""

    __slots__ = ("pairs",)
    _keys: tuple[str, str]

    def __init__(self, pairs: list[tuple[Any, Any]]) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    @overload
    def __getitem__(self, at: int) -> Row: ...

    @overload
    def __getitem__(self, at: slice) -> list[Row]: ...

    def __getitem__(self, at: int | slice) -> Row | list[Row]:
        a, b = self._keys
        if isinstance(at, slice):
            return [{a: x, b: y} for x, y in self.pairs[at]]
        x, y = self.pairs[at]
        return {a: x, b: y}

    def __iter__(self) -> Iterator[Row]:
        a, b = self._keys
        return ({a: x, b: y} for x, y in self.pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Rows):
            return self._keys == other._keys and self.pairs == other.pairs
        return list(self) == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.pairs)} rows)"


class NodeRows(_Rows):
    """Nodes as ``(id, properties)``, read as ``{"id": ..., "props": ...}``."""

    _keys = ("id", "props")


class QuoteNodeRows(NodeRows):
    """The evidence quotes' nodes, where a quote kept as a row (``loaders/quote_rows.py``) is
    ``(id, its IRI)`` and its properties are made when its row is read (``make``); a quote the
    graph holds is ``(id, properties)`` as in :class:`NodeRows`. Made at projection, a study of 1M
    quotes held a dictionary of nine properties for each quote (its search text among them) until
    the write: projecting that study added 770 MB, 213 MB now."""

    __slots__ = ("make",)

    def __init__(self, pairs: list[tuple[Any, Any]], make: Callable[[str, URIRef], dict[str, Any]]) -> None:
        super().__init__(pairs)
        self.make = make

    def _row(self, x: str, y: Any) -> Row:
        return {"id": x, "props": y if type(y) is dict else self.make(x, y)}

    def __getitem__(self, at: int | slice) -> Row | list[Row]:  # type: ignore[override]
        if isinstance(at, slice):
            return [self._row(x, y) for x, y in self.pairs[at]]
        return self._row(*self.pairs[at])

    def __iter__(self) -> Iterator[Row]:
        return (self._row(x, y) for x, y in self.pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Rows | list):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class RelationshipRows(_Rows):
    """Relationships as ``(source id, target id)``, read as ``{"src": ..., "dst": ...}``."""

    _keys = ("src", "dst")


@dataclass
class Projected:
    nodes: Mapping[NodeLabel, Sequence[Row]]
    relationships: Mapping[tuple[NodeLabel, RelType, NodeLabel], Sequence[Row]]

    @property
    def node_count(self) -> int:
        return sum(len(v) for v in self.nodes.values())

    @property
    def relationship_count(self) -> int:
        return sum(len(v) for v in self.relationships.values())

    def write_ops(self) -> list[WriteOp]:
        ops = [WriteOp(cypher.merge_nodes(label), rows) for label, rows in sorted(self.nodes.items())]
        ops += [WriteOp(cypher.merge_relationships(s, t, d), rows)
                for (s, t, d), rows in sorted(self.relationships.items())]
        return ops


def _quote_keys(keys: Mapping[URIRef, str]) -> tuple[str, ...]:
    """The property keys of a quote row's values, in :func:`_quote_values`' order."""
    return tuple(keys[p] for p in (OA.exact, OA.prefix, OA.suffix, OA.start, OA.end, KX.documentSha256))


def _quote_values(row: QuoteRowLike) -> tuple[Any, ...]:
    return row.exact, row.prefix, row.suffix, row.start, row.end, row.checksum


def _project_quotes(quotes: QuoteRows, keys: Mapping[URIRef, str], rel_types: Mapping[URIRef, RelType],
                    check: Callable[[URIRef, str, Any], object], link: Callable[[URIRef, RelType, URIRef], None],
                    labels: Mapping[URIRef, NodeLabel], file: str) -> None:
    """The quote rows' relationships, and their values checked as the projection checks a value
    (each as the literal the row's triple would hold: a string, an integer); the values become
    properties when the rows are read (:class:`QuoteNodeRows`)."""
    names = _quote_keys(keys)
    source = rel_types[OA.hasSource]
    for iri, row in quotes.items():
        if row.document not in labels:
            raise DataFormatError(f"the statement {OA.hasSource} -> {row.document} cannot be stored in the graph",
                                  file=file, place=node_id(iri),
                                  fix="use the ontology's properties; link only to entities of the file")
        link(iri, source, row.document)
        for key, v in zip(names, _quote_values(row), strict=True):
            check(iri, key, v)


def _iri(term: object) -> URIRef:
    """The term as a plain URIRef (subclasses hash differently); most already are one."""
    return term if type(term) is URIRef else URIRef(str(term))


def project(g: Graph, *, file: str, quotes: QuoteRows | None = None,
            beside: Mapping[URIRef, NodeLabel] | None = None) -> Projected:
    """``g`` as nodes and relationships; ``quotes``: the study's quotes kept as rows beside ``g``
    (``loaders/quote_rows.py``), projected from their values as their triples would be; ``beside``:
    the labels of nodes written apart that ``g`` links to (a batch of claims naming a study's
    concepts: ``loaders/streamed.py``), which are no nodes of this projection."""
    proj = projection()
    labels: dict[URIRef, NodeLabel] = {}
    rdf_type = RDF.type

    def typed(s: Node, cls: Node) -> None:
        label = proj.labels.get(_iri(cls))
        if label is None:
            raise DataFormatError(f"the class {cls} is not in the kxgraph ontology", file=file,
                                  place=node_id(s), fix="use the classes of ontology/kx.ttl")
        subject = _iri(s)
        if subject in labels and labels[subject] is not label:
            raise DataFormatError(f"{node_id(s)} has two classes ({labels[subject].value}, {label.value})",
                                  file=file, place=node_id(s), fix="give every entity one class")
        labels[subject] = label

    for s, cls in objects_by_subject(g, rdf_type):
        typed(s, cls)
    for s, cls in (quotes.subject_objects(rdf_type) if quotes else ()):
        typed(s, cls)
    ids = {s: node_id(s) for s in labels}  # each worked out once: a study has 3 relationships a node
    own = labels
    if beside:
        labels = ChainMap(labels, beside)  # type: ignore[arg-type, assignment]
        ids = _IdsOf(ids)
    studies: dict[str, str] = {}  # each study's id once, not once a node
    # a node's properties; a quote kept as a row has only what the graph says of it besides its row
    # (its properties are made when it is written: QuoteNodeRows)
    props: dict[URIRef, dict[str, Any]] = {}
    rowed = quotes if quotes else ()
    for s, ident in ids.items():
        if s not in rowed:
            study = ident.split("/", 1)[0]
            props[s] = {"iri": str(s), "study": studies.setdefault(study, study)}
    rels: dict[tuple[NodeLabel, RelType, NodeLabel], list[tuple[str, str]]] = defaultdict(list)

    def check(subject: URIRef, key: str, value: Any) -> dict[str, Any] | None:
        """Refuses a value no store keeps, or a second value of a single-valued key; the node's
        properties (``None``: a quote row's, which the graph says nothing else of)."""
        if isinstance(value, str) and "\x00" in value:
            raise DataFormatError(f"the value of {key!r} holds a NUL character (at {value.index(chr(0))})",
                                  file=file, place=node_id(subject), fix="remove NUL characters: no store keeps them")
        bag = props.get(subject)
        if bag is not None and key not in proj.multiple and key in bag and bag[key] != value:
            raise DataFormatError(f"{node_id(subject)} has two values for {key!r}", file=file,
                                  place=node_id(subject), fix=f"keep one {key!r}")
        return bag

    def put(subject: URIRef, key: str, value: Any) -> None:
        bag = check(subject, key, value)
        if bag is None:
            bag = props[subject] = {}
        if key in proj.multiple:
            bag.setdefault(key, []).append(value)
        else:
            bag[key] = value

    def link(subject: URIRef, rel: RelType, target: URIRef) -> None:
        if rel in SYMMETRIC and ids[target] < ids[subject]:
            subject, target = target, subject  # one relationship per pair, from the smaller id
        rels[(labels[subject], rel, labels[target])].append((ids[subject], ids[target]))

    # what each predicate is, worked out once per predicate term: the triples of one study share
    # their predicates' terms, and a look-up by the same term needs no (Python) comparison
    meaning: dict[Any, tuple[bool, URIRef, str | None, RelType | None]] = {}
    for s, p, o in triples(g):
        known = meaning.get(p)
        if known is None:
            predicate = _iri(p)
            known = meaning[p] = (predicate == rdf_type, predicate, proj.keys.get(predicate),
                                  proj.rel_types.get(predicate))
        is_type, predicate, key, rel = known
        if is_type:
            continue
        subject = _iri(s)
        if subject not in labels:
            raise DataFormatError(f"{s} has properties but no class", file=file, place=str(s),
                                  fix="add rdf:type with a class of the kxgraph ontology")
        if key is not None and isinstance(o, Literal):
            put(subject, key, python_value(o))
        elif rel is not None and isinstance(o, URIRef) and _iri(o) in labels:
            link(subject, rel, _iri(o))
        else:
            raise DataFormatError(f"the statement {p} -> {o} cannot be stored in the graph", file=file,
                                  place=node_id(s),
                                  fix="use the ontology's properties; link only to entities of the file")
    if quotes:
        _project_quotes(quotes, proj.keys, proj.rel_types, check, link, labels, file)
    nodes: dict[NodeLabel, list[tuple[str, Any]]] = defaultdict(list)
    for s, label in own.items():
        if s in rowed:
            nodes[label].append((ids[s], s))  # made when read
            continue
        nodes[label].append((ids[s], _finished(props[s], label, proj.multiple)))
    for pairs in nodes.values():
        pairs.sort(key=itemgetter(0))
    rows: dict[NodeLabel, NodeRows] = {label: NodeRows(pairs) for label, pairs in nodes.items()}
    if quotes:
        said = {s: bag for s, bag in props.items() if s in quotes}  # what the graph says of quote rows (few)
        rows[NodeLabel.EvidenceQuote] = QuoteNodeRows(
            nodes[NodeLabel.EvidenceQuote], _quote_props(quotes, said, _quote_keys(proj.keys), proj.multiple))
    # a symmetric pair stated both ways is one
    return Projected(nodes=rows,
                     relationships={group: RelationshipRows(sorted(set(pairs))) for group, pairs in rels.items()})


class _IdsOf(dict):  # type: ignore[type-arg]
    """Node ids by IRI, a node's worked out when first asked (the nodes ``beside`` a projection)."""

    def __missing__(self, iri: URIRef) -> str:
        made = self[iri] = node_id(iri)
        return made


def _finished(bag: dict[str, Any], label: NodeLabel, multiple: frozenset[str] | set[str]) -> dict[str, Any]:
    """A node's properties as they are written: lists in order, and its search text."""
    for key in multiple & bag.keys():
        bag[key] = sorted(bag[key], key=str)
    searched = search_text(label, bag)
    if searched is not None:
        bag[SEARCH_KEY] = searched
    return bag


def _quote_props(quotes: QuoteRows, said: Mapping[URIRef, dict[str, Any]], names: tuple[str, ...],
                 multiple: frozenset[str] | set[str]) -> Callable[[str, URIRef], dict[str, Any]]:
    """How a quote row's properties are made, as :func:`project` made every node's: its IRI and
    study, what the graph says of it, its row's values and its search text."""
    label = NodeLabel.EvidenceQuote

    def make(ident: str, iri: URIRef) -> dict[str, Any]:
        bag: dict[str, Any] = {"iri": str(iri), "study": ident.split("/", 1)[0]}
        more = said.get(iri)
        if more:
            bag.update(more)
        bag.update(zip(names, _quote_values(quotes.row(iri)), strict=True))
        return _finished(bag, label, multiple)

    return make
