"""The store interface the rest of kxgraph uses. Backends live beside it; nothing outside
``graph/`` asks which backend it has: it reads :attr:`Store.capabilities` instead."""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kxgraph.graph.read_tree import Part, combined, split_combined
from kxgraph.graph.schema import GraphSchema

__all__ = ["BATCH_BYTES", "Capabilities", "Health", "Row", "Store", "WriteOp", "WriteStream", "Writes", "batch_rows",
           "rows_bytes"]

Row = dict[str, Any]

#: about the most bytes of rows one write statement carries. A batch of documents is their whole
#: text, which the client holds several times over while it sends it: the documents of a study of
#: 1M quotes (500 of 200 KB, one batch of 1,000 rows) raised the load's peak by 306 MB
BATCH_BYTES = 8 * 1024 * 1024


def rows_bytes(rows: Sequence[Row], sample: int = 200) -> int:
    """About how many bytes ``rows`` take as query parameters (measured on a sample)."""
    if not rows:
        return 0
    step = max(1, len(rows) // sample)
    picked = rows[::step]
    return int(sum(len(json.dumps(r, default=str)) for r in picked) * len(rows) / len(picked))


def batch_rows(rows: Sequence[Row], size: int, budget: int = BATCH_BYTES) -> int:
    """How many of ``rows`` one statement takes: ``size``, or fewer where the rows are large, so
    that a batch stays about within ``budget`` bytes (from the rows' average size, on a sample)."""
    if len(rows) < 2:
        return size
    each = rows_bytes(rows) / len(rows)
    return max(1, min(size, int(budget // max(each, 1.0))))


@dataclass(frozen=True)
class Capabilities:
    #: several statements commit or roll back together (Neo4j); otherwise each statement is atomic
    multi_statement_transactions: bool
    #: the full-text query language user text is escaped for
    fulltext_syntax: Literal["lucene", "redisearch"]
    #: the store runs inside kxgraph's own process tree (no server to install)
    embedded: bool


@dataclass(frozen=True)
class Health:
    ok: bool
    backend: str
    detail: str
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteOp:
    """One batched write: ``statement`` is run with ``$rows`` bound to slices of ``rows``."""

    statement: str
    rows: Sequence[Row]


class WriteStream:
    """Writes made as they are written (a study read a batch of claims at a time:
    ``loaders/streamed.py``). Each iteration makes them again from the first (a backend that tries a
    replacement again iterates again); a problem found while making them raises from the iteration,
    and the replacement is dropped whole. ``payload_bytes``: about how large the rows are, to check
    the disk before anything is written."""

    def __init__(self, make: Callable[[], Iterator[WriteOp]], payload_bytes: int) -> None:
        self.make = make
        self.payload_bytes = payload_bytes

    def __iter__(self) -> Iterator[WriteOp]:
        return self.make()


#: what a replacement writes: its writes, made before (a list) or as they are written
Writes = Sequence[WriteOp] | WriteStream


class Store(abc.ABC):
    """A graph store holding one served graph."""

    backend: str
    capabilities: Capabilities

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect (and start, for an embedded store); wait until it answers."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections (and stop an embedded server cleanly)."""

    @abc.abstractmethod
    async def health(self) -> Health:
        """Whether the store answers now, and why not when it does not. Never raises."""

    @abc.abstractmethod
    async def read(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a read-only statement; rows as dicts of plain Python values."""

    @abc.abstractmethod
    async def write(self, statement: str, rows: Sequence[Row], batch_size: int | None = None) -> int:
        """Run ``statement`` (which starts ``UNWIND $rows AS row``) over ``rows`` in batches.

        Returns the number of batches sent."""

    @abc.abstractmethod
    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run one write statement with parameters."""

    @abc.abstractmethod
    async def apply(self, ops: Sequence[WriteOp]) -> None:
        """Run a few writes to the served graph as one: one transaction (Neo4j), or one ``MULTI``/
        ``EXEC`` that nothing else interleaves with (FalkorDB, which runs each statement whole).
        For the small writes of an edit; a load uses :meth:`replace_graph`."""

    @abc.abstractmethod
    async def ensure_schema(self, schema: GraphSchema) -> None:
        """Create unique keys, range and full-text indexes that do not exist yet (idempotent)."""

    @abc.abstractmethod
    async def replace_graph(self, ops: Writes, schema: GraphSchema, *,
                            keep_other_studies: bool = False, replacing: Sequence[str] = ()) -> None:
        """Replace the served graph with what ``ops`` write, all or nothing.

        From an empty graph, or with ``keep_other_studies`` from the current one (the ops then
        delete what they replace). ``replacing`` names the studies the ops replace: a backend that
        copies the served graph leaves their nodes out of the copy (all but those added through the
        API). Readers see the old graph until the new one is complete; a failure at any point leaves
        the old graph exactly as it was."""

    @abc.abstractmethod
    def fulltext_part(self, label: str, text: str, limit: int = 20, *, prefix: bool = False) -> Part | None:
        """This store's statement of :meth:`fulltext` (``None``: the text holds nothing to search)."""

    async def fulltext(self, label: str, text: str, limit: int = 20, *, prefix: bool = False) -> list[Row]:
        """Rows ``{"node": {...properties}, "score": float}`` for user ``text`` (read by
        :func:`kxgraph.graph.search_query.parse_search`), best first; ``prefix``: the last word may
        be the start of a word (search as you type)."""
        return (await self.fulltext_many([label], text, limit, prefix=prefix))[0]

    async def fulltext_many(self, labels: Sequence[str], text: str, limit: int = 20, *,
                            prefix: bool = False) -> list[list[Row]]:
        """:meth:`fulltext` in each label's index, in one statement: each label's rows, in order."""
        parts = [self.fulltext_part(label, text, limit, prefix=prefix) for label in labels]
        asked = [p for p in parts if p is not None]
        if not asked:
            return [[] for _ in labels]
        statement, params = combined(asked)
        found = iter(split_combined(asked, await self.read(statement, params)))
        return [next(found) if p is not None else [] for p in parts]

    @abc.abstractmethod
    def embedding_statement(self, label: str) -> str:
        """How this store writes text embeddings of nodes of ``label``: rows ``{"id", "owner",
        "study", "key", "vector"}`` become an ``Embedding`` node that ``EMBEDS`` its owner, its vector
        in the form this store's vector index reads."""

    @abc.abstractmethod
    async def nearest(self, vector: Sequence[float], limit: int = 20) -> list[Row]:
        """The embeddings nearest ``vector`` by cosine: rows ``{"label", "node": {...properties of
        the owner}, "score": cosine similarity, -1 to 1, "evidence": [{...properties of the owner's
        evidence quotes}]}``, nearest first."""

    @abc.abstractmethod
    async def drop_graph(self) -> None:
        """Delete the served graph entirely (tests and ``kxgraph reset``)."""

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
