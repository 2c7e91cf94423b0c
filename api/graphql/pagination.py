"""Relay-style connections with keyset cursors (opaque: base64 of the last row's sort key and id)."""

from __future__ import annotations

import base64
import binascii
import json
from enum import Enum
from typing import Generic, TypeVar

import strawberry

from kxgraph.api.graphql.errors import RequestError

__all__ = ["Connection", "Edge", "ListFilter", "Order", "PageInfo", "decode_cursor", "encode_cursor"]

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


@strawberry.enum
class Order(Enum):
    NAME_ASC = "asc"
    NAME_DESC = "desc"


@strawberry.input
class ListFilter:
    study: str | None = strawberry.UNSET
    contains: str | None = strawberry.field(default=strawberry.UNSET,
                                            description="case-insensitive text in the name or text")


def encode_cursor(key: str, ident: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([key, ident]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        key, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(key, str) and isinstance(ident, str):
            return key, ident
    except (ValueError, binascii.Error, TypeError):
        pass
    raise RequestError("the 'after' cursor is not one this API gave out", "BAD_CURSOR")
