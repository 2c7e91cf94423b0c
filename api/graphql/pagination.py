"""Relay-style connections with keyset cursors (opaque: base64 of a JSON list of the row's sort keys,
its id last)."""

from __future__ import annotations

import base64
import binascii
import json
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from kxgraph.api.graphql.errors import RequestError

__all__ = ["DEFAULT_PAGE_SIZE", "Edge", "ListFilter", "Order", "PageInfo", "SortDirection", "decode_cursor",
           "encode_cursor"]

#: the page size of a connection asked for without ``first`` or ``last``
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(description=(
        "paging backwards (last/before): whether there are nodes before this page; forwards: whether "
        "a cursor was given (the node it names, at least, comes before)"))
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.enum(description="the order of a sort key")
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(description="deprecated: use sort")
class Order(Enum):
    NAME_ASC = "asc"
    NAME_DESC = "desc"


@strawberry.input(description="deprecated: use where")
class ListFilter:
    study: str | None = strawberry.UNSET
    contains: str | None = strawberry.field(default=strawberry.UNSET,
                                            description="case-insensitive text in the name or text")


def encode_cursor(keys: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(keys).encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    """The sort keys a cursor holds (its node's id last)."""
    try:
        keys = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if (isinstance(keys, list) and keys and isinstance(keys[-1], str)
                and all(k is None or isinstance(k, (str, int, float)) for k in keys)):
            return tuple(keys)
    except (ValueError, binascii.Error, TypeError):
        pass
    raise RequestError("the cursor is not one this API gave out", "BAD_CURSOR")
