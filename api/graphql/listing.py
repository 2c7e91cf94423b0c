"""A list request — ``where``, ``sort``, Relay paging both ways, ``aggregate`` — from its GraphQL
arguments to the store's answer, one path for the resolvers and the compiler.

What a type can be filtered and sorted by is read from its fields' declarations (``reads.py``): a
stored property of a scalar type, or a walk to other store nodes (:func:`catalogue`). The statements
are built in ``graph/filtering.py``. A cursor holds the page's sort keys and the id (base64 of a
JSON list), so it is valid for the order it was made in.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from kxgraph.api.graphql.errors import RequestError
from kxgraph.api.graphql.pagination import DEFAULT_PAGE_SIZE, decode_cursor, encode_cursor
from kxgraph.api.graphql.reads import READ
from kxgraph.graph import filtering
from kxgraph.graph.filtering import Catalogue, FilterError, Listing, Prop, Rel
from kxgraph.graph.read_tree import Select
from kxgraph.ontology.vocabulary import NodeLabel

__all__ = ["Page", "PageRequest", "aggregate", "catalogue", "count", "fetch_page", "groups", "parse", "plain",
           "store_classes"]

_KINDS = {"ID": "id", "str": "string", "int": "int", "float": "float"}


def _unwrap(typ: Any) -> tuple[Any, bool]:
    """The named type inside optionals and lists, and whether there was a list."""
    many = False
    while hasattr(typ, "of_type"):
        many = many or type(typ).__name__ == "StrawberryList"
        typ = typ.of_type
    return typ, many


@functools.cache
def store_classes() -> dict[str, type[Any]]:
    """The GraphQL classes of store nodes by type name: one per label, and their interfaces."""
    from kxgraph.api.graphql import types as t

    classes: dict[str, type[Any]] = {}
    every: list[Any] = [*t.TYPES.values(), t.Entity, t.Claim, t.Occasion, t.ConceptLike]
    for cls in every:
        classes[cls.__strawberry_definition__.name] = cls
    return dict(sorted(classes.items()))


@functools.cache
def catalogue() -> Catalogue:
    """Per store type, its fields that can be filtered and sorted on: scalar properties and walks to
    other store types (lists of values and computed fields are left out)."""
    classes = store_classes()
    by_class = {cls: name for name, cls in classes.items()}
    out: dict[str, dict[str, Prop | Rel]] = {}
    for name, cls in classes.items():
        fields: dict[str, Prop | Rel] = {}
        for f in cls.__strawberry_definition__.fields:
            read = f.metadata.get(READ)
            if read is None:
                continue
            named, many = _unwrap(f.type)
            if read.prop is not None and not many:
                kind = _KINDS.get(getattr(named, "__name__", "")) or ("id" if named is strawberry.ID else None)
                if kind is not None:
                    fields[_name(f)] = Prop(read.prop, kind)  # type: ignore[arg-type]
            elif read.walk is not None and named in by_class:
                fields[_name(f)] = Rel(read.walk, read.many, by_class[named])
        out[name] = fields
    return out


def _name(f: Any) -> str:
    return f.graphql_name or to_camel_case(f.python_name)


def plain(value: Any) -> Any:
    """An input value as plain dicts and lists keyed by GraphQL field names, without the fields not
    given: from Strawberry's input objects (the resolvers get those) or graphql-core's dicts (the
    compiler does)."""
    if isinstance(value, list):
        return [plain(v) for v in value if v is not None]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None and v is not strawberry.UNSET}
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is None:
        return value
    out = {}
    for f in definition.fields:
        v = getattr(value, f.python_name)
        if v is not strawberry.UNSET and v is not None:
            out[_name(f)] = plain(v)
    return out


@dataclass(frozen=True)
class PageRequest:
    listing: Listing
    params: Mapping[str, Any]  # the legacy filters' parameters
    size: int
    backwards: bool
    cursor: tuple[Any, ...] | None


def _sort_paths(sort: Any) -> tuple[tuple[tuple[str, ...], bool], ...]:
    paths = []
    for entry in plain(sort) or []:
        path: list[str] = []
        node = entry
        while isinstance(node, dict):
            if len(node) != 1:
                raise RequestError("each sort entry names one field, e.g. [{concept: {name: ASC}}, {text: DESC}]",
                                   "BAD_SORT")
            (key, node), = node.items()
            path.append(key)
        paths.append((tuple(path), node == "DESC"))
    return tuple(paths)


def parse(label: NodeLabel, args: Mapping[str, Any], max_page: int) -> PageRequest:
    """The list request of a connection field's arguments, checked: one of ``first`` and ``last``
    (``first: 20`` when neither), each between 1 and ``max_page``; cursors this API gave out."""
    first, last = args.get("first"), args.get("last")
    after, before = args.get("after"), args.get("before")
    if first is not None and last is not None:
        raise RequestError("give 'first' or 'last', not both", "PAGE_SIZE")
    if after and before:
        raise RequestError("give 'after' or 'before', not both", "BAD_CURSOR")
    backwards = last is not None
    size = int(last if last is not None else (first if first is not None else DEFAULT_PAGE_SIZE))
    if not 1 <= size <= max_page:
        raise RequestError(f"'{'last' if backwards else 'first'}' must be between 1 and {max_page}", "PAGE_SIZE")
    where = plain(args.get("where")) or {}
    legacy = plain(args.get("filter")) or {}
    params: dict[str, Any] = {}
    if legacy.get("study"):  # a condition of the node's own, where the index on `study` serves it
        study = {"study": {"eq": legacy["study"]}}
        where = {"AND": [where, study]} if "study" in where else {**where, **study}
    if legacy.get("contains"):
        params["contains"] = legacy["contains"]
    order = args.get("order")
    listing = Listing(label, label.value, where, _sort_paths(args.get("sort")),
                      descending=getattr(order, "value", order) == "desc", contains="contains" in params)
    raw = after or before
    cursor = decode_cursor(raw) if raw else None
    return PageRequest(listing, params, size, backwards, cursor)


@dataclass
class Page:
    edges: list[dict[str, Any]]  # cursor, node (the store's map)
    has_next: bool
    has_previous: bool

    def info(self) -> dict[str, Any]:
        """The page's ``PageInfo``, keyed by GraphQL field name."""
        return {"hasNextPage": self.has_next, "hasPreviousPage": self.has_previous,
                "startCursor": self.edges[0]["cursor"] if self.edges else None,
                "endCursor": self.edges[-1]["cursor"] if self.edges else None}


def _statement_error(exc: FilterError) -> RequestError:
    return RequestError(str(exc), "BAD_FILTER")


async def fetch_page(store: Any, request: PageRequest, select: Select) -> Page:
    """One page of ``request`` with ``select``'s tree of each node."""
    try:
        statement, params, nkeys = filtering.page_statement(catalogue(), request.listing, select,
                                                            backwards=request.backwards,
                                                            cursor=request.cursor is not None)
    except FilterError as exc:
        raise _statement_error(exc) from None
    values = {**params, **request.params, "limit": request.size + 1}
    if request.cursor is not None:
        if len(request.cursor) != nkeys:
            raise RequestError("the cursor was made for another order; start again without it", "BAD_CURSOR")
        values.update({f"c{i}": v for i, v in enumerate(request.cursor)})
    rows = await store.read(statement, values)
    more = len(rows) > request.size
    rows = rows[:request.size]
    if request.backwards:
        rows.reverse()
    edges = [{"cursor": encode_cursor([r[f"k{i}"] for i in range(nkeys)]), "node": r["node"]} for r in rows]
    given = request.cursor is not None
    # Relay: the side the page was read towards is known from the extra row; the other side has at
    # least the cursor's own node when a cursor was given
    return Page(edges, has_next=given if request.backwards else more,
                has_previous=more if request.backwards else given)


async def count(store: Any, request: PageRequest) -> int:
    return int((await aggregate(store, request, ()))["count"])


def numeric_fields(type_name: str) -> dict[str, str]:
    """The numeric properties of a type: field name -> property key."""
    return {name: spec.key for name, spec in catalogue()[type_name].items()
            if isinstance(spec, Prop) and spec.kind in ("int", "float")}


def group_fields(type_name: str) -> dict[str, Prop | Rel]:
    """What a type's nodes can be counted by: its text and whole-number properties, and its single
    related nodes (counted by node: consequences by concept)."""
    return {name: spec for name, spec in catalogue()[type_name].items()
            if (isinstance(spec, Prop) and spec.kind in ("string", "int") and name not in ("id", "iri"))
            or (isinstance(spec, Rel) and not spec.many)}


def _avg(total: Any, n: int) -> float | None:
    # from the sum, so both stores give the same figure (their averages differ in the last digit)
    return float(f"{total / n:.12g}") if n and total is not None and math.isfinite(total / n) else None


async def aggregate(store: Any, request: PageRequest, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """How many nodes the request matches, and min, max and average of each numeric field (all of the
    type's when ``fields`` is None), keyed by field name."""
    numeric = numeric_fields(request.listing.type_name)
    names = list(numeric) if fields is None else [f for f in fields if f in numeric]
    try:
        statement, params = filtering.aggregate_statement(catalogue(), request.listing, [numeric[n] for n in names])
    except FilterError as exc:
        raise _statement_error(exc) from None
    row = (await store.read(statement, {**params, **request.params}))[0]
    out: dict[str, Any] = {"count": int(row["n"])}
    for i, name in enumerate(names):
        has = int(row[f"has_{i}"])
        out[name] = {"min": row[f"min_{i}"], "max": row[f"max_{i}"], "avg": _avg(row[f"sum_{i}"], has),
                     "count": has}
    return out


async def groups(store: Any, request: PageRequest, field_name: str) -> list[dict[str, Any]]:
    """How many matching nodes have each value of a field (for a related node: each related node,
    by id, with its name); most first, then by value."""
    spec = group_fields(request.listing.type_name).get(field_name)
    if spec is None:
        raise RequestError(f"{request.listing.type_name} cannot be grouped by {field_name}", "BAD_FILTER")
    try:
        statement, params = filtering.group_statement(catalogue(), request.listing, spec)
    except FilterError as exc:
        raise _statement_error(exc) from None
    rows = await store.read(statement, {**params, **request.params})
    found = [{"value": None if r["value"] is None else str(r["value"]), "name": r["name"], "count": int(r["n"])}
             for r in rows]
    return sorted(found, key=lambda g: (-g["count"], g["value"] is None, g["value"] or ""))
