"""A study's evidence quotes as plain rows beside its rdflib graph, and as triples when asked.

Nine in ten triples of a large study are its quotes' (type, source, exact, prefix, suffix, start,
end, checksum): at 100k quotes, adding them to rdflib, making their literals, reading them back to
check the shapes and to project them took half of a load's reading, checking and projecting.
A study file's quotes are made by anchoring, so each is one row of plain values; the loader keeps
them so (:class:`QuoteRows`) and gives each reader what it needs from them:

- the shapes (``loaders/shape_checks.py``) read the same values as terms, through
  :meth:`QuoteRows.subject_objects`, the way they read a graph's index; only the predicates a
  shape names are made into terms;
- the projection (``loaders/projection.py``) takes each row's values as they are;
- whatever needs the whole study as RDF (pyshacl when the shapes do not compile, an edit made
  through the API applied again, ``StudySource.rdf()`` and ``Prepared.rdf()``) gets the triples
  :func:`quote_pairs` gives, moved into the graph (:meth:`QuoteRows.move_into`): the triples
  :func:`kxgraph.loaders.sources.quote_triples` adds for a quote anchored by an edit.

``tests/test_quote_rows.py`` checks that the checks' results, the projection and the triples are
those of the same quotes added to the graph.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from rdflib import RDF, Graph, URIRef
from rdflib.term import Node

from kxgraph.loaders.anchoring import CONTEXT, Anchor
from kxgraph.ontology.terms import DATA, KX, OA, literal

__all__ = ["AnchoredRow", "QuoteRow", "QuoteRowLike", "QuoteRows", "quote_iri", "quote_pairs", "row_of"]


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """One quote's values: its document's IRI, its anchor, the checksum of the text it was anchored
    in, and other properties (an edit's ``anchorStatus``...) by the local names of their predicates."""

    document: URIRef
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int
    checksum: str
    more: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class AnchoredRow:
    """A quote anchored in the text it was found in, as a :class:`QuoteRow` reads: its words and
    their context are cut from ``text`` (the document's, which the study holds anyway) when read,
    as :meth:`Anchor.at` cut them. Three strings a quote less: the loader's peak for one study of 1M
    quotes went from 3,093 to 2,718 MB (``bench.one_study``)."""

    document: URIRef
    text: str = field(repr=False, compare=False)
    start: int
    end: int
    checksum: str
    more: tuple[tuple[str, Any], ...] = ()

    @property
    def exact(self) -> str:
        return self.text[self.start:self.end]

    @property
    def prefix(self) -> str:
        return self.text[max(0, self.start - CONTEXT):self.start]

    @property
    def suffix(self) -> str:
        return self.text[self.end:self.end + CONTEXT]


QuoteRowLike = QuoteRow | AnchoredRow


def quote_iri(study_id: str, document: str, a: Anchor) -> URIRef:
    """A quote's IRI: the same for the same words at the same place (``<study>/quote/<document>/<start>-<end>``)."""
    return DATA[f"{study_id}/quote/{document}/{a.start}-{a.end}"]


#: the literals many quotes share (offsets, a document's checksum), made once: a study of 100k
#: quotes made 700k literals, a fifth of the time it took to read
shared_literal = functools.lru_cache(maxsize=65_536, typed=True)(literal)


def _same(term: Node) -> Node:
    return term


@functools.cache
def _columns() -> tuple[tuple[URIRef, Callable[[QuoteRowLike], Any], Callable[[Any], Node]], ...]:
    """Each predicate of a quote, how its value is read from a row and how the value becomes the
    object, in the order the quote's triples are made (the terms made once: a namespace look-up
    makes a new term)."""
    kind = KX.EvidenceQuote
    return ((RDF.type, lambda _r: kind, _same),
            (OA.hasSource, attrgetter("document"), _same),
            (OA.exact, attrgetter("exact"), literal),
            (OA.prefix, attrgetter("prefix"), literal),
            (OA.suffix, attrgetter("suffix"), literal),
            (OA.start, attrgetter("start"), shared_literal),
            (OA.end, attrgetter("end"), shared_literal),
            (KX.documentSha256, attrgetter("checksum"), shared_literal))


def quote_pairs(row: QuoteRowLike) -> Iterator[tuple[URIRef, Node]]:
    """The predicates and objects of one quote's triples."""
    for predicate, read, term in _columns():
        yield predicate, term(read(row))
    for key, value in row.more:
        yield KX[key], literal(value)


def row_of(document: URIRef, checksum: str, a: Anchor, more: Mapping[str, Any]) -> QuoteRow:
    return QuoteRow(document, a.exact, a.prefix, a.suffix, a.start, a.end, checksum, tuple(more.items()))


class QuoteRows:
    """The quotes of a study (or of several), by IRI, in the order they were added."""

    def __init__(self) -> None:
        self._rows: dict[URIRef, QuoteRowLike] = {}
        self.kind = KX.EvidenceQuote  # the class of every row

    def add(self, study_id: str, document: str, doc: URIRef, checksum: str, a: Anchor,
            text: str | None = None) -> tuple[URIRef, bool]:
        """The quote ``a`` of the document ``document`` (its id; ``doc`` its IRI), anchored as it was
        written (a quote re-anchored by an edit, with its ``anchorStatus``, is made as triples by
        :func:`kxgraph.loaders.sources.quote_triples`): its IRI and whether it was new. ``text``:
        the document's text, which ``a`` was cut from (:meth:`Anchor.at`): the row reads its words
        there (:class:`AnchoredRow`) when they are the ones ``a`` has."""
        iri = quote_iri(study_id, document, a)
        if iri in self._rows:
            return iri, False
        if text is not None and Anchor.at(text, a.start, a.end) == a:
            self._rows[iri] = AnchoredRow(doc, text, a.start, a.end, checksum)
        else:
            self._rows[iri] = row_of(doc, checksum, a, {})
        return iri, True

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, iri: object) -> bool:
        return iri in self._rows

    def row(self, iri: URIRef) -> QuoteRowLike:
        return self._rows[iri]

    def items(self) -> Iterator[tuple[URIRef, QuoteRowLike]]:
        yield from self._rows.items()

    def update(self, other: QuoteRows) -> None:
        self._rows.update(other._rows)

    def triple_count(self) -> int:
        return len(_columns()) * len(self._rows)

    def triples(self) -> Iterator[tuple[URIRef, URIRef, Node]]:
        for iri, row in self._rows.items():
            for predicate, obj in quote_pairs(row):
                yield iri, predicate, obj

    def add_to(self, graph: Graph) -> Graph:
        """Add every quote's triples to ``graph`` (the rows stay)."""
        add = graph.add
        for triple in self.triples():
            add(triple)
        return graph

    def move_into(self, graph: Graph) -> Graph:
        """Add every quote's triples to ``graph`` and forget the rows (the graph holds them now)."""
        self.add_to(graph)
        self._rows.clear()
        return graph

    def subject_objects(self, predicate: Node) -> Iterator[tuple[Node, Node]]:
        """The quotes' (subject, object) pairs of one predicate, as ``graph.subject_objects`` gives them."""
        column = self.column(predicate)
        if column is None:
            return
        values, term = column
        made: dict[tuple[type, Any], Node] = {}  # one term per value: offsets and checksums repeat
        for iri, value in values.items():
            obj = made.get((type(value), value))
            if obj is None:
                obj = made[(type(value), value)] = term(value)
            yield iri, obj

    def column(self, predicate: Node) -> tuple[dict[URIRef, Any], Callable[[Any], Node]] | None:
        """Each quote's value of ``predicate`` as a plain value, and how a value becomes its term;
        None for a predicate no quote has."""
        for p, read, term in _columns():
            if p == predicate:
                return {iri: read(row) for iri, row in self._rows.items()}, term
        return None
