"""The FalkorDB backend: the embedded server (default) driven with the official async client.

FalkorDB's own Cypher (see ``../shared/design/cypher-dialects.md``) lives here: index and
constraint DDL, full-text calls and RediSearch escaping, and the staging-graph swap that makes a
reload all-or-nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from kxgraph.errors import QueryError, StoreError, StoreLockedError, StoreUnavailableError
from kxgraph.graph import cypher
from kxgraph.graph.cypher import PING
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from kxgraph.graph.schema import GraphSchema
from kxgraph.graph.store import Capabilities, Health, Row, Store, WriteOp
from kxgraph.ontology.vocabulary import NodeLabel, check_label

if TYPE_CHECKING:
    from kxgraph.settings import Settings

__all__ = ["FalkorStore", "escape_redisearch", "fulltext_statement"]

log = logging.getLogger(__name__)

STAGING_MARK = "__staging__"
_RS_SPECIAL = re.compile(r"([,.<>{}\[\]\"':;!@#$%^&*()\-+=~|/\\?`])")


def escape_redisearch(text: str) -> str:
    """User text as a RediSearch query of plain terms (all required): never a syntax error."""
    words = [w for w in re.split(r"\s+", text.strip()) if w]
    escaped = [_RS_SPECIAL.sub(r"\\\1", w) for w in words]
    return " ".join(w for w in escaped if w.strip("\\"))


def fulltext_statement() -> str:
    return ("CALL db.idx.fulltext.queryNodes($label, $query) YIELD node, score "
            "RETURN properties(node) AS node, score ORDER BY score DESC LIMIT $limit")


def _plain(value: Any) -> Any:
    """FalkorDB client values -> plain Python (nodes/edges become property dicts)."""
    from falkordb import Edge, Node

    if isinstance(value, Node | Edge):
        return dict(value.properties)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _answers(socket_path: str) -> bool:
    client = redis.asyncio.Redis(unix_socket_path=socket_path, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except (redis.exceptions.RedisError, OSError):
        return False
    finally:
        await client.aclose()


class FalkorStore(Store):
    backend = "falkordb"
    capabilities = Capabilities(multi_statement_transactions=False, fulltext_syntax="redisearch",
                                embedded=True)

    def __init__(self, *, graph_name: str, server: EmbeddedFalkorDB | None = None,
                 socket_path: str | None = None, query_timeout_ms: int = 10_000,
                 batch_size: int = 1_000, socket_timeout_s: float = 300.0) -> None:
        if server is None and socket_path is None:
            raise StoreError("FalkorStore needs an embedded server or a socket path")
        self.graph_name = graph_name
        self.server = server
        self.owns_server = False
        self._socket = str(server.socket_path if server else socket_path)
        self.query_timeout_ms = query_timeout_ms
        self.batch_size = batch_size
        self.socket_timeout_s = socket_timeout_s
        self._db: Any = None
        self.attach = False
        self._replace_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, attach: bool = False) -> FalkorStore:
        """The embedded store of ``settings.data_dir``. With ``attach``, a server that another live
        process already runs for that folder is used as a client instead of refusing."""
        server = EmbeddedFalkorDB(settings.data_dir, appendfsync=settings.falkordb_appendfsync,
                                  start_timeout=settings.falkordb_start_timeout,
                                  max_restarts=settings.falkordb_max_restarts)
        store = cls(graph_name=settings.graph_name, server=server,
                    query_timeout_ms=settings.query_timeout_ms, batch_size=settings.write_batch_size,
                    socket_timeout_s=settings.socket_timeout_s)
        store.owns_server = True
        store.attach = attach
        return store

    # --- life -------------------------------------------------------------------------------------
    async def open(self) -> None:
        if self.owns_server and self.server is not None and not self.server.status().running:
            try:
                await asyncio.to_thread(self.server.start)
            except StoreLockedError:
                if not (self.attach and await _answers(self._socket)):
                    raise
                log.info("using the embedded FalkorDB that another process runs at %s", self._socket)
                self.owns_server = False
                self.server = None
        from falkordb.asyncio import FalkorDB

        self._db = FalkorDB(unix_socket_path=self._socket, socket_connect_timeout=2,
                            socket_timeout=self.socket_timeout_s)
        # one immediate retry (a pooled connection to a restarted server), then fail fast: a client
        # waiting seconds for a dead store is worse than a 503 it can retry
        self._db.connection.set_retry(Retry(NoBackoff(), 1))
        await self.read(PING)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.aclose()
            self._db = None
        if self.owns_server and self.server is not None:
            await asyncio.to_thread(self.server.stop)

    async def health(self) -> Health:
        info: dict[str, Any] = {"graph": self.graph_name}
        if self.server is not None:
            st = self.server.status()
            info.update(pid=st.pid, restarts=st.restarts, data_dir=str(st.data_dir))
        try:
            started = time.perf_counter()
            await self.read(PING)
            info["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return Health(ok=True, backend=self.backend, detail="ok", info=info)
        except StoreError as exc:
            detail = str(exc)
            if self.server is not None and self.server.status().last_exit:
                detail += f" (server {self.server.status().last_exit})"
            return Health(ok=False, backend=self.backend, detail=detail, info=info)

    # --- queries ----------------------------------------------------------------------------------
    def _graph(self, name: str | None = None) -> Any:
        if self._db is None:
            raise StoreUnavailableError("the FalkorDB store is not open")
        return self._db.select_graph(name or self.graph_name)

    async def _run(self, graph: Any, statement: str, params: Mapping[str, Any] | None, *,
                   read_only: bool, timeout: int | None) -> list[Row]:
        try:
            if read_only:
                result = await graph.ro_query(statement, dict(params or {}), timeout=timeout)
            else:
                result = await graph.query(statement, dict(params or {}), timeout=timeout)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailableError(f"the embedded FalkorDB does not answer: {exc}") from exc
        except redis.exceptions.BusyLoadingError as exc:
            raise StoreUnavailableError("the embedded FalkorDB is loading its data") from exc
        except redis.exceptions.ResponseError as exc:
            if read_only and "empty key" in str(exc):
                # the graph does not exist yet: FalkorDB creates an empty one on a write query
                await graph.query("RETURN 0")
                return await self._run(graph, statement, params, read_only=True, timeout=timeout)
            raise QueryError(f"FalkorDB refused the statement: {exc}") from exc
        names = [h[1] for h in result.header]
        return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in result.result_set]

    async def read(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._run(self._graph(), statement, params, read_only=True,
                               timeout=self.query_timeout_ms)

    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._run(self._graph(), statement, params, read_only=False, timeout=None)

    async def write(self, statement: str, rows: Sequence[Row], batch_size: int | None = None) -> int:
        return await self._write_to(self._graph(), statement, rows, batch_size)

    async def _write_to(self, graph: Any, statement: str, rows: Sequence[Row],
                        batch_size: int | None) -> int:
        size = batch_size or self.batch_size
        batches = 0
        for start in range(0, len(rows), size):
            await self._run(graph, statement, {"rows": list(rows[start:start + size])},
                            read_only=False, timeout=None)
            batches += 1
        return batches

    async def fulltext(self, label: str, text: str, limit: int = 20) -> list[Row]:
        lab = check_label(label)
        query = escape_redisearch(text)
        if not query:
            return []
        return await self.read(fulltext_statement(),
                               {"label": lab.value, "query": query, "limit": int(limit)})

    # --- schema -----------------------------------------------------------------------------------
    async def ensure_schema(self, schema: GraphSchema) -> None:
        await self._ensure_schema_on(self._graph(), schema)

    async def _ensure_schema_on(self, graph: Any, schema: GraphSchema) -> None:
        existing = await self._indexes(graph)
        ranged = {(lab, key) for lab, key in schema.range_indexes}
        ranged |= {(lab, key) for lab, key in schema.unique_keys}
        for lab, key in sorted(ranged):
            if "RANGE" not in existing.get((lab.value, key), set()):
                await self._run(graph, f"CREATE INDEX FOR (n:{check_label(lab).value}) ON (n.{_key(key)})",
                                None, read_only=False, timeout=None)
        for lab, keys in schema.fulltext:
            missing = [k for k in keys if "FULLTEXT" not in existing.get((lab.value, k), set())]
            if missing:
                args = ", ".join(f"'{_key(k)}'" for k in missing)
                await self._run(graph, f"CALL db.idx.fulltext.createNodeIndex('{lab.value}', {args})",
                                None, read_only=False, timeout=None)
        constraints = {(c["label"], tuple(c["properties"])) for c in await graph.list_constraints()
                       if c.get("type") == "UNIQUE"}
        for lab, key in schema.unique_keys:
            if (lab.value, (key,)) not in constraints:
                try:
                    await graph.create_node_unique_constraint(lab.value, key)
                except redis.exceptions.ResponseError as exc:
                    raise QueryError(f"FalkorDB refused a unique key on {lab.value}.{key}: {exc}") from exc
        await self._await_operational(graph)

    async def _indexes(self, graph: Any) -> dict[tuple[str, str], set[str]]:
        rows = await self._run(graph, "CALL db.indexes() YIELD label, types RETURN label, types", None,
                               read_only=True, timeout=None)
        out: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            for key, kinds in (row["types"] or {}).items():
                out[(row["label"], key)] = set(kinds)
        return out

    async def _await_operational(self, graph: Any, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            idx = await self._run(graph, "CALL db.indexes() YIELD status RETURN status", None,
                                  read_only=True, timeout=None)
            cons = await graph.list_constraints()
            pending = [r for r in idx if r["status"] != "OPERATIONAL"]
            pending += [c for c in cons if c.get("status") != "OPERATIONAL"]
            failed = [c for c in cons if c.get("status") == "FAILED"]
            if failed:
                raise QueryError(f"FalkorDB could not build constraints {failed} (duplicate ids?)")
            if not pending:
                return
            if time.monotonic() > deadline:
                raise StoreUnavailableError(f"indexes still building after {timeout:.0f} s")
            await asyncio.sleep(0.02)

    # --- whole-graph operations -------------------------------------------------------------------
    async def replace_graph(self, ops: Sequence[WriteOp], schema: GraphSchema, *,
                            keep_other_studies: bool = False) -> None:
        """Write into a staging graph (empty, or a copy of the served one), then
        ``RENAME`` it over the served one: readers see the old graph until that single, atomic
        rename. Replacements are serialised within this process."""
        async with self._replace_lock:
            await self._replace(ops, schema, keep_other_studies)

    async def _replace(self, ops: Sequence[WriteOp], schema: GraphSchema, keep: bool) -> None:
        staging_name = f"{self.graph_name}{STAGING_MARK}{uuid.uuid4().hex[:12]}"
        staging = self._graph(staging_name)
        try:
            await self._ensure_schema_on(staging, schema)
            if keep and self.graph_name in await self._redis("GRAPH.LIST"):
                await self._copy_into(staging)
            for op in ops:
                await self._write_to(staging, op.statement, op.rows, None)
            await self._await_operational(staging)
            await self._redis("RENAME", staging_name, self.graph_name)
        except BaseException:
            await self._drop(staging_name)
            raise
        await self.drop_stale_staging()

    async def _copy_into(self, target: Any, page: int = 5_000) -> None:
        """Copy the served graph into ``target`` with queries, a window of node ids at a time.

        Not ``GRAPH.COPY``: that forks from a background thread and was seen to hang the server when
        a snapshot or AOF rewrite was forking at the same time. Windows of FalkorDB's internal ids
        (a "Node By Label and ID Scan"), not pages in ``id`` order: ``ORDER BY … LIMIT`` sorts every
        remaining node for each page, which made copying quadratic (a 100k-quote graph: 45 s)."""
        live = self._graph()
        windows: dict[NodeLabel, list[tuple[int, int]]] = {}
        for label in NodeLabel:
            ids = sorted(r["i"] for r in await self._run(live, _label_ids(label), None, read_only=True, timeout=None))
            windows[label] = [(ids[k], ids[min(k + page, len(ids)) - 1] + 1) for k in range(0, len(ids), page)]
            for lo, hi in windows[label]:
                rows = await self._run(live, _window_nodes(label), {"lo": lo, "hi": hi}, read_only=True, timeout=None)
                await self._run(target, cypher.merge_nodes(label),
                                {"rows": [{"id": r["id"], "props": r["props"]} for r in rows]},
                                read_only=False, timeout=None)
        for label, bounds in windows.items():  # every node is in place: now the relationships
            for lo, hi in bounds:
                rels = await self._run(live, _window_relationships(label), {"lo": lo, "hi": hi},
                                       read_only=True, timeout=None)
                groups: dict[tuple[str, str], list[Row]] = {}
                for r in rels:
                    groups.setdefault((r["type"], r["dst_label"]), []).append({"src": r["src"], "dst": r["dst"]})
                for (rel, dst_label), rows in sorted(groups.items()):
                    await self._write_to(target, cypher.merge_relationships(label, rel, dst_label), rows, None)

    async def drop_stale_staging(self) -> list[str]:
        """Remove staging graphs left by loads that died (e.g. ``kill -9``)."""
        names = await self._redis("GRAPH.LIST")
        stale = [n for n in names if n.startswith(f"{self.graph_name}{STAGING_MARK}")]
        for name in stale:
            await self._drop(name)
        return stale

    async def drop_graph(self) -> None:
        await self._drop(self.graph_name)

    async def _drop(self, name: str) -> None:
        try:
            names = await self._redis("GRAPH.LIST")
            if name in names:
                await self._redis("GRAPH.DELETE", name)
        except StoreUnavailableError:
            pass

    async def _redis(self, *args: Any) -> Any:
        if self._db is None:
            raise StoreUnavailableError("the FalkorDB store is not open")
        try:
            return await self._db.connection.execute_command(*args)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailableError(f"the embedded FalkorDB does not answer: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            raise QueryError(f"FalkorDB refused {args[0]}: {exc}") from exc


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# FalkorDB's own Cypher for copying a graph (Neo4j loads in one transaction and never copies):
# internal ids are FalkorDB's, and a range on them is answered by a "Node By Label and ID Scan".
def _label_ids(label: NodeLabel) -> str:
    return f"MATCH (n:{check_label(label).value}) RETURN ID(n) AS i"


def _window_nodes(label: NodeLabel) -> str:
    return (f"MATCH (n:{check_label(label).value}) WHERE ID(n) >= $lo AND ID(n) < $hi "
            "RETURN n.id AS id, properties(n) AS props")


def _window_relationships(label: NodeLabel) -> str:
    return (f"MATCH (a:{check_label(label).value}) WHERE ID(a) >= $lo AND ID(a) < $hi MATCH (a)-[r]->(b) "
            "RETURN a.id AS src, type(r) AS type, labels(b)[0] AS dst_label, b.id AS dst")


def _key(key: str) -> str:
    if not _KEY.match(key):
        raise QueryError(f"{key!r} is not a valid property key")
    return key
