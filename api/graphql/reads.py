"""How each GraphQL field reads the graph, declared once beside the field.

A field is a stored property (:func:`prop`), a walk along the ontology's relationships (:func:`link`)
or a value computed from the node (:func:`computed`). The declaration is kept in the field's
metadata (``READ``), where two readers find it: the field's own resolver (one batched statement per
field and level, through the request's loaders) and the compiler (``compiler.py``), which turns a
whole request into one statement. Both read the same walk in the same order, so they agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import strawberry
from strawberry.types import Info

from kxgraph.graph.read_tree import Hop, Order, Walk
from kxgraph.ontology.vocabulary import NodeLabel, RelType

__all__ = ["READ", "Read", "build", "build_many", "computed", "declared_walks", "hop", "link", "prop"]

#: the metadata key a field's :class:`Read` is kept under
READ = "kxgraph.read"

Computed = Literal["label", "anchor_status", "window", "paragraph"]


@dataclass(frozen=True)
class Read:
    prop: str | None = None
    walk: Walk | None = None
    many: bool = False
    computed: Computed | None = None
    #: the GraphQL type a walk reaches (a to-many walk's nodes get a nested connection too)
    target: str | None = None
    #: a nested connection over ``walk``: the type it lists
    connection: str | None = None


def hop(rels: RelType | tuple[RelType, ...], direction: Literal["out", "in", "both"],
        *labels: NodeLabel, or_self: bool = False) -> Hop:
    return Hop(rels if isinstance(rels, tuple) else (rels,), direction, labels, or_self)


def prop(key: str, typ: Any, description: str | None = None) -> Any:
    """A scalar field read from the node's properties."""

    def resolve(root: Any) -> Any:
        return root.props.get(key)

    return strawberry.field(resolver=resolve, graphql_type=typ, description=description,
                            metadata={READ: Read(prop=key)})


def computed(kind: Computed, description: str | None = None) -> Callable[[Any], Any]:
    """A field whose resolver computes it; the compiler knows how to compute ``kind`` too."""
    return strawberry.field(description=description, metadata={READ: Read(computed=kind)})


def build(label: str, props: dict[str, Any]) -> Any:
    """The GraphQL type of ``label`` (``types.TYPES``) over a property map."""
    from kxgraph.api.graphql.types import TYPES  # the types are declared with this module's helpers

    return TYPES[NodeLabel(label)](props=props)


def _sort_key(order: Order) -> Callable[[tuple[str, dict[str, Any]]], tuple[Any, ...]]:
    # the same keys as read_tree.order_keys, which the compiled statements sort by
    if order == "start":
        return lambda item: (item[1].get("start") or 0, item[1].get("id", ""))
    if order == "position":
        return lambda item: (item[1].get("position") or 0, item[1].get("id", ""))
    if order == "none":
        return lambda item: (item[1].get("id", ""),)

    def ordinal(item: tuple[str, dict[str, Any]]) -> tuple[Any, ...]:
        p = item[1]
        name = p.get("name")
        return (p.get("ordinal") is None, p.get("ordinal") or 0,
                name if name is not None else (p.get("text") if p.get("text") is not None else ""), p.get("id", ""))
    return ordinal


def build_many(items: list[tuple[str, dict[str, Any]]], order: Order = "ordinal") -> list[Any]:
    return [build(label, props) for label, props in sorted(items, key=_sort_key(order))]


def link(*hops: Hop, order: Order = "ordinal", description: str | None = None) -> Callable[[Any], Any]:
    """A field that walks ``hops`` from its node. Decorates a stub whose return annotation says
    whether it is one node or a list; the resolver is made from the declaration."""

    def decorate(stub: Callable[..., Any]) -> Any:
        returns = stub.__annotations__.get("return", "")
        returns = returns if isinstance(returns, str) else getattr(returns, "__name__", str(returns))
        many = returns.startswith("list[")
        target = returns.removeprefix("list[").removesuffix("]").split(" | ")[0].strip()
        walk = Walk(tuple(hops), order)

        async def resolve(self: Any, info: Info) -> Any:
            items = await info.context.loaders.walk(self._label, walk).load(self.props["id"])
            found = build_many(items, order)
            return found if many else (found[0] if found else None)

        functools.update_wrapper(resolve, stub)
        return strawberry.field(resolver=resolve, description=description or stub.__doc__,
                                metadata={READ: Read(walk=walk, many=many, target=target)})

    return decorate


def declared_walks() -> list[tuple[NodeLabel, str, Read]]:
    """Every walk the node types declare: (the type's label, the field's name, its read)."""
    from kxgraph.api.graphql.types import TYPES

    found = []
    for label, cls in TYPES.items():
        for f in cls.__strawberry_definition__.fields:
            read = f.metadata.get(READ)
            if read is not None and read.walk is not None and read.connection is None:
                found.append((label, f.python_name, read))
    return found
