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
from kxgraph.graph.filtering import Catalogue, CursorError, FilterError, Label, Listing, Prop, Rel, Via
from kxgraph.graph.read_tree import Part, Select
from kxgraph.ontology.vocabulary import NodeLabel

__all__ = ["Page", "PageRequest", "aggregate", "catalogue", "count", "fetch_page", "figures", "groups", "nested",
           "nested_answer", "nested_batch", "nested_figures", "page_of", "parse", "plain", "store_classes"]

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
            elif read.walk is not None and read.connection is None and named in by_class:
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


def parse(label: NodeLabel | None, args: Mapping[str, Any], max_page: int, *, type_name: str | None = None,
          via: Via | None = None, parent: str | None = None) -> PageRequest:
    """The list request of a connection field's arguments, checked: one of ``first`` and ``last``
    (``first: 20`` when neither), each between 1 and ``max_page``; cursors this API gave out. A
    nested connection's request names the type it lists (``type_name``), the walk to it (``via``)
    and, for a statement of its own, its parent's id."""
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
    if parent is not None:
        params["parent"] = parent
    order = args.get("order")
    name = type_name or (label.value if label is not None else "")
    listing = Listing(label, name, where, _sort_paths(args.get("sort")),
                      descending=getattr(order, "value", order) == "desc", contains="contains" in params, via=via)
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
    return RequestError(str(exc), "BAD_CURSOR" if isinstance(exc, CursorError) else "BAD_FILTER")


def page_of(request: PageRequest, rows: list[tuple[list[Any], dict[str, Any]]]) -> Page:
    """The page of a request from the store's rows (each node's sort keys and map), read with a
    limit of one more than the page's size, in the order read (backwards when ``last`` was asked)."""
    more = len(rows) > request.size
    rows = rows[:request.size]
    if request.backwards:
        rows.reverse()
    edges = [{"cursor": encode_cursor(list(keys)), "node": node} for keys, node in rows]
    given = request.cursor is not None
    # Relay: the side the page was read towards is known from the extra row; the other side has at
    # least the cursor's own node when a cursor was given
    return Page(edges, has_next=given if request.backwards else more,
                has_previous=more if request.backwards else given)


def page_part(request: PageRequest, select: Select, cursors: bool = True, total: bool = False) -> Part:
    """The statement of one page of ``request`` with ``select``'s tree of each node (rows ``k0`` …,
    the sort keys, and ``node``): :func:`page_from` makes the page of its rows. Without ``cursors``
    the keys are not read (the page's cursors are then meaningless: for an answer that asks none).
    With ``total`` (a request without a cursor) each row also has ``total``, how many nodes match."""
    try:
        statement, params, kinds = filtering.page_statement(catalogue(), request.listing, select,
                                                            backwards=request.backwards,
                                                            cursor=request.cursor is not None, total=total)
        if request.cursor is not None:
            filtering.check_cursor(request.cursor, kinds)
    except FilterError as exc:
        raise _statement_error(exc) from None
    values = {**params, **request.params, "limit": request.size + 1}
    if request.cursor is not None:
        values.update({f"c{i}": v for i, v in enumerate(request.cursor)})
    counted = ("total",) if total else ()
    if not cursors:
        return Part(statement, values, ("node", *counted), trim=True)
    return Part(statement, values, (*(f"k{i}" for i in range(len(kinds))), "node", *counted))


def page_from(request: PageRequest, part: Part, rows: list[dict[str, Any]]) -> Page:
    keys = [c for c in part.columns if c.startswith("k")]
    return page_of(request, [([r[k] for k in keys], r["node"]) for r in rows])


def total_from(rows: list[dict[str, Any]]) -> int:
    """How many nodes match, from the rows of a page read with ``total`` (none: none match)."""
    return int(rows[0]["total"]) if rows else 0


async def fetch_page(store: Any, request: PageRequest, select: Select) -> Page:
    """One page of ``request`` with ``select``'s tree of each node."""
    part = page_part(request, select)
    return page_from(request, part, await store.read(part.statement, dict(part.params)))


async def count(store: Any, request: PageRequest) -> int:
    return int((await aggregate(store, request, ()))["count"])


def numeric_fields(type_name: str) -> dict[str, str]:
    """The numeric properties of a type: field name -> property key."""
    return {name: spec.key for name, spec in catalogue()[type_name].items()
            if isinstance(spec, Prop) and spec.kind in ("int", "float")}


def group_fields(type_name: str) -> dict[str, Prop | Rel | Label]:
    """What a type's nodes can be counted by: its text and whole-number properties, its single
    related nodes (counted by node: consequences by concept) and, for an interface, the kind of
    node (claims by kind: definitions, discussion points, consequences …)."""
    out: dict[str, Prop | Rel | Label] = {
        name: spec for name, spec in catalogue()[type_name].items()
        if (isinstance(spec, Prop) and spec.kind in ("string", "int") and name not in ("id", "iri"))
        or (isinstance(spec, Rel) and not spec.many)}
    if type_name not in NodeLabel.__members__:
        out["kind"] = Label()
    return out


def _avg(total: Any, n: int) -> float | None:
    # from the sum, so both stores give the same figure (their averages differ in the last digit)
    return float(f"{total / n:.12g}") if n and total is not None and math.isfinite(total / n) else None


def figures(get: Any, names: list[str]) -> dict[str, Any]:
    """The aggregate of the ``names`` numeric fields, keyed by field name, from the store's figures
    (``get("n")``, ``get("min0")`` …: ``filtering.TreeEmitter.figures``)."""
    out: dict[str, Any] = {"count": int(get("n") or 0)}
    for i, name in enumerate(names):
        has = int(get(f"has{i}") or 0)
        out[name] = {"min": get(f"min{i}"), "max": get(f"max{i}"), "avg": _avg(get(f"sum{i}"), has), "count": has}
    return out


def aggregate_part(request: PageRequest, fields: tuple[str, ...] | None = None) -> tuple[Part, list[str]]:
    """The statement of how many nodes the request matches, and min, max and average of each numeric
    field (all of the type's when ``fields`` is None); and the fields, for :func:`aggregate_from`."""
    numeric = numeric_fields(request.listing.type_name)
    names = list(numeric) if fields is None else [f for f in fields if f in numeric]
    try:
        statement, params = filtering.aggregate_statement(catalogue(), request.listing, [numeric[n] for n in names])
    except FilterError as exc:
        raise _statement_error(exc) from None
    columns = ["a_n", *(f"a_{part}{i}" for i in range(len(names)) for part in ("min", "max", "sum", "has"))]
    return Part(statement, {**params, **request.params}, tuple(columns)), names


def aggregate_from(names: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    row = rows[0] if rows else {}  # an aggregate gives one row; should a store give none, nothing matched
    return figures(lambda part: row.get(f"a_{part}"), names)


async def aggregate(store: Any, request: PageRequest, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """How many nodes the request matches, and min, max and average of each numeric field (all of the
    type's when ``fields`` is None), keyed by field name."""
    part, names = aggregate_part(request, fields)
    return aggregate_from(names, await store.read(part.statement, dict(part.params)))


def nested(request: PageRequest, select: Select, key: str, *, page: bool, aggregate: bool,
           numeric: tuple[str, ...] = (), groups: Mapping[str, str] | None = None) -> filtering.Connection:
    """A nested connection of the compiled tree for ``request``: its page with ``select``'s tree
    of each node when ``page``; how many match when ``aggregate``, with the figures of the
    ``numeric`` fields; and ``groups``: response key -> the field to count by."""
    keys = numeric_fields(request.listing.type_name)
    via = request.listing.via
    assert via is not None
    by = group_fields(request.listing.type_name)
    if any(f not in by for f in (groups or {}).values()):
        raise RequestError(f"{request.listing.type_name} cannot be grouped by that field", "BAD_FILTER")
    return filtering.Connection(key, via.walk, True, select, listing=request.listing, size=request.size,
                                backwards=request.backwards, cursor=request.cursor, page=page,
                                figures=tuple(keys[f] for f in numeric) if aggregate else None,
                                groups=tuple((k, by[f]) for k, f in (groups or {}).items()))


def nested_batch(parent: NodeLabel, request: PageRequest, select: Select | None) -> tuple[str, dict[str, Any]]:
    """The statement that reads the page of a nested connection (with ``select``; without: its
    figures, every numeric field's) for a batch of parents (the resolvers' form: one statement per
    field and level), and its parameters."""
    numeric = tuple(numeric_fields(request.listing.type_name)) if select is None else ()
    connection = nested(request, select or Select(), "page", page=select is not None, aggregate=select is None,
                        numeric=numeric)
    try:
        return filtering.connection_batch(catalogue(), parent, connection)
    except FilterError as exc:
        raise _statement_error(exc) from None


async def nested_figures(loaders: Any, request: PageRequest) -> dict[str, Any]:
    """A nested connection's aggregate (every numeric field's figures) for the parent its request
    names, read with the other parents of the same level in one statement."""
    via = request.listing.via
    assert via is not None
    statement, params = nested_batch(via.parent, request, None)
    value = await loaders.batch(statement, params).load(request.params["parent"])
    return nested_answer(request, value or {"n": 0}, tuple(numeric_fields(request.listing.type_name)))["aggregate"]


def nested_answer(request: PageRequest, value: Mapping[str, Any], numeric: tuple[str, ...] = (),
                  groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """A nested connection's answer (``nested``'s map from the store) keyed by GraphQL field name:
    edges, nodes, pageInfo, totalCount and aggregate (with the ``numeric`` fields' figures and the
    ``groups``' response keys), as far as they were read."""
    out: dict[str, Any] = {}
    if value.get("page") is not None:
        page = page_of(request, [(e["keys"], e["node"]) for e in value["page"]])
        out.update(edges=page.edges, nodes=[e["node"] for e in page.edges], pageInfo=page.info())
    if value.get("n") is not None:
        figures_ = figures(value.get, list(numeric))
        figures_.update({key: _groups(value[f"g{i}"]) for i, key in enumerate(groups)})
        out.update(totalCount=figures_["count"], aggregate=figures_)
    return out


def groups_part(request: PageRequest, field_name: str) -> Part:
    """The statement of how many matching nodes have each value of a field (one row, ``g``)."""
    spec = group_fields(request.listing.type_name).get(field_name)
    if spec is None:
        raise RequestError(f"{request.listing.type_name} cannot be grouped by {field_name}", "BAD_FILTER")
    try:
        statement, params = filtering.group_statement(catalogue(), request.listing, spec)
    except FilterError as exc:
        raise _statement_error(exc) from None
    return Part(statement, {**params, **request.params}, ("g",))


def groups_from(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _groups(rows[0]["g"] if rows else [])


async def groups(store: Any, request: PageRequest, field_name: str) -> list[dict[str, Any]]:
    """How many matching nodes have each value of a field (for a related node: each related node,
    by id, with its name); most first, then by value."""
    part = groups_part(request, field_name)
    return groups_from(await store.read(part.statement, dict(part.params)))


def _groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group counts from the store's maps (``value``, ``name``, ``n``): most first, then by value."""
    found = [{"value": None if r["value"] is None else str(r["value"]), "name": r["name"], "count": int(r["n"])}
             for r in rows]
    return sorted(found, key=lambda g: (-g["count"], g["value"] is None, g["value"] or ""))
