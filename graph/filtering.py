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

from kxgraph.graph.read_tree import LIST_KEY, Emitter, Select, Walk
from kxgraph.ontology.vocabulary import NodeLabel, check_label

__all__ = [
    "OPERATORS",
    "Catalogue",
    "Listing",
    "Prop",
    "Rel",
    "aggregate_statement",
    "group_statement",
    "page_statement",
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
                terms.append(f"(NOT {p})")
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
                predicate = f"NOT ({predicate})"
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
class Listing:
    """One list request: the label, the type its filters and sorts are read against, the filter
    (``where``, plus the legacy study and text filters), and the order (``sort``: paths and
    descending flags; empty: by display text)."""

    label: NodeLabel
    type_name: str
    where: Mapping[str, Any] = field(default_factory=dict)
    sort: tuple[tuple[tuple[str, ...], bool], ...] = ()
    descending: bool = False  # the display-text order's direction when ``sort`` is empty
    contains: bool = False  # the legacy ``$contains`` filter on the display text


def _filtered(b: _Builder, v: str, listing: Listing) -> str:
    """``MATCH`` of the listing's nodes and its filter. Conditions on the node's own fields, and on
    a single related node or ``some`` of a set by their own fields, go in one ``MATCH … WHERE``, so
    that the store's planner may start from whichever index serves them best (as a hand-written
    statement would: from the stakeholder by id to its consequences); the other conditions on related
    nodes come after the subqueries that count them."""
    fields = b.catalogue.get(listing.type_name, {})
    own = {k: w for k, w in listing.where.items() if isinstance(fields.get(k), Prop)}
    _, _, predicate = b.where(v, listing.type_name, own)
    terms = [] if predicate == "true" else [predicate]
    if listing.contains:
        terms.append(f"toLower({LIST_KEY.format(v=v)}) CONTAINS toLower($contains)")
    # one MATCH clause each (not one pattern list), so that two walks may share relationships
    clauses = [f"MATCH ({v}:{check_label(listing.label).value})" + (f" WHERE {' AND '.join(terms)}" if terms else "")]
    rest: dict[str, Any] = {}
    for name, value in listing.where.items():
        spec = fields.get(name)
        if name in own:
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
    head = " ".join(clauses)
    if len(clauses) > 1:
        head += f" WITH DISTINCT {v}"
    calls, carried, after = b.where(v, listing.type_name, rest)
    if after == "true":
        return head
    return f"{head} {' '.join(calls)} WITH {', '.join([v, *carried])} WHERE {after}".replace("  ", " ")


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


def page_statement(catalogue: Catalogue, listing: Listing, select: Select, *, backwards: bool = False,
                   cursor: bool = False) -> tuple[str, dict[str, Any], int]:
    """One keyset page of ``listing`` with ``select``'s tree; rows ``k0`` … (the sort keys, the id
    last), ``node``, in the page's order (reversed when ``backwards``: the caller turns it back).
    Parameters: the filter's, ``$limit``, and with ``cursor`` the keys ``$c0`` … to start after.
    Returns the statement, the filter's parameters and how many keys a cursor holds."""
    b = _Builder(catalogue)
    e = Emitter()
    v = e.var()
    text = [_filtered(b, v, listing)]
    keys: list[tuple[str, bool]] = []
    if listing.sort:
        for path, desc in listing.sort:
            calls, expr, kind = b.sort_key(v, listing.type_name, path)
            text += calls
            keys.append((f"coalesce({expr}, {_LOWEST[kind]})", desc))
        keys.append((f"{v}.id", False))
    else:
        keys = [(LIST_KEY.format(v=v), listing.descending), (f"{v}.id", listing.descending)]
    if backwards:
        keys = [(expr, not desc) for expr, desc in keys]
    names = [f"k{i}" for i in range(len(keys))]
    text.append(f"WITH {v}, " + ", ".join(f"{expr} AS {n}" for (expr, _), n in zip(keys, names, strict=True)))
    if cursor:
        ors = []
        for i, (n, (_, desc)) in enumerate(zip(names, keys, strict=True)):
            same = [f"{m} = $c{j}" for j, m in enumerate(names[:i])]
            ors.append("(" + " AND ".join([*same, f"{n} {'<' if desc else '>'} $c{i}"]) + ")")
        text.append("WHERE " + " OR ".join(ors))
    order = ", ".join(f"{n} {'DESC' if desc else 'ASC'}" for n, (_, desc) in zip(names, keys, strict=True))
    inner, fields = e.calls(v, select)
    text.append(f"WITH {v}, {', '.join(names)} ORDER BY {order} LIMIT $limit {inner}")
    text.append(f"RETURN {', '.join(names)}, {e.projection(v, select, fields)} AS node ORDER BY {order}")
    return " ".join(t for t in text if t).replace("  ", " "), b.params, len(keys)


def aggregate_statement(catalogue: Catalogue, listing: Listing, numeric: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """How many nodes match, and the least, greatest and total of each ``numeric`` property; one
    row: ``n``, ``min_<p>``, ``max_<p>``, ``sum_<p>``, ``has_<p>`` (how many have it)."""
    b = _Builder(catalogue)
    v = "n0"
    parts = ["count(n0) AS n"]
    for i, key in enumerate(numeric):
        p = _prop(v, key)
        parts += [f"min({p}) AS min_{i}", f"max({p}) AS max_{i}", f"sum({p}) AS sum_{i}", f"count({p}) AS has_{i}"]
    return f"{_filtered(b, v, listing)} RETURN {', '.join(parts)}", b.params


def group_statement(catalogue: Catalogue, listing: Listing, by: Prop | Rel) -> tuple[str, dict[str, Any]]:
    """How many matching nodes have each value of a property, or each single related node (its id
    and display text; null for the nodes without one); rows ``value``, ``name``, ``n``."""
    b = _Builder(catalogue)
    head = _filtered(b, "n0", listing)
    if isinstance(by, Prop):
        return f"{head} RETURN {_prop('n0', by.key)} AS value, null AS name, count(n0) AS n", b.params
    return (f"{head} OPTIONAL MATCH {by.walk.match('(n0)', 'g')} WITH DISTINCT n0, g "
            f"RETURN g.id AS value, {LIST_KEY.format(v='g')} AS name, count(n0) AS n", b.params)
