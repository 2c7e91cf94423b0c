"""The FalkorDB backend: the embedded server (default) driven with the official async client.

FalkorDB's own Cypher (see ``../shared/design/cypher-dialects.md``) lives here and in
:mod:`kxgraph.graph.falkordb_dialect`: index and constraint DDL here, with the staging-graph swap
that makes a reload all-or-nothing; the full-text and vector calls, RediSearch escaping, how
parameters and answers travel, and the statements that copy a graph there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from kxgraph.errors import NoSpaceError, QueryError, StoreError, StoreLockedError, StoreUnavailableError
from kxgraph.graph import falkordb_dialect as dialect
from kxgraph.graph.cypher import PING
from kxgraph.graph.falkordb_server import (
    LEASE_MS,
    LEASE_PREFIX,
    LOG_NAME,
    MIN_FREE_BYTES,
    STAGING_MARK,
    EmbeddedFalkorDB,
    aof_files,
)
from kxgraph.graph.read_tree import Part
from kxgraph.graph.schema import GraphSchema
from kxgraph.graph.store import Capabilities, Health, Row, Store, WriteOp, Writes, WriteStream, batch_rows, rows_bytes
from kxgraph.ontology.vocabulary import NodeLabel, check_label

if TYPE_CHECKING:
    from kxgraph.settings import Settings

__all__ = ["STAGING_MARK", "FalkorStore"]

log = logging.getLogger(__name__)

#: how many times a load that copies the served graph writes it again when writes came in meanwhile
LOAD_ATTEMPTS = 3


#: how often a write is tried again when its transaction was cut off by a hold that came and went
WATCH_ATTEMPTS = 3


async def _answers(socket_path: str) -> bool:
    client = redis.asyncio.Redis(unix_socket_path=socket_path, socket_connect_timeout=1, socket_timeout=2,
                                 retry=Retry(NoBackoff(), 0))
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
    def from_settings(cls, settings: Settings, *, attach: bool = False,
                      server: EmbeddedFalkorDB | None = None) -> FalkorStore:
        """The embedded store of ``settings.data_dir``. With ``attach``, a server that another live
        process already runs for that folder is used as a client instead of refusing. With
        ``server``, that server (the caller started it and stops it) instead of one of its own."""
        store = cls(graph_name=settings.graph_name, server=server or cls.server_of(settings),
                    query_timeout_ms=settings.query_timeout_ms, batch_size=settings.write_batch_size,
                    socket_timeout_s=settings.socket_timeout_s)
        store.owns_server = server is None
        store.attach = attach
        return store

    @staticmethod
    def server_of(settings: Settings) -> EmbeddedFalkorDB:
        """The embedded server of ``settings.data_dir``, not yet started."""
        return EmbeddedFalkorDB(settings.data_dir, appendfsync=settings.falkordb_appendfsync,
                                start_timeout=settings.falkordb_start_timeout,
                                stall_timeout=settings.falkordb_stall_timeout,
                                max_restarts=settings.falkordb_max_restarts)

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
            pool = self._db.connection.connection_pool
            await self._db.aclose()
            # connections still out (a call whose request was stopped and finishes on its own)
            # are closed too, not left for the garbage collector
            await pool.disconnect(inuse_connections=True)
            self._db = None
        if self.owns_server and self.server is not None:
            await asyncio.to_thread(self.server.stop)

    @property
    def data_dir(self) -> Path:
        """The embedded store's folder (the socket lives in it, whoever owns the server)."""
        return self.server.data_dir if self.server is not None else Path(self._socket).parent

    async def health(self) -> Health:
        info: dict[str, Any] = {"graph": self.graph_name, **aof_files(self.data_dir)}
        warnings: list[str] = []
        state = None
        if self.server is not None:
            st = self.server.status()
            info.update(pid=st.pid, restarts=st.restarts, data_dir=str(st.data_dir), state=st.state)
            warnings += st.warnings
            state = st.state
            if st.loading:
                info["loading"] = st.loading
        if warnings:
            info["warnings"] = warnings
        try:
            started = time.perf_counter()
            await self.read(PING)
            info["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return Health(ok=True, backend=self.backend, detail="ok", info=info)
        except StoreError as exc:
            detail = str(exc)
            if self.server is not None:
                st = self.server.status()
                if st.last_exit:
                    detail += f" (server {st.last_exit})"
                if state and state not in ("ready", "stopped"):
                    detail += f"; the store is {state}"
            return Health(ok=False, backend=self.backend, detail=detail, info=info)

    # --- queries ----------------------------------------------------------------------------------
    def _graph(self, name: str | None = None) -> Any:
        if self._db is None:
            raise StoreUnavailableError("the FalkorDB store is not open")
        return self._db.select_graph(name or self.graph_name)

    @property
    def _version_key(self) -> str:
        """A counter every write to the served graph increments in the same transaction: a load that
        copied the graph swaps its staging copy in only if no write came in meanwhile."""
        return f"kx:version:{self.graph_name}"

    @property
    def _hold_key(self) -> str:
        """Set while a load that was starved by writes swaps its copy in: writes wait for it."""
        return f"kx:hold:{self.graph_name}"

    async def _query_and_count(self, graph: Any, statement: str, params: Mapping[str, Any] | None) -> Any:
        """``GRAPH.QUERY`` and the increment of the write counter in one ``MULTI``/``EXEC``, refused
        (503, retry) while a load holds writes off — checked atomically with ``WATCH``."""
        return (await self._queries_and_count(graph, [(statement, params)]))[0]

    async def _queries_and_count(self, graph: Any, statements: Sequence[tuple[str, Mapping[str, Any] | None]]
                                 ) -> list[Any]:
        """Several ``GRAPH.QUERY`` (see :meth:`_query_and_count`) in one ``MULTI``/``EXEC``."""
        from falkordb.asyncio.query_result import QueryResult

        held = StoreUnavailableError("a load is swapping in a new version of the graph: writes resume in a "
                                     "moment; try again")
        commands = [["GRAPH.QUERY", graph.name, graph._build_params_header(dict(params or {})) + statement,
                     "--compact"] for statement, params in statements]
        for attempt in range(1, WATCH_ATTEMPTS + 1):
            try:
                async with self._db.connection.pipeline(transaction=True) as pipe:
                    await pipe.watch(self._hold_key)
                    if await pipe.exists(self._hold_key):
                        raise held
                    pipe.multi()
                    for command in commands:
                        pipe.execute_command(*command)
                    pipe.incr(self._version_key)
                    replies = await pipe.execute(raise_on_error=False)
                break
            except redis.exceptions.WatchError as exc:  # the hold came meanwhile, or the server failed
                try:
                    holding = await self._redis("EXISTS", self._hold_key)
                except StoreUnavailableError:
                    holding = 0
                if holding:
                    raise held from None
                if attempt == WATCH_ATTEMPTS:
                    raise self._unavailable(exc) from None
                # nothing was written: a hold that came and went already, so the write goes again
        results = []
        for reply in replies[:-1]:
            if isinstance(reply, Exception):
                raise reply
            result = QueryResult(graph)
            await result.parse(reply)
            results.append(result)
        return results

    async def _run(self, graph: Any, statement: str, params: Mapping[str, Any] | None, *,
                   read_only: bool, timeout: int | None, counted: bool = False) -> list[Row]:
        if params:
            params = dialect.params(params)
        try:
            if read_only:
                result = await graph.ro_query(statement, dict(params or {}), timeout=timeout)
            elif counted:
                result = await self._query_and_count(graph, statement, params)
            else:
                result = await graph.query(statement, dict(params or {}), timeout=timeout)
        except (redis.exceptions.RedisError, OSError) as exc:
            if not (read_only and isinstance(exc, redis.exceptions.ResponseError) and "empty key" in str(exc)):
                raise self._store_error(exc, "the statement") from exc
            result = None
        if result is None:
            # the graph does not exist yet: FalkorDB creates an empty one on a write query (outside the
            # handler, so that a store dying just then is mapped like any other failure)
            await self._run(graph, "RETURN 0", None, read_only=False, timeout=None)
            return await self._run(graph, statement, params, read_only=True, timeout=timeout)
        names = [h[1] for h in result.header]
        return [{n: dialect.plain(v) for n, v in zip(names, row, strict=True)} for row in result.result_set]

    def _store_error(self, exc: BaseException, what: str) -> StoreError:
        """The one table from the FalkorDB client's errors to the project's (``kxgraph.errors``)."""
        if isinstance(exc, redis.exceptions.BusyLoadingError):
            return StoreUnavailableError("the embedded FalkorDB is loading its data")
        if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError | OSError):
            return self._unavailable(exc)
        if isinstance(exc, redis.exceptions.ResponseError) and "MISCONF" in str(exc):
            return self._no_space(f"the store refuses writes ({exc})")
        if isinstance(exc, redis.exceptions.ResponseError):
            return QueryError(f"FalkorDB refused {what}: {exc}")
        return StoreError(f"FalkorDB failed on {what}: {exc}")

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        """The store does not answer; when its disk is full, say that instead."""
        free = shutil.disk_usage(self.data_dir).free
        if free < MIN_FREE_BYTES or "No space left on device" in _log_tail(self.data_dir / LOG_NAME):
            return self._no_space("the store stopped")
        return StoreUnavailableError(f"the embedded FalkorDB does not answer: {exc}")

    def _no_space(self, what: str, needed: int | None = None) -> NoSpaceError:
        free = shutil.disk_usage(self.data_dir).free
        need = f", about {needed / 2**20:,.0f} MB needed" if needed else ""
        return NoSpaceError(
            f"no space left in the data folder {self.data_dir}: {what} ({free / 2**20:,.0f} MB free{need}). "
            "Nothing was changed: the served graph is as it was. Free some space there (or set KXGRAPH_DATA_DIR "
            "to a folder on a larger disk); the store comes back by itself")

    async def read(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._run(self._graph(), statement, params, read_only=True,
                               timeout=self.query_timeout_ms)

    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._run(self._graph(), statement, params, read_only=False, timeout=None, counted=True)

    async def write(self, statement: str, rows: Sequence[Row], batch_size: int | None = None) -> int:
        return await self._write_to(self._graph(), statement, rows, batch_size, counted=True)

    async def apply(self, ops: Sequence[WriteOp]) -> None:
        statements = [(op.statement, dialect.params({"rows": list(op.rows)})) for op in ops if op.rows]
        if not statements:
            return
        try:
            await self._queries_and_count(self._graph(), statements)
        except (redis.exceptions.RedisError, OSError) as exc:
            raise self._store_error(exc, "the edit") from exc

    async def _write_to(self, graph: Any, statement: str, rows: Sequence[Row],
                        batch_size: int | None, *, counted: bool = False) -> int:
        size = batch_rows(rows, batch_size or self.batch_size)
        batches = 0
        for start in range(0, len(rows), size):
            await self._run(graph, statement, {"rows": list(rows[start:start + size])},
                            read_only=False, timeout=None, counted=counted)
            batches += 1
        return batches

    def fulltext_part(self, label: str, text: str, limit: int = 20, *, prefix: bool = False) -> Part | None:
        lab = check_label(label)
        query = dialect.escape_redisearch(text, prefix=prefix)
        if not query:
            return None
        return Part(dialect.fulltext_statement(), {"label": lab.value, "query": query, "limit": int(limit)},
                    ("node", "score"))

    def embedding_statement(self, label: str) -> str:
        lab = check_label(label).value
        return (f"UNWIND $rows AS row MATCH (o:{lab} {{id: row.owner}}) "
                "MERGE (e:Embedding {id: row.id}) SET e.study = row.study, e.key = row.key, "
                "e.vector = vecf32(row.vector) MERGE (e)-[:EMBEDS]->(o)")

    async def nearest(self, vector: Sequence[float], limit: int = 20) -> list[Row]:
        # FalkorDB gives the cosine distance (1 - similarity)
        rows = await self.read(dialect.NEAREST, {"vector": [float(x) for x in vector], "limit": int(limit)})
        return [{**r, "score": 1.0 - float(r["score"])} for r in rows]

    # --- schema -----------------------------------------------------------------------------------
    async def ensure_schema(self, schema: GraphSchema) -> None:
        await self._ensure_schema_on(self._graph(), schema)

    async def _ensure_schema_on(self, graph: Any, schema: GraphSchema) -> None:
        existing, dimensions = await self._indexes(graph)
        ranged = {(lab, key) for lab, key in schema.range_indexes}
        ranged |= {(lab, key) for lab, key in schema.unique_keys}
        for lab, key in sorted(ranged):
            if "RANGE" not in existing.get((lab.value, key), set()):
                await self._run(graph, f"CREATE INDEX FOR (n:{check_label(lab).value}) "
                                f"ON (n.{dialect.property_key(key)})", None, read_only=False, timeout=None)
        for lab, keys in schema.fulltext:
            stale = [k for (label, k), types in existing.items()
                     if label == lab.value and "FULLTEXT" in types and k not in keys]
            if stale:  # an index of an older version (on the raw fields): built again on the new ones
                await self._run(graph, f"CALL db.idx.fulltext.drop('{lab.value}')", None, read_only=False,
                                timeout=None)
                for k in keys:
                    existing.get((lab.value, k), set()).discard("FULLTEXT")
            missing = [k for k in keys if "FULLTEXT" not in existing.get((lab.value, k), set())]
            if missing:
                args = ", ".join(f"'{dialect.property_key(k)}'" for k in missing)
                await self._run(graph, f"CALL db.idx.fulltext.createNodeIndex('{lab.value}', {args})",
                                None, read_only=False, timeout=None)
        for lab, key, dims in schema.vectors:
            made = dimensions.get((lab.value, key))
            if made is not None and made != dims:  # another model's vectors: no longer comparable
                log.warning("the vector index on %s.%s holds %d dimensions, the model gives %d: it is made "
                            "again, and the vectors are made again at the next load", lab.value, key, made, dims)
                await self._run(graph, f"DROP VECTOR INDEX FOR (n:{check_label(lab).value}) "
                                f"ON (n.{dialect.property_key(key)})", None, read_only=False, timeout=None)
                await self._run(graph, f"MATCH (n:{check_label(lab).value}) REMOVE n.{dialect.property_key(key)}", None,
                                read_only=False, timeout=None)
                existing.get((lab.value, key), set()).discard("VECTOR")
            if "VECTOR" not in existing.get((lab.value, key), set()):
                await self._run(graph, f"CREATE VECTOR INDEX FOR (n:{check_label(lab).value}) "
                                f"ON (n.{dialect.property_key(key)}) "
                                f"OPTIONS {{dimension: {int(dims)}, similarityFunction: 'cosine'}}",
                                None, read_only=False, timeout=None)
        constraints = {(c["label"], tuple(c["properties"])) for c in await self._constraints(graph)
                       if c.get("type") == "UNIQUE"}
        for lab, key in schema.unique_keys:
            if (lab.value, (key,)) not in constraints:
                try:
                    await graph.create_node_unique_constraint(lab.value, key)
                except (redis.exceptions.RedisError, OSError) as exc:
                    raise self._store_error(exc, f"a unique key on {lab.value}.{key}") from exc
        await self._await_operational(graph)

    async def _indexes(self, graph: Any) -> tuple[dict[tuple[str, str], set[str]], dict[tuple[str, str], int]]:
        """The kinds of index on each (label, property), and the dimension of each vector index."""
        rows = await self._run(graph, "CALL db.indexes() YIELD label, types, options RETURN label, types, options",
                               None, read_only=True, timeout=None)
        kinds_of: dict[tuple[str, str], set[str]] = {}
        dimensions: dict[tuple[str, str], int] = {}
        for row in rows:
            for key, kinds in (row["types"] or {}).items():
                kinds_of[(row["label"], key)] = set(kinds)
            for key, options in (row["options"] or {}).items():
                if (options or {}).get("dimension") is not None:
                    dimensions[(row["label"], key)] = int(options["dimension"])
        return kinds_of, dimensions

    async def _constraints(self, graph: Any) -> list[dict[str, Any]]:
        try:
            return list(await graph.list_constraints())
        except (redis.exceptions.RedisError, OSError) as exc:
            raise self._store_error(exc, "the list of constraints") from exc

    async def _await_operational(self, graph: Any, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            idx = await self._run(graph, "CALL db.indexes() YIELD status RETURN status", None,
                                  read_only=True, timeout=None)
            cons = await self._constraints(graph)
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
    async def replace_graph(self, ops: Writes, schema: GraphSchema, *,
                            keep_other_studies: bool = False, replacing: Sequence[str] = ()) -> None:
        """Write into a staging graph (empty, or a copy of the served one), then
        ``RENAME`` it over the served one: readers see the old graph until that single, atomic
        rename. Replacements are serialised within this process."""
        async with self._replace_lock:
            await self._replace(ops, schema, keep_other_studies, list(replacing))

    async def _replace(self, ops: Writes, schema: GraphSchema, keep: bool, replacing: list[str]) -> None:
        await self.drop_stale_staging()
        live = self.graph_name in await self._redis("GRAPH.LIST")
        copy = keep and live
        await self._check_space(ops, copy=copy)
        for attempt in range(1, LOAD_ATTEMPTS + 1):
            # the last attempt holds writes to the served graph off (they get a 503 to retry) so
            # that a load cannot be starved by a steady stream of writes
            if await self._stage_and_swap(ops, schema, copy, replacing, hold=copy and attempt == LOAD_ATTEMPTS):
                break
            # a write reached the served graph after it was copied: copy again, never lose it
            log.warning("the served graph changed during the load (attempt %d of %d); writing it again",
                        attempt, LOAD_ATTEMPTS)
        else:  # pragma: no cover - the held attempt only fails when the server restarts, which raises
            raise StoreUnavailableError("the served graph kept changing while the load wrote its copy; nothing was "
                                        "changed: load again")
        await self.compact()

    async def _stage_and_swap(self, ops: Writes, schema: GraphSchema, copy: bool,
                              replacing: list[str], *, hold: bool = False) -> bool:
        """Write a staging graph (from a copy of the served one, or empty) and swap it in with one
        ``RENAME`` — unless the served graph was written meanwhile (then ``False``, nothing changed)
        or the server restarted (its owner drops staging graphs on start: this one may be partial).
        With ``hold``, writes to the served graph are refused meanwhile (see :meth:`_query_and_count`)."""
        staging_name = f"{self.graph_name}{STAGING_MARK}{uuid.uuid4().hex[:12]}"
        staging = self._graph(staging_name)
        run_id = await self._run_id()
        lease = LEASE_PREFIX + staging_name
        leased = [lease, self._hold_key] if hold else [lease]
        for key in leased:
            await self._redis("SET", key, staging_name, "PX", LEASE_MS)
        version = await self._redis("GET", self._version_key)

        async def keep_lease() -> None:  # while this load lives; a dead load's lease runs out
            while True:
                await asyncio.sleep(LEASE_MS / 3000)
                for key in leased:
                    await self._redis("SET", key, staging_name, "PX", LEASE_MS)

        keeper = asyncio.create_task(keep_lease())
        try:
            await self._ensure_schema_on(staging, schema)
            if copy:
                await self._copy_into(staging, replacing, schema)
            for op in ops:
                await self._write_to(staging, op.statement, op.rows, None)
            await self._await_operational(staging)
            if await self._run_id() != run_id:
                raise StoreUnavailableError("the embedded FalkorDB restarted during the load; nothing was changed: "
                                            "load again")
            swapped = await self._swap(staging_name, version if copy else None)
        except BaseException:
            await self._drop(staging_name)
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, StoreError):
                await keeper
            with contextlib.suppress(StoreError):
                await self._redis("DEL", *leased)
        if not swapped:
            await self._drop(staging_name)
        return swapped

    async def _swap(self, staging_name: str, version: Any) -> bool:
        """``RENAME`` staging over the served graph, atomically checking (``WATCH``) that the write
        counter still is ``version`` (any value when ``None``); the counter moves on too."""
        if self._db is None:
            raise StoreUnavailableError("the FalkorDB store is not open")
        try:
            async with self._db.connection.pipeline(transaction=True) as pipe:
                await pipe.watch(self._version_key)
                if version is not None and await pipe.get(self._version_key) != version:
                    await pipe.reset()
                    return False
                pipe.multi()
                pipe.rename(staging_name, self.graph_name)
                pipe.incr(self._version_key)
                await pipe.execute()
        except redis.exceptions.WatchError:
            return False
        except (redis.exceptions.RedisError, OSError) as exc:
            raise self._store_error(exc, "the swap") from exc
        return True

    async def _run_id(self) -> str:
        info = await self._redis("INFO", "server")
        return str(info.get("run_id"))

    async def _check_space(self, ops: Writes, *, copy: bool) -> None:
        """Refuse a load the data folder's disk cannot hold, before anything is written. What it
        needs, roughly: the statements it appends to the append-only file (a copy of the served graph
        too, when other studies are kept), then the compacted file written beside the old one."""
        payload = ops.payload_bytes if isinstance(ops, WriteStream) else \
            sum(rows_bytes(op.rows) + len(op.statement) for op in ops)
        files = aof_files(self.data_dir)
        needed = int(payload * 1.2 + (2 * files["aof_base_bytes"] if copy else 0)
                     + files["aof_base_bytes"] + payload // 2 + MIN_FREE_BYTES)
        if shutil.disk_usage(self.data_dir).free < needed:
            raise self._no_space("the load was not started", needed)

    async def compact(self) -> None:
        """Rewrite the append-only file as one snapshot of what the store holds now (Redis'
        ``BGREWRITEAOF``, in the background; this waits for it), so that the next start reads the
        graph once instead of replaying every write that made it."""
        while True:
            try:
                await self._redis("BGREWRITEAOF")
                break
            except QueryError as exc:
                if "already in progress" not in str(exc):
                    raise
                await self._await_rewrite()
        await self._await_rewrite()

    async def _await_rewrite(self) -> None:
        while True:
            info = await self._redis("INFO", "persistence")
            if not int(info.get("aof_rewrite_in_progress", 0)) and not int(info.get("aof_rewrite_scheduled", 0)):
                if info.get("aof_last_bgrewrite_status") != "ok":
                    log.warning("compacting the append-only file failed (%s); see %s",
                                info.get("aof_last_bgrewrite_status"), self.data_dir / LOG_NAME)
                return
            await asyncio.sleep(0.05)

    async def _copy_into(self, target: Any, replacing: list[str], schema: GraphSchema, page: int = 5_000) -> None:
        """Copy the served graph into the empty ``target`` with queries, a window of node ids at a
        time — but the nodes of the studies being ``replacing``'d (those added through the API are
        kept): copying them only for the load to delete them again made every reload cost a copy
        and a delete of the whole study.

        Not ``GRAPH.COPY``: that forks from a background thread and was seen to hang the server when
        a snapshot or AOF rewrite was forking at the same time. Windows of FalkorDB's internal ids
        (a "Node By Label and ID Scan"), not pages in ``id`` order: ``ORDER BY … LIMIT`` sorts every
        remaining node for each page, which made copying quadratic (a 100k-quote graph: 45 s).
        Nodes are created (the target holds none yet) and relationships made between internal ids,
        which FalkorDB seeks directly, instead of looking both ends up by ``id`` in an index."""
        live = self._graph()
        moved: dict[int, int] = {}  # a node's internal id in the served graph -> in the target
        windows: dict[NodeLabel, list[tuple[int, int]]] = {}
        for label in NodeLabel:
            found = await self._run(live, dialect.label_ids(label), None, read_only=True, timeout=None)
            ids = sorted(r["i"] for r in found)
            windows[label] = [(ids[k], ids[min(k + page, len(ids)) - 1] + 1) for k in range(0, len(ids), page)]
            for lo, hi in windows[label]:
                rows = await self._run(live, dialect.window_nodes(label), {"lo": lo, "hi": hi, "skip": replacing},
                                       read_only=True, timeout=None)
                made = await self._run(target, dialect.copy_nodes(label, schema), {"rows": rows},
                                       read_only=False, timeout=None)
                moved.update((r["i"], r["j"]) for r in made)
        for label, bounds in windows.items():  # every node is in place: now the relationships
            for lo, hi in bounds:
                rels = await self._run(live, dialect.window_relationships(label),
                                       {"lo": lo, "hi": hi, "skip": replacing}, read_only=True, timeout=None)
                groups: dict[str, list[Row]] = {}
                for r in rels:
                    if r["s"] not in moved or r["d"] not in moved:  # pragma: no cover - every node has a label of ours
                        raise StoreError(f"a {r['type']} relationship of the served graph joins a node the copy did "
                                         "not make (a label outside the ontology?); nothing was changed")
                    groups.setdefault(r["type"], []).append({"s": moved[r["s"]], "d": moved[r["d"]]})
                for rel, rows in sorted(groups.items()):
                    await self._write_to(target, dialect.copy_relationships(rel), rows, None)

    async def drop_stale_staging(self) -> list[str]:
        """Remove staging graphs of loads that died (``kill -9``): those whose lease expired."""
        names = await self._redis("GRAPH.LIST")
        stale = [n for n in names if n.startswith(f"{self.graph_name}{STAGING_MARK}")
                 and not await self._redis("EXISTS", LEASE_PREFIX + n)]
        for name in stale:
            log.info("dropping the staging graph %s of a load that did not finish", name)
            await self._drop(name)
        return stale

    async def drop_graph(self) -> None:
        await self._drop(self.graph_name)
        with contextlib.suppress(StoreUnavailableError):
            await self._redis("INCR", self._version_key)

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
        except (redis.exceptions.RedisError, OSError) as exc:
            raise self._store_error(exc, str(args[0])) from exc


def _log_tail(path: Path, size: int = 4096) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


