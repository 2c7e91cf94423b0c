"""What the resolvers share: the request's context, a node by its id, the claim labels."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from kxgraph.api.graphql import types as t
from kxgraph.api.graphql.context import Context
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.ontology.vocabulary import label_of_id

__all__ = ["CLAIMS", "ctx", "node"]

#: the labels of claims, which evidence quotes support
CLAIMS = (L.Definition, L.DiscussionPoint, L.Consequence, L.Placement, L.Reflection, L.Method)


def ctx(info: Info) -> Context:
    context: Context = info.context
    return context


async def node(info: Info, ident: str, *allowed: L) -> Any:
    """The node ``ident`` as its GraphQL type (``None`` when absent, or not of an ``allowed`` label)."""
    label = label_of_id(ident)
    if label is None or (allowed and label not in allowed):
        return None
    props = await ctx(info).loaders.nodes(label).load(ident)
    return t.build(label.value, props) if props is not None else None
