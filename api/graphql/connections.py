"""The GraphQL types of list requests, generated from the store types' fields (``listing.catalogue``),
never written per type: for each store type ``T``

- ``TWhere``: each scalar field with its operators (``StringFilter``, ``IntFilter`` …), each
  related node (``concept: ConceptLikeWhere``) or set of them (``evidence: EvidenceQuoteListWhere``
  with ``some``/``none``/``all``), and ``AND``/``OR``/``NOT``;
- ``TSort``: one scalar field, or a single related node's (``{concept: {name: ASC}}``), per entry;

and ``TConnection`` (Relay both ways, ``totalCount``, ``aggregate``), ``TAggregate`` (``count``,
min/max/avg of numeric fields, ``groupBy``) and ``TGroupField``. Every to-many walk of a node type
gets a nested connection beside its plain list (:func:`with_connections`: ``evidence`` and
``evidenceConnection``, as the Neo4j GraphQL Library names them).

The classes are made once, when :func:`connection_types` is first called (the schema module does at
import), and kept in this module's namespace, where the recursive references and the nested
connection fields' annotations resolve.
"""

import functools
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case, to_snake_case

from kxgraph.api.graphql import listing
from kxgraph.api.graphql.common import ctx
from kxgraph.api.graphql.pagination import Edge, ListFilter, Order, PageInfo
from kxgraph.api.graphql.reads import READ, Read
from kxgraph.graph.filtering import Prop, Via
from kxgraph.graph.read_tree import Select
from kxgraph.ontology.vocabulary import NodeLabel

__all__ = ["FloatFilter", "GroupCount", "IDFilter", "IntFilter", "NumberAggregate", "StringFilter", "connection",
           "connection_types", "list_field", "with_connections"]

_CASE = "case-insensitive"


@strawberry.input(description="Conditions on a text field; all that are given must hold.")
class StringFilter:
    eq: str | None = strawberry.UNSET
    in_: list[str] | None = strawberry.field(default=strawberry.UNSET, name="in", description="any of these")
    contains: str | None = strawberry.field(default=strawberry.UNSET, description=_CASE)
    starts_with: str | None = strawberry.field(default=strawberry.UNSET, description=_CASE)
    lt: str | None = strawberry.field(default=strawberry.UNSET, description="before, in code-point order (ISO dates)")
    lte: str | None = strawberry.UNSET
    gt: str | None = strawberry.UNSET
    gte: str | None = strawberry.UNSET


@strawberry.input(description="Conditions on an id.")
class IDFilter:
    eq: strawberry.ID | None = strawberry.UNSET
    in_: list[strawberry.ID] | None = strawberry.field(default=strawberry.UNSET, name="in")
    starts_with: str | None = strawberry.field(default=strawberry.UNSET, description=_CASE)


@strawberry.input(description="Conditions on a whole number.")
class IntFilter:
    eq: int | None = strawberry.UNSET
    in_: list[int] | None = strawberry.field(default=strawberry.UNSET, name="in")
    lt: int | None = strawberry.UNSET
    lte: int | None = strawberry.UNSET
    gt: int | None = strawberry.UNSET
    gte: int | None = strawberry.UNSET


@strawberry.input(description="Conditions on a number.")
class FloatFilter:
    eq: float | None = strawberry.UNSET
    in_: list[float] | None = strawberry.field(default=strawberry.UNSET, name="in")
    lt: float | None = strawberry.UNSET
    lte: float | None = strawberry.UNSET
    gt: float | None = strawberry.UNSET
    gte: float | None = strawberry.UNSET


_FILTERS = {"string": "StringFilter", "id": "IDFilter", "int": "IntFilter", "float": "FloatFilter"}


@strawberry.type(description="Least, greatest and mean of a numeric field over the nodes that have it.")
class NumberAggregate:
    min: float | None
    max: float | None
    avg: float | None
    count: int = strawberry.field(description="how many nodes have the field")


@strawberry.type(description="How many nodes have one value of a field.")
class GroupCount:
    value: str | None = strawberry.field(description="the field's value; for a related node, its id")
    name: str | None = strawberry.field(description="for a related node, its name")
    count: int


def _make(kind: Any, name: str, fields: dict[str, tuple[str, str | None]], description: str) -> Any:
    """A class ``name`` of this module with ``fields`` (python name -> annotation, description), all
    optional, made into a Strawberry ``kind``."""
    attrs: dict[str, Any] = {"__module__": __name__, "__annotations__": {}, "__doc__": description}
    for py, (annotation, desc) in fields.items():
        attrs["__annotations__"][py] = f"{annotation} | None"
        attrs[py] = strawberry.field(default=strawberry.UNSET, description=desc)
    cls = kind(type(name, (), attrs), name=name, description=description)
    globals()[name] = cls
    return cls


@functools.cache
def _inputs() -> None:
    """``TWhere``, ``TListWhere`` and ``TSort`` for every store type."""
    from kxgraph.api.graphql.pagination import SortDirection

    globals()["SortDirection"] = SortDirection
    for name, fields in listing.catalogue().items():
        where: dict[str, tuple[str, str | None]] = {
            "AND": (f"list[{name}Where]", "all of these hold"),
            "OR": (f"list[{name}Where]", "at least one of these holds"),
            "NOT": (f"{name}Where", "this does not hold"),
        }
        sort: dict[str, tuple[str, str | None]] = {}
        for field, spec in fields.items():
            if isinstance(spec, Prop):
                where[field] = (_FILTERS[spec.kind], None)
                sort[field] = ("SortDirection", None)
            elif spec.many:
                where[field] = (f"{spec.target}ListWhere", f"conditions on its {field}")
            else:
                where[field] = (f"{spec.target}Where", f"a related {spec.target} that matches")
                sort[field] = (f"{spec.target}Sort", "by a field of the related node")
        _make(strawberry.input, f"{name}Where", where,
              f"Conditions on a {name}; all that are given must hold.")
        _make(strawberry.input, f"{name}ListWhere", {
            "some": (f"{name}Where", "at least one matches"),
            "none": (f"{name}Where", "none matches"),
            "all": (f"{name}Where", "every one matches (true when there are none)"),
        }, f"Conditions on a set of related {name} nodes.")
        _make(strawberry.input, f"{name}Sort", sort,
              f"One sort key of {name} nodes: name one field per entry; ties are broken by id.")


def where_type(type_name: str) -> Any:
    _inputs()
    return globals()[f"{type_name}Where"]


def sort_type(type_name: str) -> Any:
    _inputs()
    return globals()[f"{type_name}Sort"]


def connection(label: NodeLabel) -> Any:
    """``TConnection`` for one label."""
    from kxgraph.api.graphql import types as t

    return connection_type(t.TYPES[label].__strawberry_definition__.name)


def connection_types() -> list[Any]:
    """``TConnection`` for every store type (labels and interfaces), made once."""
    return [connection_type(name) for name in listing.store_classes()]


@functools.cache
def connection_type(name: str) -> Any:
    """``TConnection`` for one store type, with its aggregate and group field types."""
    _inputs()
    node_cls: Any = listing.store_classes()[name]
    numeric = listing.numeric_fields(name)
    grouped = listing.group_fields(name)
    members: Any = Enum(f"{name}GroupField", {to_snake_case(f).upper(): f for f in grouped})  # type: ignore[misc]
    group_enum = strawberry.enum(members, description=f"a field {name} nodes can be counted by")

    async def group_by(self: Any, info: Info, field: group_enum) -> list[GroupCount]:  # type: ignore[valid-type]
        rows = await listing.groups(ctx(info).store, self.request, field.value)  # type: ignore[attr-defined]
        return [GroupCount(value=g["value"], name=g["name"], count=g["count"]) for g in rows]

    agg_attrs: dict[str, Any] = {
        "__module__": __name__,
        "__annotations__": {"request": strawberry.Private[Any],  # type: ignore[misc]
                            "values": strawberry.Private[dict[str, Any]], "count": int},
        "count": strawberry.field(description="how many nodes match"),
        "group_by": strawberry.field(resolver=group_by, description="how many nodes have each value of a field"),
    }
    for field in numeric:
        agg_attrs[field] = strawberry.field(resolver=_number(field), graphql_type=NumberAggregate)
    aggregate_cls = strawberry.type(type(f"{name}Aggregate", (), agg_attrs), name=f"{name}Aggregate",
                                    description=f"Figures over every {name} the request matches, not only this page.")

    async def figures(info: Info, request: Any) -> dict[str, Any]:
        c = ctx(info)
        if request.listing.via is not None:  # nested: with the other parents of this level
            return await listing.nested_figures(c.loaders, request)
        return await listing.aggregate(c.store, request)

    async def total_count(self: Any, info: Info) -> int:
        if self.request.listing.via is None:
            return await listing.count(ctx(info).store, self.request)
        return int((await figures(info, self.request))["count"])

    async def aggregate(self: Any, info: Info) -> Any:
        values = await figures(info, self.request)
        return aggregate_cls(request=self.request, values=values, count=values["count"])

    def nodes(self: Any) -> Any:
        return [e.node for e in self.edges]

    attrs = {
        "__module__": __name__,
        "__annotations__": {"request": strawberry.Private[Any], "edges": list[Edge[node_cls]],  # type: ignore[misc]
                            "page_info": PageInfo},
        "total_count": strawberry.field(resolver=total_count, description="how many nodes match, on every page"),
        "nodes": strawberry.field(resolver=nodes, graphql_type=list[node_cls]),
        "aggregate": strawberry.field(resolver=aggregate, graphql_type=aggregate_cls),
    }
    cls = strawberry.type(type(f"{name}Connection", (), attrs), name=f"{name}Connection",
                          description=f"A page of {name} nodes (Relay), with figures over all of them.")
    globals()[cls.__name__] = cls
    return cls


def _number(field: str) -> Any:
    def resolve(self: Any) -> NumberAggregate:
        v = self.values[field]
        return NumberAggregate(min=v["min"], max=v["max"], avg=v["avg"], count=v["count"])
    return resolve


#: what the resolvers read of each listed node: its properties
_PROPS = Select(values=[("props", "properties($v)")])


def list_field(label: NodeLabel) -> Any:
    """The root field that lists ``label``: ``where``, ``sort``, ``first``/``after`` or
    ``last``/``before``."""
    from kxgraph.api.graphql import types as t

    conn = connection(label)
    name = t.TYPES[label].__strawberry_definition__.name
    where_cls, sort_cls = where_type(name), sort_type(name)

    async def resolve(
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="page size, forwards (20 when neither "
                                                                     "first nor last is given)")] = None,
        after: str | None = None,
        last: Annotated[int | None, strawberry.argument(description="page size, backwards")] = None,
        before: str | None = None,
        where: where_cls | None = None,  # type: ignore[valid-type]
        sort: Annotated[list[sort_cls] | None,  # type: ignore[valid-type]
                        strawberry.argument(description="sort keys in order; ties by id")] = None,
        filter: Annotated[ListFilter | None, strawberry.argument(deprecation_reason="use where")] = None,
        order: Annotated[Order, strawberry.argument(deprecation_reason="use sort")] = Order.NAME_ASC,
    ) -> conn:  # type: ignore[valid-type]
        c = ctx(info)
        args = {"first": first, "after": after, "last": last, "before": before, "where": where, "sort": sort,
                "filter": filter, "order": order}
        request = listing.parse(label, args, c.settings.max_page_size)
        page = await listing.fetch_page(c.store, request, _PROPS)
        edges = [Edge(cursor=e["cursor"], node=t.build(label.value, e["node"]["props"])) for e in page.edges]
        info_ = page.info()
        return conn(request=request, edges=edges,
                    page_info=PageInfo(has_next_page=info_["hasNextPage"], has_previous_page=info_["hasPreviousPage"],
                                       start_cursor=info_["startCursor"], end_cursor=info_["endCursor"]))

    return strawberry.field(resolver=resolve)


#: what the resolvers read of each node of a nested page: its label and properties
_NODES = Select(values=[("label", "labels($v)[0]"), ("props", "properties($v)")])


def _label(type_name: str) -> NodeLabel | None:
    return NodeLabel(type_name) if type_name in NodeLabel.__members__ else None


_FIRST = ('Annotated[int | None, strawberry.argument(description="page size, forwards (20 when neither first nor '
          'last is given)")]')
_LAST = 'Annotated[int | None, strawberry.argument(description="page size, backwards")]'
_SORT = ('Annotated[list[{}Sort] | None, strawberry.argument(description="sort keys in order; ties by id; '
         'without: the order of the plain list")]')


def nested_field(read: Read, field_name: str) -> Any:
    """The nested connection of a to-many walk: ``where``, ``sort``, ``first``/``after`` or
    ``last``/``before`` over the nodes the walk reaches from the parent, in the walk's order when no
    sort is given (the order of the plain list beside it)."""
    from kxgraph.api.graphql import types as t

    target, walk = read.target, read.walk
    assert target is not None and walk is not None

    async def resolve(self: Any, info: Info, first: Any = None, after: Any = None, last: Any = None,
                      before: Any = None, where: Any = None, sort: Any = None) -> Any:
        c = ctx(info)
        args = {"first": first, "after": after, "last": last, "before": before, "where": where, "sort": sort}
        request = listing.parse(_label(target), args, c.settings.max_page_size, type_name=target,
                                via=Via(self._label, walk), parent=self.props["id"])
        # the pages of every parent of this level in one statement; the figures, when asked, per parent
        statement, params = listing.nested_batch(self._label, request, _NODES)
        value = await c.loaders.batch(statement, params).load(self.props["id"])
        page = listing.page_of(request, [(e["keys"], e["node"]) for e in (value or {}).get("page") or []])
        edges = [Edge(cursor=e["cursor"], node=t.build(e["node"]["label"], e["node"]["props"])) for e in page.edges]
        i = page.info()
        return connection_type(target)(
            request=request, edges=edges,
            page_info=PageInfo(has_next_page=i["hasNextPage"], has_previous_page=i["hasPreviousPage"],
                               start_cursor=i["startCursor"], end_cursor=i["endCursor"]))

    # read when the schema is built, in this module's namespace (where connection_types puts them)
    resolve.__annotations__ = {
        "info": Info, "first": _FIRST, "after": "str | None", "last": _LAST, "before": "str | None",
        "where": f"{target}Where | None", "sort": _SORT.format(target), "return": f"{target}Connection"}
    resolve.__name__ = f"{field_name}_connection"
    return strawberry.field(
        resolver=resolve,
        description=(f"{to_camel_case(field_name)} as a Relay connection: where, sort, first/after or "
                     "last/before (20 when neither is given), totalCount and aggregate; in the list's order "
                     "when no sort is given"),
        metadata={READ: Read(walk=walk, many=True, target=target, connection=target)})


def with_connections(cls: type[Any]) -> type[Any]:
    """Adds ``<field>_connection`` beside each to-many walk the class declares (a class decorator,
    applied before ``strawberry.type``)."""
    from strawberry.types.field import StrawberryField

    for name, value in list(vars(cls).items()):
        read = value.metadata.get(READ) if isinstance(value, StrawberryField) else None
        if read is not None and read.walk is not None and read.many and read.connection is None:
            setattr(cls, f"{name}_connection", nested_field(read, name))
    return cls
