"""``ontology/shapes.ttl`` compiled into plain checks: the same violations pyshacl finds, faster.

pyshacl asks the data graph one question per focus node, property and constraint through rdflib's
general triple store (~430 µs a quote at 100k quotes, a third of a load). The shapes kxgraph writes
use a small part of SHACL Core — class targets, predicate paths, and ten constraint components — so
each property shape is compiled here into a check that reads one index, built in one pass over the
predicates the shapes name. What each component does is pyshacl's own reading of the SHACL spec
(value nodes as a set, a class through ``rdfs:subClassOf*``, datatypes as pyshacl tells ill-typed
literals, pyshacl's literal comparison), so the results are pyshacl's, one for one:
``tests/test_shape_checks.py`` compares them on the bundled study, the bad-input corpus and
generated damage.

A shape that uses anything else does not compile (:func:`compiled_shapes` returns None) and a value
the checks do not read the way pyshacl does (a blank node compared by ``sh:lessThan``) raises
:class:`NotCompiled`: :func:`kxgraph.loaders.shacl.validate` then asks pyshacl itself.

Triples kept as rows beside the data (:class:`Rows`: a study file's quotes, ``loaders/quote_rows.py``)
are checked with it: each check of a row's value runs once for all the rows that share the value,
or, when the graph also speaks of a row, over one index of both (``tests/test_quote_rows.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol, cast
from typing import Literal as Literal_

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from kxgraph.loaders.study_store import indexes, leaf_terms, objects_by_subject

__all__ = ["NotCompiled", "Result", "Rows", "Typed", "compiled_shapes", "run"]

#: (focus node, path, message, value node or None) — what a pyshacl result says
Result = tuple[Node, URIRef, str, "Node | None"]

#: what a compiled property shape may say; anything else leaves the shapes to pyshacl
_UNDERSTOOD = {RDF.type, SH.path, SH.message, SH.targetClass, SH.minCount, SH.maxCount, SH["class"],
               SH.datatype, SH.minLength, SH.minInclusive, SH.maxInclusive, SH["in"], SH.pattern, SH.lessThan}


class NotCompiled(Exception):
    """The data holds something the compiled checks do not read as pyshacl does."""


Check = Callable[[Node, list[Node], "_Index"], Sequence["Node | None"]]
#: what a check reads: how many values a focus node has (``count``), each value alone (``value``),
#: or each value beside the values of another predicate of the same node (``pair``: sh:lessThan)
Kind = Literal_["count", "value", "pair"]


@dataclass(frozen=True)
class _Shape:
    path: URIRef
    message: str
    targets: tuple[URIRef, ...]
    reads: frozenset[URIRef]  # the predicates its checks read beside the path (sh:lessThan's)
    checks: tuple[tuple[Kind, Check], ...]


class Rows(Protocol):
    """Triples kept outside a graph (``loaders/quote_rows.py``): subjects of one class (``kind``),
    each with one value of each predicate it has a column for."""

    kind: URIRef

    def __contains__(self, subject: object) -> bool: ...

    def subject_objects(self, predicate: Node) -> Iterable[tuple[Node, Node]]: ...

    def column(self, predicate: Node) -> tuple[dict[URIRef, Any], Callable[[Any], Node]] | None:
        """Each subject's value of ``predicate`` as a plain value, and how a value becomes its
        term; None when the rows have no such column (no subject has a value)."""
        ...


@dataclass(frozen=True)
class Typed:
    """Nodes of one class (``kind``) known apart from the data checked: its values may name them
    (``sh:class``), but they are no focus nodes."""

    kind: URIRef
    nodes: frozenset[Node]

    def __contains__(self, subject: object) -> bool:
        return subject in self.nodes


class _Values:
    """One predicate's values by subject. A study's graph is read through its store's own indexes
    (``loaders/study_store.py``): copying them made a list for each subject and predicate, a quarter
    of what checking a study held (24 of 89 MB at 50k quotes). Other graphs (the ontology, a parsed
    file) and rows are read into a dictionary in one pass, as before; ``kinds``: rows whose subjects
    are all of their ``kind`` (their classes, read apart from the data)."""

    __slots__ = ("get", "indexes", "kinds", "made", "predicate")

    def __init__(self, predicate: URIRef, indexes: list[tuple[dict[Node, Any], dict[Node, Any]]],
                 made: dict[Node, list[Node]]) -> None:
        self.predicate = predicate
        self.indexes = indexes
        self.made = made
        self.kinds: list[Rows | Typed] = []
        self.get: Callable[[Node], list[Node]] = self._one if len(indexes) == 1 and not made else self._any

    def _one(self, subject: Node) -> list[Node]:
        """:meth:`get` of one study graph's values alone: the common case, read at the cost of
        the dictionary it replaces."""
        if self.kinds:
            return self._any(subject)
        by_p = self.indexes[0][0].get(subject)
        leaf = None if by_p is None else by_p.get(self.predicate)
        return [] if leaf is None else leaf_terms(leaf)

    def _any(self, subject: Node) -> list[Node]:
        found: list[Node] | None = None
        for spo, _ in self.indexes:
            by_p = spo.get(subject)
            leaf = None if by_p is None else by_p.get(self.predicate)
            if leaf is not None:
                terms = leaf_terms(leaf)
                found = terms if found is None else found + [o for o in terms if o not in found]
        more = self.made.get(subject)
        for r in self.kinds:
            if subject in r:
                more = [*(more or ()), r.kind]
        if more is None:
            return [] if found is None else found
        if found is None:
            return list(more)
        return found + [o for o in more if o not in found]

    def subjects(self) -> Iterator[Node]:
        """Each subject with a value (some more than once), but the rows' of ``kinds``."""
        for _, pos in self.indexes:
            for leaf in pos.get(self.predicate, {}).values():
                yield from leaf_terms(leaf)
        yield from self.made

    def items(self) -> Iterator[tuple[Node, list[Node]]]:
        """Each subject with its values (once), but the rows' of ``kinds``."""
        seen: set[Node] = set()
        for s in self.subjects():
            if s not in seen:
                seen.add(s)
                yield s, self.get(s)


class _Index:
    """The values of the shapes' predicates and classes, from the data and the ontology together
    (as pyshacl sees them once the ontology is mixed in), and from the rows kept beside the data."""

    def __init__(self, graphs: Sequence[Graph], predicates: set[URIRef], rows: Sequence[Rows] = ()) -> None:
        self.values: dict[URIRef, _Values] = {}
        read = [(g, indexes(g)) for g in graphs]
        fast = [ix for _, ix in read if ix is not None]
        others = [g for g, ix in read if ix is None]
        for p in predicates | {RDF.type, RDFS.subClassOf}:
            by_subject: dict[Node, list[Node]] = {}
            pairs: list[Iterable[tuple[Node, Node]]] = [objects_by_subject(g, p) for g in others]
            for source in pairs + [r.subject_objects(p) for r in rows]:
                for s, o in source:
                    seen = by_subject.setdefault(s, [])
                    if o not in seen:
                        seen.append(o)
            self.values[p] = _Values(p, fast, by_subject)
        self._supers: dict[Node, frozenset[Node]] = {}
        self.members: dict[Node, set[Node]] = {}  # class -> its instances, through rdfs:subClassOf*
        for s, classes in self.values[RDF.type].items():
            for c in classes:
                for up in self.superclasses(c):
                    self.members.setdefault(up, set()).add(s)

    def typed_rows(self, rows: Rows | Typed) -> None:
        """Rows whose values are read apart (:func:`_run_beside`): their subjects are of their kind
        to the class checks, but are no focus nodes of the graph's (``members``)."""
        self.values[RDF.type].kinds.append(rows)

    def of(self, predicate: URIRef, subject: Node) -> list[Node]:
        return self.values[predicate].get(subject)

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """``cls`` and every class above it (``rdfs:subClassOf*``)."""
        found = self._supers.get(cls)
        if found is None:
            seen = {cls}
            todo = [cls]
            while todo:
                for up in self.of(RDFS.subClassOf, todo.pop()):
                    if up not in seen:
                        seen.add(up)
                        todo.append(up)
            found = self._supers[cls] = frozenset(seen)
        return found

    def instances(self, cls: URIRef) -> set[Node]:
        return self.members.get(cls, set())


#: the datatypes whose literals are plain strings (made once: a namespace's attribute is a new term)
_STRING_TYPES = (None, RDF.langString, XSD.string)


def _string(v: Node) -> str:
    """pyshacl's string of a value node (``StringBasedConstraintBase.value_node_to_string``)."""
    if isinstance(v, Literal):
        if v.value is not None and v.datatype in _STRING_TYPES:
            return str(v.value)
        return str(v)
    return str(v)


_RDF_TYPE = RDF.type
_INTEGER = XSD.integer
_NATIVE: dict[URIRef, type | tuple[type, ...]] = {XSD.string: (str, bytes), RDF.langString: (str, bytes),
                                                  XSD.integer: int, XSD.decimal: Decimal}


def _check_class(cls: URIRef) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    def check(_f: Node, values: list[Node], ix: _Index) -> Sequence[Node]:
        types = ix.values[_RDF_TYPE]
        return [v for v in values
                if isinstance(v, Literal) or not any(cls in ix.superclasses(t) for t in types.get(v))]
    return check


def _check_datatype(dt: URIRef) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    if dt not in _NATIVE:
        raise NotCompiled(f"sh:datatype {dt}")
    native = _NATIVE[dt]
    plain_string, lang_string = dt == XSD.string, dt == RDF.langString

    def matches(v: Node) -> bool:
        if not isinstance(v, Literal):
            return False
        if v.datatype == dt:
            return getattr(v, "ill_typed", None) is not True and isinstance(v.value, native)
        if v.datatype is None and v.language is None and plain_string:
            return isinstance(v.value, native)
        if lang_string and v.language:
            return isinstance(v.value, native)
        return False

    def check(_f: Node, values: list[Node], _ix: _Index) -> Sequence[Node]:
        return [v for v in values if not matches(v)]
    return check


def _check_min_length(n: int) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    def check(_f: Node, values: list[Node], _ix: _Index) -> Sequence[Node]:
        return [v for v in values if isinstance(v, BNode) or len(_string(v)) < n]
    return check


def _check_pattern(pattern: re.Pattern[str]) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    def check(_f: Node, values: list[Node], _ix: _Index) -> Sequence[Node]:
        return [v for v in values if isinstance(v, BNode) or not pattern.search(_string(v))]
    return check


def _check_in(allowed: frozenset[Node]) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    def check(_f: Node, values: list[Node], _ix: _Index) -> Sequence[Node]:
        return [v for v in values if v not in allowed]
    return check


def _check_range(bound: Literal, *, low: bool) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    from pyshacl.rdfutil import compare

    compare_literal = cast(Callable[[Literal, Literal], int], compare.compare_literal)  # pyshacl's own ordering
    bound_is_string = isinstance(bound.value, str)
    whole = _whole(bound)

    def holds(v: Node) -> bool:
        if whole is not None and (value := _whole(v)) is not None:  # as pyshacl orders them: a quote's offsets
            return value >= whole if low else value <= whole
        if not isinstance(v, Literal) or isinstance(v.value, str) != bound_is_string:
            return False
        try:
            order = compare_literal(v, bound)
        except (TypeError, NotImplementedError):
            return False
        return order >= 0 if low else order <= 0

    def check(_f: Node, values: list[Node], _ix: _Index) -> Sequence[Node]:
        return [v for v in values if not holds(v)]
    return check


def _comparable(v: Node) -> tuple[object, bool]:
    if isinstance(v, BNode):
        raise NotCompiled("sh:lessThan on a blank node")
    if isinstance(v, URIRef):
        return str(v), True
    if isinstance(v, Literal) and isinstance(v.value, str):
        return v.value, True
    return v, False


def _whole(v: Node) -> int | None:
    """The value of an xsd:integer literal (two compare as their values do in rdflib), else None."""
    if isinstance(v, Literal) and type(value := v.value) is int and v.datatype == _INTEGER:
        return value
    return None


def _check_less_than(other: URIRef) -> Callable[[Node, list[Node], _Index], Sequence[Node]]:
    def check(f: Node, values: list[Node], ix: _Index) -> Sequence[Node]:
        failed = []
        for v in values:
            others = ix.of(other, f)
            if len(others) == 1 and (start := _whole(v)) is not None and (end := _whole(others[0])) is not None:
                if not start < end:  # a quote's offsets
                    failed.append(v)
                continue
            left, left_is_string = _comparable(v)
            for w in others:
                right, right_is_string = _comparable(w)
                try:
                    if left_is_string != right_is_string or not left < right:  # type: ignore[operator]
                        failed.append(v)
                except TypeError:  # pyshacl stops on values it cannot order: let it say so
                    raise NotCompiled(f"sh:lessThan between {v!r} and {w!r}") from None
        return failed
    return check


def _count(limit: int, *, low: bool) -> Callable[[Node, list[Node], _Index], Sequence[None]]:
    def check(_f: Node, values: list[Node], _ix: _Index) -> Sequence[None]:
        return [None] if (len(values) < limit if low else len(values) > limit) else []
    return check


def _iri(v: Node) -> URIRef:
    if not isinstance(v, URIRef):
        raise NotCompiled(f"{v!r} where an IRI was expected")
    return v


def _literal(v: Node) -> Literal:
    if not isinstance(v, Literal):
        raise NotCompiled(f"{v!r} where a literal was expected")
    return v


def _number(v: Node) -> int:
    value = _literal(v).toPython()
    if not isinstance(value, int):
        raise NotCompiled(f"{v!r} where a whole number was expected")
    return value


def _compile(shapes: Graph, shape: Node) -> _Shape:
    said = set(shapes.predicates(shape, None))
    if not said <= _UNDERSTOOD or not isinstance(path := shapes.value(shape, SH.path), URIRef):
        raise NotCompiled(f"shape {shape}: {sorted(str(p) for p in said - _UNDERSTOOD) or 'a path of several steps'}")
    messages = list(shapes.objects(shape, SH.message))
    if len(messages) != 1:
        raise NotCompiled(f"shape {shape}: one sh:message each")  # pyshacl's own texts are not reproduced
    def each(parameter: URIRef) -> list[Node]:
        return list(shapes.objects(shape, parameter))

    checks: list[tuple[Kind, Check]] = []
    checks += [("count", _count(n, low=True)) for v in each(SH.minCount) if (n := _number(v)) > 0]  # 0: holds
    checks += [("count", _count(_number(v), low=False)) for v in each(SH.maxCount)]
    checks += [("value", _check_class(_iri(c))) for c in each(SH["class"])]
    checks += [("value", _check_datatype(_iri(d))) for d in each(SH.datatype)]
    checks += [("value", _check_min_length(_number(v))) for v in each(SH.minLength)]
    checks += [("value", _check_pattern(re.compile(str(p)))) for p in each(SH.pattern)]
    checks += [("value", _check_range(_literal(v), low=True)) for v in each(SH.minInclusive)]
    checks += [("value", _check_range(_literal(v), low=False)) for v in each(SH.maxInclusive)]
    checks += [("value", _check_in(frozenset(shapes.items(v)))) for v in each(SH["in"])]
    others = frozenset(_iri(o) for o in each(SH.lessThan))
    checks += [("pair", _check_less_than(o)) for o in others]
    targets = tuple(_iri(t) for t in each(SH.targetClass))
    return _Shape(path=path, message=str(messages[0]), targets=targets, reads=others, checks=tuple(checks))


@lru_cache(maxsize=1)
def compiled_shapes(shapes: Graph) -> tuple[_Shape, ...] | None:
    """``shapes`` (each property shape standing alone with its targets: ``shacl.validation_shapes``)
    compiled, or None when one of them says what is not compiled here."""
    compiled = []
    try:
        kinds = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
        for shape in sorted(kinds, key=str):
            if shapes.value(shape, SH.path) is None:  # a node shape, its property shapes on their own
                if set(shapes.predicates(shape, None)) - {RDF.type, SH.targetClass}:
                    raise NotCompiled(f"node shape {shape} has constraints of its own")
                continue
            compiled.append(_compile(shapes, shape))
    except NotCompiled:
        return None
    return tuple(compiled)


def run(shapes: Sequence[_Shape], data: Graph, ontology: Graph,
        focus: Sequence[Node] | None = None, rows: Sequence[Rows] = (),
        typed: Sequence[Typed] = ()) -> list[Result]:
    """Every violation of ``shapes`` in ``data`` and ``rows`` (triples kept beside it) with
    ``ontology`` mixed in (nothing is added to either); ``focus``: only these focus nodes (pyshacl's
    ``focus_nodes``: an empty list is all); ``typed``: the classes of nodes checked apart that
    ``data`` names (a batch of claims naming a study's concepts: ``loaders/streamed.py``)."""
    predicates = {s.path for s in shapes} | {o for s in shapes for o in s.reads}
    if rows and focus is None:
        beside = _run_beside(shapes, data, ontology, predicates, rows, typed)
        if beside is not None:
            return beside
    ix = _Index([data, ontology], predicates, rows)
    for t in typed:
        ix.typed_rows(t)
    wanted = set(focus) if focus else None
    return _graph_results(shapes, ix, wanted)


def _graph_results(shapes: Sequence[_Shape], ix: _Index, wanted: set[Node] | None) -> list[Result]:
    """The violations of the focus nodes in ``ix`` (of the ``wanted`` ones, when given)."""
    results: list[Result] = []
    for shape in shapes:
        nodes: set[Node] = set()
        for cls in shape.targets:
            nodes |= ix.instances(cls)
        if wanted is not None:
            nodes = {n for n in nodes if isinstance(n, URIRef) and n in wanted}
        values_of = ix.values[shape.path]
        for node in nodes:
            values = values_of.get(node)
            for _kind, check in shape.checks:
                failed = check(node, values, ix)  # a list, empty in a study that conforms
                if failed:
                    results.extend((node, shape.path, shape.message, v) for v in failed)
    return results


def _run_beside(shapes: Sequence[_Shape], data: Graph, ontology: Graph, predicates: set[URIRef],
                rows: Sequence[Rows], typed: Sequence[Typed] = ()) -> list[Result] | None:
    """:func:`run` with each row's checks worked out once per value: a quote's source, offsets and
    checksum are shared by many quotes, and a count is one value per column. The graph's focus nodes
    are checked as before; ``None`` when the rows cannot be checked apart from the graph (the graph
    says something of a row's subject) or hold what only the general path reads (an offset that is
    not a whole number): :func:`run` then checks them together."""
    ix = _Index([data, ontology], predicates)
    for values in ix.values.values():
        if any(s in r for s in values.subjects() for r in rows):
            return None
    for r in rows:
        ix.typed_rows(r)
    for t in typed:
        ix.typed_rows(t)
    results: list[Result] = []
    terms: dict[tuple[Any, ...], Node] = {}
    for r in rows:
        classes = ix.superclasses(r.kind)
        subjects = [s for s, _ in r.subject_objects(RDF.type)]
        for shape in shapes:
            if classes.isdisjoint(shape.targets):
                continue
            found = _row_results(shape, ix, r, subjects, terms)
            if found is None:
                return None
            results += found
    return _graph_results(shapes, ix, None) + results


def _row_results(shape: _Shape, ix: _Index, rows: Rows, subjects: Sequence[Node],
                 terms: dict[tuple[Any, ...], Node]) -> list[Result] | None:
    """The violations of ``shape`` by the rows' ``subjects`` (each has one value of a column): the
    checks of a value run once for the subjects that share it (while it is remembered: see
    :data:`_REMEMBERED`); ``terms``: the terms made so far (by maker and value), shared by the shapes
    of one run."""
    column = rows.column(shape.path)
    values, term = column if column is not None else ({}, lambda v: v)
    results: list[Result] = []
    path, message = shape.path, shape.message
    for kind, check in shape.checks:
        if kind == "count":  # every row has one value of a column, none of another predicate
            sample = [term(next(iter(values.values())))] if values else []
            failed = check(URIRef(""), sample, ix)
            results += [(s, path, message, v) for s in subjects for v in failed]
        elif kind == "pair":  # sh:lessThan between two columns of whole numbers (a quote's start and end)
            other = rows.column(next(iter(shape.reads))) if len(shape.reads) == 1 else None
            if other is None or not all(type(v) is int for v in (*values.values(), *other[0].values())):
                return None
            ends = other[0]
            results += [(s, path, message, term(v)) for s, v in values.items() if not v < ends[s]]
    checks = [check for kind, check in shape.checks if kind == "value"]
    if checks:
        # each value's term and checks, remembered for the rows that share it, in a bounded memory:
        # a text (a quote's exact words) is one row's, and remembering every text, with a group
        # and a term for each, was half of what checking held (59 of 108 MB at 50k quotes). Other
        # values' terms are kept for the other shapes (a quote's offsets: as many as a document
        # has characters, whatever the number of quotes)
        failures: dict[tuple[type, Any], tuple[Node, int]] = {}
        for s, v in values.items():
            key = (type(v), v)
            known = failures.get(key)
            if known is None:
                text = key[0] is str
                obj = None if text else terms.get((term, key[0], v))
                if obj is None:
                    obj = term(v)
                    if not text:
                        terms[(term, key[0], v)] = obj
                failing = 0
                for check in checks:
                    if check(s, [obj], ix):
                        failing += 1
                if len(failures) >= _REMEMBERED:
                    failures.clear()
                known = failures[key] = (obj, failing)
            if known[1]:
                results += [(s, path, message, known[0])] * known[1]
    return results


#: how many of a column's values (and whether they pass) a check remembers at most
_REMEMBERED = 65_536
