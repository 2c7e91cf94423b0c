"""Filters, sort keys, keyset pages and aggregates over one label, compiled into Cypher.

The API describes what each of its node types can be filtered and sorted by (:class:`Prop` for a
stored property, :class:`Rel` for a walk to related nodes, a :data:`Catalogue` of them by type
name, derived from the fields' read declarations); a request's ``where`` and ``sort`` arrive as
plain dicts and lists. Everything the statement text is made of comes from that catalogue and from
the closed sets of operators, labels and relationship types; every value the user gave is a
parameter (``$w0``, ``$w1`` … for filters, ``$c0`` … for a cursor's keys).

A filter on related nodes is a ``CALL { WITH v MATCH … RETURN count(x) }`` subquery that counts the
related nodes that match (``some``: more than none; ``none``: none; ``all``: none that fails). Both
stores answer that form; a pattern comprehension inside another one does not work on FalkorDB
(``../shared/design/cypher-dialects.md``), so nesting goes through subqueries. Every comparison is
wrapped in ``coalesce(…, false)`` under a ``NOT``: a node without the property fails ``eq`` and passes
``NOT eq`` on both stores alike, as a user reads it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kxgraph.graph.read_tree import LIST_KEY, Child, DocumentPart, Emitter, Select, Walk, by_id
from kxgraph.ontology.vocabulary import NodeLabel, check_label

__all__ = [
    "OPERATORS",
    "Catalogue",
    "Connection",
    "CursorError",
    "FilterError",
    "Label",
    "Listing",
    "Prop",
    "Rel",
    "TreeEmitter",
    "Via",
    "aggregate_statement",
    "check_cursor",
    "connection_batch",
    "group_statement",
    "page_statement",
    "tree_by_id",
]

Kind = Literal["string", "id", "int", "float"]


@dataclass(frozen=True)
class Prop:
    """A stored property a type can be filtered and sorted by."""

    key: str
    kind: Kind


@dataclass(frozen=True)
class Rel:
    """A walk to related nodes of the type named ``target``; ``many``: a to-many relationship."""

    walk: Walk
    many: bool
    target: str


Fields = Mapping[str, Prop | Rel]
#: type name -> field name -> what it is
Catalogue = Mapping[str, Fields]

#: each operator, the property kinds it applies to, and its Cypher over ``{e}`` (the property) and
#: ``{p}`` (the parameter)
OPERATORS: dict[str, tuple[frozenset[str], str]] = {
    "eq": (frozenset({"string", "id", "int", "float"}), "{e} = {p}"),
    "in": (frozenset({"string", "id", "int", "float"}), "{e} IN {p}"),
    "contains": (frozenset({"string", "id"}), "toLower({e}) CONTAINS toLower({p})"),
    "startsWith": (frozenset({"string", "id"}), "toLower({e}) STARTS WITH toLower({p})"),
    "lt": (frozenset({"int", "float", "string"}), "{e} < {p}"),
    "lte": (frozenset({"int", "float", "string"}), "{e} <= {p}"),
    "gt": (frozenset({"int", "float", "string"}), "{e} > {p}"),
    "gte": (frozenset({"int", "float", "string"}), "{e} >= {p}"),
}
#: what a missing value sorts as, per kind: before every stored value
_LOWEST = {"string": "''", "id": "''", "int": "-1.0E300", "float": "-1.0E300"}


class FilterError(ValueError):
    """A filter or sort the catalogue does not allow (the API's input types never produce one)."""


def _prop(var: str, key: str) -> str:
    if not key.replace("_", "a").isalnum():
        raise FilterError(f"{key!r} is not a property name")
    return f"{var}.`{key}`"


def _never(var: str) -> str:
    """A condition no node meets (``NOT {}``), written so that no store folds it to a constant:
    FalkorDB drops the rows of an aggregate that follows a constant-false filter (``count`` then
    gives no row instead of 0, and a subquery that gives no row drops its parent)."""
    return f"({var}.id IS NULL)"


@dataclass
class _Builder:
    catalogue: Catalogue
    params: dict[str, Any] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def param(self, value: Any) -> str:
        name = f"w{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    # --- where -------------------------------------------------------------------------------------
    def where(self, var: str, type_name: str, where: Mapping[str, Any],
              negated: bool = False) -> tuple[list[str], list[str], str]:
        """The subqueries, the variables they give and the predicate of ``where`` over ``var``;
        ``negated``: the predicate is under a NOT."""
        fields = self.catalogue.get(type_name)
        if fields is None:
            raise FilterError(f"{type_name} cannot be filtered")
        calls: list[str] = []
        carried: list[str] = []
        terms: list[str] = []
        for name, value in where.items():
            if name in ("AND", "OR"):
                parts = []
                for item in value:
                    c, v, p = self.where(var, type_name, item, negated)
                    calls += c
                    carried += v
                    parts.append(p)
                if parts:
                    terms.append("(" + f" {name} ".join(parts) + ")")
            elif name == "NOT":
                c, v, p = self.where(var, type_name, value, not negated)
                calls += c
                carried += v
                terms.append(f"(NOT {p})" if p != "true" else _never(var))
            else:
                spec = fields.get(name)
                if spec is None:
                    raise FilterError(f"{type_name} has no field {name!r} to filter on")
                if isinstance(spec, Prop):
                    terms.append(self.leaf(var, spec, value, negated))
                else:
                    c, v, p = self.related(var, spec, value)
                    calls += c
                    carried += v
                    terms.append(p)
        return calls, carried, " AND ".join(terms) if terms else "true"

    def leaf(self, var: str, spec: Prop, ops: Mapping[str, Any], negated: bool) -> str:
        parts = []
        for op, value in ops.items():
            kinds, template = OPERATORS.get(op, (frozenset(), ""))
            if spec.kind not in kinds:
                raise FilterError(f"{op!r} does not apply to {spec.key}")
            test = template.format(e=_prop(var, spec.key), p=self.param(value))
            # null (no such property) fails a test as false does, but under a NOT it would fail too:
            # there it is made false, so that NOT passes it (the store's index serves the plain form)
            parts.append(f"coalesce({test}, false)" if negated else test)
        return "(" + " AND ".join(parts) + ")" if parts else "true"

    def related(self, var: str, spec: Rel, value: Mapping[str, Any]) -> tuple[list[str], list[str], str]:
        quantified = value.items() if spec.many else [("some", value)]
        calls, carried, terms = [], [], []
        for quantifier, inner in quantified:
            if quantifier not in ("some", "none", "all"):
                raise FilterError(f"{quantifier!r} is not some, none or all")
            x, out = self.fresh("r"), self.fresh("q")
            inner_calls, inner_vars, predicate = self.where(x, spec.target, inner, quantifier == "all")
            if quantifier == "all":
                predicate = f"NOT ({predicate})" if predicate != "true" else _never(x)
            distinct = f" WITH DISTINCT {x}" if spec.walk.distinct else ""
            keep = ", ".join([x, *inner_vars])
            calls.append(f"CALL {{ WITH {var} MATCH {spec.walk.match(f'({var})', x)}{distinct} "
                         f"{' '.join(inner_calls)} WITH {keep} WHERE {predicate} RETURN count({x}) AS {out} }}")
            carried.append(out)
            terms.append(f"{out} > 0" if quantifier == "some" else f"{out} = 0")
        return calls, carried, "(" + " AND ".join(terms) + ")" if terms else "true"

    # --- sort --------------------------------------------------------------------------------------
    def sort_key(self, var: str, type_name: str, path: Sequence[str]) -> tuple[list[str], str, Kind]:
        """The subqueries, the expression (null where the node has no value) and the kind of one
        sort key: a property, or a property of a single related node."""
        spec = self.catalogue.get(type_name, {}).get(path[0])
        if spec is None:
            raise FilterError(f"{type_name} has no field {path[0]!r} to sort by")
        if isinstance(spec, Prop):
            if len(path) != 1:
                raise FilterError(f"{path[0]} is a value, not a relationship")
            return [], _prop(var, spec.key), spec.kind
        if spec.many or len(path) < 2:
            raise FilterError(f"{path[0]} is not a single related node to sort by")
        x, out = self.fresh("r"), self.fresh("s")
        inner_calls, expr, kind = self.sort_key(x, spec.target, path[1:])
        calls = [f"CALL {{ WITH {var} MATCH {spec.walk.match(f'({var})', x)} {' '.join(inner_calls)} "
                 f"RETURN min({expr}) AS {out} }}".replace("  ", " ")]
        return calls, out, kind


@dataclass(frozen=True)
class Via:
    """Where a nested list starts: its parent node (of ``parent``'s label, by ``$parent`` when the
    statement is the list's own) and the walk from it to the listed nodes."""

    parent: NodeLabel
    walk: Walk


@dataclass(frozen=True)
class Listing:
    """One list request: the label (None for an interface reached by a walk), the type its filters
    and sorts are read against, the filter (``where``, plus the legacy study and text filters), the
    order (``sort``: paths and descending flags; empty: by display text, or for a nested list in the
    walk's order) and, for a nested list, where it starts (``via``)."""

    label: NodeLabel | None
    type_name: str
    where: Mapping[str, Any] = field(default_factory=dict)
    sort: tuple[tuple[tuple[str, ...], bool], ...] = ()
    descending: bool = False  # the display-text order's direction when ``sort`` is empty
    contains: bool = False  # the legacy ``$contains`` filter on the display text
    via: Via | None = None


def _filtered(b: _Builder, v: str, listing: Listing, parent: str | None = None) -> str:
    """``MATCH`` of the listing's nodes and its filter. Conditions on the node's own fields, and on
    a single related node or ``some`` of a set by their own fields, go in one ``MATCH … WHERE``, so
    that the store's planner may start from whichever index serves them best (as a hand-written
    statement would: from the stakeholder by id to its consequences); the other conditions on related
    nodes come after the subqueries that count them. A nested list starts from ``parent`` (a variable
    in scope) or, without one, from its parent node by ``$parent``."""
    fields = b.catalogue.get(listing.type_name, {})
    own = {k: w for k, w in listing.where.items() if isinstance(fields.get(k), Prop)}
    _, _, predicate = b.where(v, listing.type_name, own)
    terms = [] if predicate == "true" else [predicate]
    if listing.contains:
        terms.append(f"toLower({LIST_KEY.format(v=v)}) CONTAINS toLower($contains)")
    # one MATCH clause each (not one pattern list), so that two walks may share relationships
    clauses: list[str] = []
    distinct = False
    pinned = None
    if listing.via is None:
        if listing.label is None:
            raise FilterError(f"a list of {listing.type_name} needs a label or a walk")
        start = f"MATCH ({v}:{check_label(listing.label).value})"
        pin = _pinned(b, fields, listing.where)
        if pin is not None:  # from the related node the filter names by id, to the listed nodes
            pinned, rel, named = pin
            x = b.fresh("r")
            _, _, p = b.where(x, rel.target, named)
            clauses.append(f"MATCH ({x}:{check_label(rel.target).value}) WHERE {p} WITH {x}")
            pattern, labels = rel.walk.parts(f"({v}:{check_label(listing.label).value})", x)
            start = f"MATCH {pattern}"
            terms = [labels, *terms] if labels else terms
            distinct = True
    else:
        if parent is None:
            parent = b.fresh("p")
            clauses.append(f"MATCH ({parent}:{check_label(listing.via.parent).value} {{id: $parent}})")
        pattern, labels = listing.via.walk.parts(f"({parent})", v, listing.label)
        start = f"MATCH {pattern}"
        terms = [labels, *terms] if labels else terms
        distinct = listing.via.walk.distinct
    clauses.append(start + (f" WHERE {' AND '.join(terms)}" if terms else ""))
    rest: dict[str, Any] = {}
    for name, value in listing.where.items():
        spec = fields.get(name)
        if name in own or name == pinned:
            continue
        inner = _joinable(b, spec, value)
        if inner is None or not isinstance(spec, Rel):
            rest[name] = value
            continue
        x = b.fresh("r")
        target = NodeLabel(spec.target) if spec.target in NodeLabel.__members__ else None
        pattern, labels = spec.walk.parts(f"({v})", x, target)
        _, _, p = b.where(x, spec.target, inner)
        clauses.append(f"MATCH {pattern} WHERE {' AND '.join(t for t in (labels, p) if t)}")
        distinct = True
    head = " ".join(clauses)
    if distinct:
        head += f" WITH DISTINCT {v}"
    calls, carried, after = b.where(v, listing.type_name, rest)
    if after == "true":
        return head
    return f"{head} {' '.join(calls)} WITH {', '.join([v, *carried])} WHERE {after}".replace("  ", " ")


def _pinned(b: _Builder, fields: Fields, where: Mapping[str, Any]) -> tuple[str, Rel, Mapping[str, Any]] | None:
    """A condition on a single related node (or ``some`` of a set) that names it by id, such as
    ``{stakeholder: {id: {eq: …}}}``: its field, its relation and the related node's conditions.
    A top-level list filtered so starts there, from the id index, and walks to the listed nodes.
    FalkorDB's planner otherwise starts from every node of the listed label, whatever the order of
    the patterns (all 250k consequences at 1M quotes, for the dozen of one stakeholder); a ``WITH``
    between the two ``MATCH`` clauses is what makes it start from the index."""
    for name, value in where.items():
        spec = fields.get(name)
        inner = _joinable(b, spec, value)
        if not isinstance(spec, Rel) or inner is None or spec.target not in NodeLabel.__members__:
            continue
        by_id = inner.get("id")
        if isinstance(by_id, Mapping) and set(by_id) == {"eq"}:
            return name, spec, inner
    return None


def _joinable(b: _Builder, spec: Prop | Rel | None, value: Any) -> Mapping[str, Any] | None:
    """The related node's own conditions, when a condition on relatives is a plain match: a single
    related node, or ``some`` of a set, filtered on their own fields only."""
    if not isinstance(spec, Rel) or not isinstance(value, Mapping):
        return None
    inner = value.get("some") if spec.many and set(value) == {"some"} else (None if spec.many else value)
    target = b.catalogue.get(spec.target, {})
    if not isinstance(inner, Mapping) or not inner or not all(isinstance(target.get(k), Prop) for k in inner):
        return None
    return inner


@dataclass(frozen=True)
class Label:
    """What nodes can be grouped by besides their fields: their kind (label)."""


class CursorError(FilterError):
    """A cursor made for another order than the request's."""


@dataclass(eq=False)
class Connection(Child):
    """A nested page of a to-many walk (a Relay connection at a node of the tree): its listing (with
    ``via``), the page (``size`` nodes after or before ``cursor``'s keys), and what to give — the
    page (``page``), and ``figures``: None, or how many nodes match with the least, greatest and total
    of each of these numeric properties."""

    listing: Listing = field(default_factory=lambda: Listing(None, ""))
    size: int = 20
    backwards: bool = False
    cursor: tuple[Any, ...] | None = None
    page: bool = True
    figures: tuple[str, ...] | None = None
    #: counts grouped by a field: (a name for the answer, what to group by)
    groups: tuple[tuple[str, Prop | Rel | Label], ...] = ()

    def spec(self) -> tuple[Any, ...]:
        """What the page is, whichever type of parent asks for it (a fragment on an interface asks
        once per type): the parent's label only names it in the resolvers' form."""
        listing = self.listing
        return (self.walk, listing.label, listing.type_name, repr(listing.where), listing.sort, self.size,
                self.backwards, self.cursor)


def _walk_keys(v: str, order: str) -> list[tuple[str, Kind]]:
    """A nested list's keys without ``sort``: its walk's order (``reads.build_many``'s, as the
    plain list gives it), made of values a cursor can hold and compare."""
    if order == "start":
        return [(f"coalesce({v}.start, 0)", "int"), (f"{v}.id", "id")]
    if order == "position":
        return [(f"coalesce({v}.position, 0)", "float"), (f"{v}.id", "id")]
    if order == "none":
        return [(f"{v}.id", "id")]
    return [(f"CASE WHEN {v}.ordinal IS NULL THEN 1 ELSE 0 END", "int"), (f"coalesce({v}.ordinal, 0)", "int"),
            (f"coalesce({v}.name, {v}.text, '')", "string"), (f"{v}.id", "id")]


def check_cursor(cursor: Sequence[Any], kinds: Sequence[Kind]) -> None:
    """A cursor made for this order: as many keys, each a number or a text as its key is."""
    numeric = ("int", "float")
    if len(cursor) != len(kinds) or any((isinstance(c, (int, float)) and not isinstance(c, bool)) != (k in numeric)
                                        for c, k in zip(cursor, kinds, strict=True)):
        raise CursorError("the cursor was made for another order; start again without it")


class TreeEmitter(Emitter):
    """The tree's emitter that also writes nested connections: one builder (variables and
    parameters) for the whole statement, so that no two parts share a name."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.b = _Builder(catalogue)

    @property
    def params(self) -> dict[str, Any]:
        return self.b.params

    def keys(self, v: str, listing: Listing, backwards: bool) -> tuple[list[str], list[tuple[str, bool]], list[Kind]]:
        """The subqueries, the keys (expression, descending) a page is sorted and cut by, and the
        kind of each key's values."""
        calls: list[str] = []
        keys: list[tuple[str, bool]] = []
        kinds: list[Kind] = []
        if listing.sort:
            for path, desc in listing.sort:
                c, expr, kind = self.b.sort_key(v, listing.type_name, path)
                calls += c
                keys.append((f"coalesce({expr}, {_LOWEST[kind]})", desc))
                kinds.append(kind)
            keys.append((f"{v}.id", False))
            kinds.append("id")
        elif listing.via is not None:
            walk_keys = _walk_keys(v, listing.via.walk.order)
            keys = [(k, False) for k, _ in walk_keys]
            kinds = [kind for _, kind in walk_keys]
        else:
            keys = [(LIST_KEY.format(v=v), listing.descending), (f"{v}.id", listing.descending)]
            kinds = ["string", "id"]
        if backwards:
            keys = [(expr, not desc) for expr, desc in keys]
        return calls, keys, kinds

    def page(self, v: str, listing: Listing, select: Select, *, backwards: bool, prefix: str,
             cursor: Sequence[Any] | str | None, limit: str,
             parent: str | None = None, total: str | None = None) -> tuple[str, list[str], str, str, list[Kind]]:
        """A keyset page up to its sorted, cut rows with their children: the text, the key
        variables (``{prefix}0`` …), the ORDER BY items, the node's projection and the keys' kinds.
        ``cursor``: the keys to start after, as values (checked, each made a parameter) or as the
        prefix of parameters that the caller gives (``$c`` for ``$c0`` …). ``total``: a variable that
        each row carries, how many nodes match (counted in the same pass as the page is sorted,
        where a count of its own would match them all again); only without a cursor, since a page
        that comes out empty says nothing then."""
        text = [_filtered(self.b, v, listing, parent)]
        carry = ""
        if total is not None:
            if cursor is not None:
                raise FilterError("a page after a cursor cannot count the nodes that match")
            text.append(f"WITH collect({v}) AS {v}_all, count({v}) AS {total} UNWIND {v}_all AS {v}")
            carry = f"{total}, "
        calls, keys, kinds = self.keys(v, listing, backwards)
        text += calls
        names = [f"{prefix}{i}" for i in range(len(keys))]
        if isinstance(cursor, str):
            cursor = [f"{cursor}{i}" for i in range(len(keys))]
        elif cursor is not None:
            check_cursor(cursor, kinds)
            cursor = [self.b.param(k) for k in cursor]
        text.append(f"WITH {v}, {carry}" + ", ".join(f"{expr} AS {n}"
                                                     for (expr, _), n in zip(keys, names, strict=True)))
        if cursor is not None:
            ors = []
            for i, (n, (_, desc)) in enumerate(zip(names, keys, strict=True)):
                same = [f"{m} = {cursor[j]}" for j, m in enumerate(names[:i])]
                ors.append("(" + " AND ".join([*same, f"{n} {'<' if desc else '>'} {cursor[i]}"]) + ")")
            text.append("WHERE " + " OR ".join(ors))
        order = ", ".join(f"{n} {'DESC' if desc else 'ASC'}" for n, (_, desc) in zip(names, keys, strict=True))
        inner, fields, defined = self.calls(v, select)
        text.append(f"WITH {v}, {carry}{', '.join(names)} ORDER BY {order} LIMIT {limit} {inner}")
        if defined:  # the children's subqueries need not keep the rows' order: sort them again
            text.append(f"WITH {', '.join([v, *names, *defined])}{', ' + total if total else ''} ORDER BY {order}")
        return " ".join(t for t in text if t), names, order, self.projection(v, select, fields), kinds

    def figures(self, v: str, listing: Listing, numeric: Sequence[str], out: str, parent: str | None = None) -> str:
        """``MATCH`` … ``RETURN`` of how many nodes match, and each ``numeric`` property's least,
        greatest and total and how many have it: ``{out}_n``, ``{out}_min0`` …"""
        parts = [f"count({v}) AS {out}_n"]
        for i, key in enumerate(numeric):
            p = _prop(v, key)
            parts += [f"min({p}) AS {out}_min{i}", f"max({p}) AS {out}_max{i}", f"sum({p}) AS {out}_sum{i}",
                      f"count({p}) AS {out}_has{i}"]
        return f"{_filtered(self.b, v, listing, parent)} RETURN {', '.join(parts)}"

    def child(self, parent: str, child: Child, out: str,
              cuts: Sequence[tuple[str, DocumentPart]] = ()) -> tuple[str, str, list[str]]:
        if not isinstance(child, Connection):
            return super().child(parent, child, out, cuts)
        text: list[str] = []
        value = {"page": "null"}
        if child.page:
            v = self.var()
            body, names, _, projection, _ = self.page(
                v, child.listing, child.select, backwards=child.backwards, prefix=f"{out}_k", cursor=child.cursor,
                limit=self.b.param(child.size + 1), parent=parent)
            text.append(f"CALL {{ WITH {parent} {body} RETURN collect({{keys: [{', '.join(names)}], "
                        f"node: {projection}}}) AS {out} }}")
            value["page"] = out
        if child.figures is not None:
            a = self.var()
            text.append(f"CALL {{ WITH {parent} {self.figures(a, child.listing, child.figures, out, parent)} }}")
            value["n"] = f"{out}_n"
            for i in range(len(child.figures)):
                for part in ("min", "max", "sum", "has"):
                    value[f"{part}{i}"] = f"{out}_{part}{i}"
        for i, (_, by) in enumerate(child.groups):
            g = f"{out}_g{i}"
            text.append(f"CALL {{ WITH {parent} {self.group(self.var(), child.listing, by, g, parent)} }}")
            value[f"g{i}"] = g
        expr = "{" + ", ".join(f"{k}: {e}" for k, e in value.items()) + "}"
        return " ".join(text).replace("  ", " "), expr, [e for e in value.values() if e != "null"]

    def group(self, v: str, listing: Listing, by: Prop | Rel | Label, out: str, parent: str | None = None) -> str:
        """``MATCH`` … ``RETURN`` of how many matching nodes have each value of ``by``, collected into
        ``out`` as maps ``value``, ``name``, ``n``."""
        head = _filtered(self.b, v, listing, parent)
        if isinstance(by, Rel):
            x = self.var()
            head += f" OPTIONAL MATCH {by.walk.match(f'({v})', x)} WITH DISTINCT {v}, {x}"
            value, name = f"{x}.id", LIST_KEY.format(v=x)
        else:
            value, name = (_prop(v, by.key) if isinstance(by, Prop) else f"labels({v})[0]"), "null"
        return (f"{head} WITH {value} AS {out}_v, {name} AS {out}_m, count({v}) AS {out}_n "
                f"RETURN collect({{value: {out}_v, name: {out}_m, n: {out}_n}}) AS {out}")


def page_statement(catalogue: Catalogue, listing: Listing, select: Select, *, backwards: bool = False,
                   cursor: bool = False, total: bool = False) -> tuple[str, dict[str, Any], list[Kind]]:
    """One keyset page of ``listing`` with ``select``'s tree; rows ``k0`` … (the sort keys, the id
    last), ``node``, in the page's order (reversed when ``backwards``: the caller turns it back), and
    with ``total`` (not with ``cursor``) ``total``, how many nodes match. Parameters: the filter's,
    ``$limit``, ``$parent`` for a nested list, and with ``cursor`` the keys ``$c0`` … to start after.
    Returns the statement, the filter's (and the nested connections') parameters and the kinds of
    the keys a cursor holds (:func:`check_cursor`)."""
    e = TreeEmitter(catalogue)
    v = e.var()
    body, names, order, projection, kinds = e.page(v, listing, select, backwards=backwards, prefix="k",
                                                   cursor="$c" if cursor else None, limit="$limit",
                                                   total="total" if total else None)
    counted = ", total" if total else ""
    return (f"{body} RETURN {', '.join(names)}, {projection} AS node{counted} ORDER BY {order}".replace("  ", " "),
            e.params, kinds)


def connection_batch(catalogue: Catalogue, parent: NodeLabel, connection: Connection) -> tuple[str, dict[str, Any]]:
    """The resolvers' form of a nested connection: its answer for each of a batch of parents
    (``$parents``, ids of ``parent``'s label), rows ``pid``, ``value`` (the map the compiled tree
    gives for it); with the statement's parameters."""
    e = TreeEmitter(catalogue)
    v = e.var()
    calls, fields, _ = e.calls(v, Select(children=[connection]))
    return (f"UNWIND $parents AS pid MATCH ({v}:{check_label(parent).value} {{id: pid}}) {calls} "
            f"RETURN pid, {fields[connection.key]} AS value", e.params)


def tree_by_id(catalogue: Catalogue, label: NodeLabel, select: Select) -> tuple[str, dict[str, Any]]:
    """``read_tree.by_id`` for a tree that may hold nested connections; with their parameters."""
    e = TreeEmitter(catalogue)
    return by_id(label, select, e), e.params


def aggregate_statement(catalogue: Catalogue, listing: Listing, numeric: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """How many nodes match, and the least, greatest and total of each ``numeric`` property; one
    row: ``a_n``, ``a_min0``, ``a_max0``, ``a_sum0``, ``a_has0`` (how many have it) …"""
    e = TreeEmitter(catalogue)
    return e.figures(e.var(), listing, numeric, "a"), e.params


def group_statement(catalogue: Catalogue, listing: Listing, by: Prop | Rel | Label) -> tuple[str, dict[str, Any]]:
    """How many matching nodes have each value of a property, each kind of node, or each single
    related node (its id and display text; null for the nodes without one): one row, ``g``, a list
    of maps ``value``, ``name``, ``n`` (the same statement a nested connection's groups are)."""
    e = TreeEmitter(catalogue)
    return e.group(e.var(), listing, by, "g"), e.params
