"""The Neo4j backend: the official async driver, managed transactions with retries, ``database_``
always passed, Neo4j 5 DDL. Neo4j's own Cypher (DDL, full-text calls, Lucene escaping) lives here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kxgraph.errors import ConfigError, QueryError, StoreError, StoreUnavailableError
from kxgraph.graph.cypher import DELETE_ALL, PING
from kxgraph.graph.read_tree import Part
from kxgraph.graph.schema import GraphSchema
from kxgraph.graph.search_query import parse_search
from kxgraph.graph.store import Capabilities, Health, Row, Store, WriteOp, Writes, batch_rows
from kxgraph.ontology.vocabulary import NodeLabel, check_label

if TYPE_CHECKING:
    from kxgraph.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Neo4jStore", "escape_lucene", "fulltext_statement", "schema_plan", "schema_statements"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def escape_lucene(text: str, *, prefix: bool = False) -> str:
    """User text as a Lucene query (:mod:`kxgraph.graph.search_query`): never a syntax error."""
    return parse_search(_CONTROL.sub(" ", text), prefix_last=prefix).lucene()


def index_name(kind: str, label: NodeLabel, key: str = "") -> str:
    return f"kx_{kind}_{check_label(label).value}" + (f"_{key}" if key else "")


def schema_plan(schema: GraphSchema) -> Iterator[tuple[str, str, bool]]:
    """Neo4j 5 DDL for ``schema``: (index or constraint name, statement, True when it creates that
    name, False when it drops it); every statement is idempotent (``IF [NOT] EXISTS``)."""
    for lab, key in schema.unique_keys:
        name = index_name("unique", lab, key)
        yield name, f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{lab.value}) REQUIRE n.{key} IS UNIQUE", True
    for lab, key in schema.range_indexes:
        name = index_name("range", lab, key)
        yield name, f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{lab.value}) ON (n.{key})", True
    for lab, keys in schema.fulltext:
        fields = ", ".join(f"n.{k}" for k in keys)
        old = index_name("fulltext", lab)  # before 0.2: unstemmed, on the raw fields
        yield old, f"DROP INDEX {old} IF EXISTS", False
        # the English analyzer stems (waited -> wait), as FalkorDB's index does by default
        name = index_name("search", lab)
        yield name, (f"CREATE FULLTEXT INDEX {name} IF NOT EXISTS FOR (n:{lab.value}) ON EACH [{fields}] "
                     "OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}}"), True
    for lab, key, dims in schema.vectors:
        name = index_name("vector", lab)
        yield name, (f"CREATE VECTOR INDEX {name} IF NOT EXISTS FOR (n:{lab.value}) ON n.{key} "
                     f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dims)}, "
                     "`vector.similarity_function`: 'cosine'}}"), True


def schema_statements(schema: GraphSchema) -> Iterator[str]:
    """The statements of :func:`schema_plan`, all of them (what a new database needs)."""
    return (statement for _name, statement, _creates in schema_plan(schema))


#: every index and constraint of the database by name (a constraint's backing index has its name),
#: with whether it can be used yet and, for a vector index, its dimensions
SCHEMA_NOW = ("SHOW INDEXES YIELD name, state, options "
              "RETURN name, state, options.indexConfig['vector.dimensions'] AS dims")


#: the embeddings nearest a vector, the nodes they embed, and those nodes' evidence quotes (claims have some);
#: Neo4j scores cosine as (1 + cos) / 2
NEAREST = ("CALL db.index.vector.queryNodes('kx_vector_Embedding', $limit, $vector) YIELD node, score "
           "MATCH (node)-[:EMBEDS]->(o) RETURN labels(o)[0] AS label, properties(o) AS node, score, "
           "[(o)-[:SUPPORTED_BY]->(q:EvidenceQuote) | properties(q)] AS evidence ORDER BY score DESC")


def fulltext_statement() -> str:
    return ("CALL db.index.fulltext.queryNodes($index, $query) YIELD node, score "
            "RETURN properties(node) AS node, score ORDER BY score DESC LIMIT $limit")


AWAIT_INDEXES = "CALL db.awaitIndexes(300)"
#: how long a read is retried on transient errors (writes: the driver's 15 s)
READ_RETRY_S = 2.0


#: ``CALL { WITH a, b …`` (the form both stores accept) in Neo4j's own scoped form ``CALL (a, b) { …``:
#: Neo4j 5 deprecates the importing WITH, and FalkorDB refuses the scope clause
_IMPORTING_WITH = re.compile(r"CALL \{ WITH ((?:\w+)(?:, \w+)*) ")
#: ``CALL { …`` that imports nothing (``read_tree.combined``'s parts) as ``CALL () { …``: Neo4j 5
#: deprecates a subquery without a scope clause
_UNSCOPED = re.compile(r"CALL \{ (?!WITH )")


@functools.lru_cache(maxsize=1024)
def neo4j_form(statement: str) -> str:
    """The statement as Neo4j 5 prefers it (``../shared/design/cypher-dialects.md``)."""
    if "CALL { " not in statement:
        return statement
    return _UNSCOPED.sub("CALL () { ", _IMPORTING_WITH.sub(r"CALL (\1) { ", statement))


def dialect_statements(schema: GraphSchema) -> Iterator[str]:
    """Every statement this module sends, for the Neo4j lint."""
    yield from schema_statements(schema)
    yield SCHEMA_NOW
    yield fulltext_statement()
    yield AWAIT_INDEXES
    yield NEAREST
    yield from (embedding_write(label) for label in (NodeLabel.EvidenceQuote, NodeLabel.Concept))


def embedding_write(label: NodeLabel | str) -> str:
    """Text embeddings of ``label``'s nodes, the vector stored as the index reads it (``Store.embedding_statement``)."""
    lab = check_label(label).value
    return (f"UNWIND $rows AS row MATCH (o:{lab} {{id: row.owner}}) "
            "MERGE (e:Embedding {id: row.id}) SET e.study = row.study, e.key = row.key "
            "MERGE (e)-[:EMBEDS]->(o) WITH e, row CALL db.create.setNodeVectorProperty(e, 'vector', row.vector)")


def _plain(value: Any) -> Any:
    from neo4j.graph import Node, Relationship

    if isinstance(value, Node | Relationship):
        return dict(value.items())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _quiet_driver_log() -> None:
    """While Neo4j is down the driver logs every failed routing attempt at ERROR with a traceback;
    :meth:`Neo4jStore.health` reports the outage (once per state change in the API's log) instead.
    Left alone when the application configured the ``neo4j`` logger itself."""
    driver_log = logging.getLogger("neo4j")
    if driver_log.level == logging.NOTSET:
        driver_log.setLevel(logging.CRITICAL)


class Neo4jStore(Store):
    backend = "neo4j"
    capabilities = Capabilities(multi_statement_transactions=True, fulltext_syntax="lucene",
                                embedded=False)

    def __init__(self, *, uri: str, user: str, password: str, database: str,
                 query_timeout_ms: int = 10_000, batch_size: int = 1_000) -> None:
        self.uri = uri
        self.database = database
        self._auth = (user, password)
        self.query_timeout_ms = query_timeout_ms
        self.batch_size = batch_size
        self._driver: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Neo4jStore:
        if not settings.neo4j_uri:
            raise ConfigError("KXGRAPH_BACKEND=neo4j needs KXGRAPH_NEO4J_URI "
                              "(e.g. neo4j://localhost:7687) and KXGRAPH_NEO4J_PASSWORD")
        return cls(uri=settings.neo4j_uri, user=settings.neo4j_user,
                   password=settings.neo4j_password.get_secret_value(),
                   database=settings.neo4j_database, query_timeout_ms=settings.query_timeout_ms,
                   batch_size=settings.write_batch_size)

    async def open(self) -> None:
        from neo4j import AsyncGraphDatabase, NotificationMinimumSeverity

        _quiet_driver_log()
        # notifications off: "property key does not exist" warnings on a new database say nothing
        # useful; deprecations are caught before a release by the Cypher lint (tests/cypher_lint)
        self._driver = AsyncGraphDatabase.driver(self.uri, auth=self._auth,
                                                 connection_timeout=5.0,
                                                 max_transaction_retry_time=15.0,
                                                 notifications_min_severity=NotificationMinimumSeverity.OFF)
        await self._ping(timeout=10.0)

    async def _ping(self, timeout: float) -> None:
        """One auto-commit read, not retried, bounded in time: a fast, truthful answer."""
        from neo4j import READ_ACCESS
        from neo4j import exceptions as ne

        async def ping() -> None:
            async with self._require().session(database=self.database,
                                               default_access_mode=READ_ACCESS) as session:
                await (await session.run(PING)).consume()

        try:
            await asyncio.wait_for(ping(), timeout)
        except (ne.Neo4jError, ne.DriverError, OSError) as exc:
            raise self._errors(exc) from exc
        except asyncio.TimeoutError:
            raise StoreUnavailableError(
                f"Neo4j at {self.uri} does not answer within {timeout:.0f} s") from None

    async def close(self) -> None:
        if self._driver is not None:
            await self._driver.close()
            self._driver = None

    async def health(self) -> Health:
        info: dict[str, Any] = {"uri": self.uri, "database": self.database}
        try:
            started = time.perf_counter()
            await self._ping(timeout=2.0)
            info["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return Health(ok=True, backend=self.backend, detail="ok", info=info)
        except StoreError as exc:
            return Health(ok=False, backend=self.backend, detail=str(exc), info=info)

    def _errors(self, exc: Exception) -> StoreError:
        from neo4j import exceptions as ne

        if isinstance(exc, ne.AuthError) or (isinstance(exc, ne.Neo4jError)
                                             and (exc.code or "").startswith("Neo.ClientError.Security.")):
            return StoreUnavailableError(
                f"Neo4j at {self.uri} refused the credentials of user {self._auth[0]!r} ({exc.message}): "
                "check KXGRAPH_NEO4J_USER and KXGRAPH_NEO4J_PASSWORD")
        if isinstance(exc, ne.ServiceUnavailable | ne.SessionExpired | OSError):
            return StoreUnavailableError(
                f"Neo4j at {self.uri} does not answer ({exc}): is it running, and is KXGRAPH_NEO4J_URI right?")
        if isinstance(exc, ne.Neo4jError):
            return QueryError(f"Neo4j refused the statement: {exc.message}")
        return StoreError(str(exc))

    def _require(self) -> Any:
        if self._driver is None:
            raise StoreUnavailableError("the Neo4j store is not open")
        return self._driver

    async def read(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """A managed read transaction, retried on transient errors for at most
        :data:`READ_RETRY_S`: while Neo4j is down a reader gets a prompt 503, not a 15-s wait."""
        from neo4j import READ_ACCESS, unit_of_work
        from neo4j import exceptions as ne

        driver = self._require()
        bound = dict(params or {})

        @unit_of_work(timeout=self.query_timeout_ms / 1000)
        async def work(tx: Any) -> tuple[list[str], list[Any]]:
            result = await tx.run(neo4j_form(statement), bound)
            return list(result.keys()), [record async for record in result]

        try:
            async with driver.session(database=self.database, default_access_mode=READ_ACCESS,
                                      max_transaction_retry_time=READ_RETRY_S) as session:
                keys, records = await session.execute_read(work)
        except (ne.Neo4jError, ne.DriverError, OSError) as exc:
            raise self._errors(exc) from exc
        return [{k: _plain(r[k]) for k in keys} for r in records]

    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        from neo4j import RoutingControl
        from neo4j import exceptions as ne

        driver = self._require()
        try:
            records, _, keys = await driver.execute_query(
                neo4j_form(statement), dict(params or {}), database_=self.database,
                routing_=RoutingControl.WRITE)
        except (ne.Neo4jError, ne.DriverError, OSError) as exc:
            raise self._errors(exc) from exc
        return [{k: _plain(r[k]) for k in keys} for r in records]

    async def _in_write_tx(self, work: Any) -> None:
        from neo4j import exceptions as ne

        driver = self._require()
        try:
            async with driver.session(database=self.database) as session:
                await session.execute_write(work)
        except (ne.Neo4jError, ne.DriverError, OSError) as exc:
            raise self._errors(exc) from exc

    async def write(self, statement: str, rows: Sequence[Row], batch_size: int | None = None) -> int:
        size = batch_rows(rows, batch_size or self.batch_size)
        batches = [list(rows[i:i + size]) for i in range(0, len(rows), size)]
        for batch in batches:
            async def work(tx: Any, batch: list[Row] = batch) -> None:
                await (await tx.run(statement, rows=batch)).consume()
            await self._in_write_tx(work)
        return len(batches)

    async def apply(self, ops: Sequence[WriteOp]) -> None:
        async def work(tx: Any) -> None:
            for op in ops:
                if op.rows:
                    await (await tx.run(neo4j_form(op.statement), rows=list(op.rows))).consume()

        await self._in_write_tx(work)

    def fulltext_part(self, label: str, text: str, limit: int = 20, *, prefix: bool = False) -> Part | None:
        lab = check_label(label)
        query = escape_lucene(text, prefix=prefix)
        if not query:
            return None
        return Part(fulltext_statement(), {"index": index_name("search", lab), "query": query, "limit": int(limit)},
                    ("node", "score"))

    def embedding_statement(self, label: str) -> str:
        return embedding_write(label)

    async def nearest(self, vector: Sequence[float], limit: int = 20) -> list[Row]:
        rows = await self.read(NEAREST, {"vector": [float(x) for x in vector], "limit": int(limit)})
        return [{**r, "score": 2.0 * float(r["score"]) - 1.0} for r in rows]

    async def ensure_schema(self, schema: GraphSchema) -> None:
        """Make what is missing of ``schema`` (one read when nothing is: every load asks)."""
        now = {r["name"]: r for r in await self.read(SCHEMA_NOW)}
        for lab, key, dims in schema.vectors:
            name = index_name("vector", lab)
            if name in now and now[name]["dims"] is not None and int(now[name]["dims"]) != dims:
                # another model's vectors: no longer comparable; made again at the next load
                log.warning("the vector index %s holds %s dimensions, the model gives %d: it is made again, and "
                            "the vectors are made again at the next load", name, now[name]["dims"], dims)
                await self.execute(f"DROP INDEX {name} IF EXISTS")
                await self.execute(f"MATCH (n:{check_label(lab).value}) REMOVE n.{key}")
                del now[name]
        made = False
        for name, statement, creates in schema_plan(schema):
            if (name in now) != creates:
                await self.execute(statement)
                made = True
        if made or any(r["state"] != "ONLINE" for r in now.values()):
            await self.execute(AWAIT_INDEXES)

    async def replace_graph(self, ops: Writes, schema: GraphSchema, *,
                            keep_other_studies: bool = False, replacing: Sequence[str] = ()) -> None:
        """One managed transaction deletes the old graph (or, with ``keep_other_studies``, lets the
        ops delete what they replace) and writes the new one: it commits whole or not at all, and
        is retried whole on transient errors."""
        await self.ensure_schema(schema)
        size = self.batch_size

        async def work(tx: Any) -> None:
            if not keep_other_studies:
                await (await tx.run(DELETE_ALL)).consume()
            for op in ops:
                step = batch_rows(op.rows, size)
                for i in range(0, len(op.rows), step):
                    await (await tx.run(op.statement, rows=list(op.rows[i:i + step]))).consume()

        await self._in_write_tx(work)

    async def drop_graph(self) -> None:
        await self.execute(DELETE_ALL)
