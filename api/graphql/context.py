"""Per-request context: a store that counts its round trips, the DataLoaders, who is asking."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from strawberry.fastapi import BaseContext

from kxgraph.errors import StoreUnavailableError
from kxgraph.graph.queries import QUOTE_DOCUMENT_TEXT
from kxgraph.graph.read_tree import Walk, walk_batch
from kxgraph.graph.store import Row, Store, WriteOp
from kxgraph.ontology.vocabulary import NodeLabel
from kxgraph.settings import Settings

__all__ = ["Context", "CountingStore", "Loaders"]

Item = tuple[str, dict[str, Any]]  # (label, properties)


R = TypeVar("R")


class CountingStore:
    """The request's view of the store: every call is one round trip, counted; it also knows how
    many calls are in flight, which the loaders use to batch by waves."""

    def __init__(self, store: Store) -> None:
        self.inner = store
        self.round_trips = 0
        self.in_flight = 0
        self.unavailable = False  # the store did not answer: the response becomes a 503

    async def _call(self, coro: Awaitable[R]) -> R:
        self.round_trips += 1
        self.in_flight += 1
        try:
            return await coro
        except StoreUnavailableError:
            self.unavailable = True
            raise
        finally:
            self.in_flight -= 1

    async def read(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._call(self.inner.read(statement, params))

    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._call(self.inner.execute(statement, params))

    async def apply(self, ops: Sequence[WriteOp]) -> None:
        return await self._call(self.inner.apply(ops))

    async def fulltext(self, label: str, text: str, limit: int = 20, *, prefix: bool = False) -> list[Row]:
        return await self._call(self.inner.fulltext(label, text, limit, prefix=prefix))

    async def fulltext_many(self, labels: Sequence[str], text: str, limit: int = 20, *,
                            prefix: bool = False) -> list[list[Row]]:
        return await self._call(self.inner.fulltext_many(labels, text, limit, prefix=prefix))

    async def nearest(self, vector: Sequence[float], limit: int = 20) -> list[Row]:
        return await self._call(self.inner.nearest(vector, limit))


K = TypeVar("K")
V = TypeVar("V")


class WaveLoader(Generic[K, V]):
    """A DataLoader that dispatches when the request has no store call in flight and no resolver
    has asked for more keys for a few turns of the event loop. Every field of one nesting level is
    then answered by one batch, however the previous level's answers arrived: the number of round
    trips depends on the query's shape, not on the data or on timing."""

    # the example questions keep their round trips down to 3 quiet turns (2 splits a wave of the
    # trace); 6 keeps a margin, and each turn saved is ~0.1 ms per wave (BENCHMARKS.md)
    QUIET_TURNS = 6

    def __init__(self, store: CountingStore, load_fn: Callable[[list[K]], Awaitable[list[V]]]) -> None:
        self.store = store
        self.load_fn = load_fn
        self.cache: dict[K, asyncio.Future[V]] = {}
        self.pending: list[K] = []
        self.dispatching = False
        self._task: asyncio.Future[None] | None = None

    async def load(self, key: K) -> V:
        if key not in self.cache:
            self.cache[key] = asyncio.get_running_loop().create_future()
            self.pending.append(key)
            if not self.dispatching:
                self.dispatching = True
                self._task = asyncio.ensure_future(self._dispatch())
        return await self.cache[key]

    async def _dispatch(self) -> None:
        quiet, seen = 0, -1
        while quiet < self.QUIET_TURNS:
            await asyncio.sleep(0)
            busy = self.store.in_flight > 0 or len(self.pending) != seen
            seen = len(self.pending)
            quiet = 0 if busy else quiet + 1
        keys, self.pending, self.dispatching = self.pending, [], False
        try:
            values = await self.load_fn(keys)
        except BaseException as exc:
            for k in keys:
                if not self.cache[k].done():
                    self.cache[k].set_exception(exc)
            return
        for k, v in zip(keys, values, strict=True):
            if not self.cache[k].done():  # a stopped request cancelled its futures meanwhile
                self.cache[k].set_result(v)


class Loaders:
    """Loaders created per request: each batches its keys into one ``UNWIND $ids`` query."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self._loaders: dict[tuple[Any, ...], WaveLoader[str, Any]] = {}

    def nodes(self, label: NodeLabel) -> WaveLoader[str, dict[str, Any] | None]:
        from kxgraph.graph.queries import nodes_by_id

        key = ("nodes", label)
        if key not in self._loaders:
            statement = nodes_by_id(label)

            async def load(ids: Sequence[str]) -> list[dict[str, Any] | None]:
                rows = await self.store.read(statement, {"ids": list(ids)})
                found = {r["id"]: r["props"] for r in rows}
                return [found.get(i) for i in ids]

            self._loaders[key] = WaveLoader(self.store, load)
        return self._loaders[key]

    def related(self, statement: str) -> WaveLoader[str, list[Item]]:
        """Neighbours along a fixed path; ``statement`` returns rows ``id, label, props``."""
        key = ("related", statement)
        if key not in self._loaders:

            async def load(ids: Sequence[str]) -> list[list[Item]]:
                rows = await self.store.read(statement, {"ids": list(ids)})
                grouped: dict[str, list[Item]] = defaultdict(list)
                for r in rows:
                    grouped[r["id"]].append((r["label"], r["props"]))
                return [grouped.get(i, []) for i in ids]

            self._loaders[key] = WaveLoader(self.store, load)
        return self._loaders[key]

    def batch(self, statement: str, params: Mapping[str, Any]) -> WaveLoader[str, Any]:
        """One value per parent from ``statement``, run with ``$parents`` (and ``params``), which
        gives rows ``pid, value`` (a nested connection's page: ``filtering.connection_batch``)."""
        key = ("batch", statement, repr(sorted(params.items())))
        if key not in self._loaders:

            async def load(ids: Sequence[str]) -> list[Any]:
                rows = await self.store.read(statement, {**params, "parents": list(ids)})
                found = {r["pid"]: r["value"] for r in rows}
                return [found.get(i) for i in ids]

            self._loaders[key] = WaveLoader(self.store, load)
        return self._loaders[key]

    def walk(self, src: NodeLabel, walk: Walk) -> WaveLoader[str, list[Item]]:
        """The nodes a field's walk reaches from each node of ``src`` (``reads.link``)."""
        return self.related(walk_batch(src, walk))

    def document_text(self) -> WaveLoader[str, str | None]:
        """The text of each quote's document, each document read once per batch."""
        key = ("document_text",)
        if key not in self._loaders:

            async def load(ids: Sequence[str]) -> list[str | None]:
                rows = await self.store.read(QUOTE_DOCUMENT_TEXT, {"ids": list(ids)})
                found = {q: r["content"] for r in rows for q in r["quotes"]}
                return [found.get(i) for i in ids]

            self._loaders[key] = WaveLoader(self.store, load)
        return self._loaders[key]


class Context(BaseContext):
    def __init__(self, store: Store, settings: Settings, principal: str | None) -> None:
        super().__init__()
        self.store = CountingStore(store)
        self.settings = settings
        self.principal = principal
        self.loaders = Loaders(self.store)
