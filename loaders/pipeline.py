"""The load pipeline: files -> RDF -> SHACL -> property graph -> one all-or-nothing write.

A load replaces the studies it names and leaves the others untouched. Loading the same files again
changes nothing: the store remembers (as PROV-O provenance, a ``Load`` node that ``GENERATED`` the
study) which files made the current version of each study.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Graph

from kxgraph.errors import DataFormatError
from kxgraph.graph import cypher
from kxgraph.graph.schema import default_schema
from kxgraph.graph.store import Row, Store, WriteOp
from kxgraph.loaders import embedding
from kxgraph.loaders.projection import Projected, project
from kxgraph.loaders.shacl import validate
from kxgraph.loaders.sources import StudySource, read_source
from kxgraph.ontology.vocabulary import NodeLabel, RelType

__all__ = ["LoadReport", "Prepared", "load", "prepare", "relink_api_additions", "write_prepared"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class Prepared:
    """Studies read, anchored, validated and projected: ready to write."""

    sources: list[StudySource]
    graph: Graph
    projected: Projected
    files: list[str]  # "<sha256>  <path>", sorted

    @property
    def study_ids(self) -> list[str]:
        return sorted({s for src in self.sources for s in src.study_ids})

    @property
    def warnings(self) -> list[str]:
        return [f"{src.path}: {w}" for src in self.sources for w in src.warnings]

    @property
    def quote_count(self) -> int:
        return len(self.projected.nodes.get(NodeLabel.EvidenceQuote, []))


@dataclass
class LoadReport:
    studies: list[str]
    changed: bool
    nodes: int
    relationships: int
    quotes: int
    triples: int
    load_id: str | None = None
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # what the sources held, by kind (REFI-QDA)


def prepare(paths: Sequence[Path], progress: Progress | None = None, *, study_id: str | None = None) -> Prepared:
    """Read, anchor, validate and project; raises an :class:`InputError` naming file and place.

    ``study_id`` names the study of a REFI-QDA project (one path only)."""
    say = progress or (lambda _msg: None)
    sources: list[StudySource] = []
    seen: dict[str, Path] = {}
    for path in paths:
        say(f"reading {path}")
        src = read_source(Path(path), study_id=study_id)
        for sid in src.study_ids:
            if sid in seen:
                raise DataFormatError(f"the study {sid!r} is also in {seen[sid]}", file=str(src.path),
                                      place="study.id", fix="give each study its own id, or load one copy")
            seen[sid] = src.path
        say(f"validating {src.path}")
        validate(src.graph, file=str(src.path), places=src.places)
        sources.append(src)
    # the others merged into the largest graph, whose triples are not copied
    merged = max((src.graph for src in sources), key=len, default=Graph())
    for src in sources:
        if src.graph is not merged:
            merged += src.graph
    say("projecting")
    projected = project(merged, file=", ".join(str(s.path) for s in sources))
    files = sorted(f"{sha}  {p}" for src in sources for p, sha in src.files.items())
    return Prepared(sources=sources, graph=merged, projected=projected, files=files)


def _load_ops(prep: Prepared, load_id: str, started: str) -> list[WriteOp]:
    ended = datetime.now(timezone.utc).isoformat()
    props = {"startedAt": started, "endedAt": ended, "files": prep.files,
             "tripleCount": len(prep.graph), "nodeCount": prep.projected.node_count,
             "relationshipCount": prep.projected.relationship_count, "quoteCount": prep.quote_count,
             "iri": f"https://w3id.org/kxgraph/id/{load_id}", "study": ""}
    docs = [{"src": load_id, "dst": r["id"]} for r in prep.projected.nodes.get(NodeLabel.SourceDocument, [])]
    studies = [{"src": load_id, "dst": r["id"]} for r in prep.projected.nodes.get(NodeLabel.Study, [])]
    return [
        WriteOp(cypher.merge_nodes(NodeLabel.Load), [{"id": load_id, "props": props}]),
        WriteOp(cypher.merge_relationships(NodeLabel.Load, RelType.USED, NodeLabel.SourceDocument), docs),
        WriteOp(cypher.merge_relationships(NodeLabel.Load, RelType.GENERATED, NodeLabel.Study), studies),
    ]


async def relink_api_additions(store: Store) -> None:
    """Restore the links of nodes added through the API (idempotent; nothing to do, and one
    indexed look-up, when there are none)."""
    added = await store.read(cypher.ANY_API_ADDITIONS)
    if not (added and added[0]["n"]):
        return
    for statement in cypher.relinks():
        await store.execute(statement)


async def follow_api_quotes(store: Store, prep: Prepared) -> tuple[list[WriteOp], list[str]]:
    """Quotes added through the API outlive reloads; when a reload changes their document's text,
    place them again in the new text (or mark them orphaned) in the same write."""
    from kxgraph.loaders.revisions import place_all

    new_docs = {r["id"]: r["props"] for r in prep.projected.nodes.get(NodeLabel.SourceDocument, [])}
    moved: dict[str, list[Row]] = {}
    for r in await store.read(cypher.API_QUOTES, {"studies": prep.study_ids}):
        doc = (r["documents"] or [None])[0]
        if doc in new_docs and r["sha256"] != new_docs[doc]["sha256"]:
            moved.setdefault(doc, []).append(r)
    updates: list[Row] = []
    said: list[str] = []
    for doc, quotes in sorted(moved.items()):
        current = await store.read(cypher.DOCUMENT_QUOTES, {"id": doc})
        old_text = current[0]["content"] if current else None
        rows, outcomes = place_all(quotes, old_text, new_docs[doc]["content"], new_docs[doc]["sha256"])
        updates += rows
        said += [f"{o.quote}: {o.status}" + (" - its words are no longer in the document" if o.status == "orphaned"
                                             else "") for o in outcomes if o.status != "exact"]
    ops = [WriteOp(cypher.merge_nodes(NodeLabel.EvidenceQuote), updates)] if updates else []
    return ops, said


async def unchanged(store: Store, prep: Prepared, meaning: bool = False) -> bool:
    """True when every study was last loaded from exactly these files (and, with ``meaning``, its
    embeddings are all there and made by the installed model: a new model loads them again)."""
    rows = await store.read(cypher.CURRENT_LOADS, {"studies": prep.study_ids})
    current = {r["study"]: sorted(r["files"] or []) for r in rows}
    if not all(current.get(sid) == prep.files for sid in prep.study_ids):
        return False
    if meaning and embedding.unavailable() is None:
        made = (await store.read(cypher.EMBEDDINGS_BY_MODEL, {"studies": prep.study_ids,
                                                                 "model": embedding.model_name() + ":"}))[0]
        return bool(made["n"]) and made["n"] == made["current"]
    return True


def embedding_rows(items: Sequence[tuple[NodeLabel, Row]], known: dict[str, list[float]],
                   say: Progress | None = None) -> dict[NodeLabel, list[Row]]:
    """The rows of :meth:`Store.embedding_statement` for nodes (label, properties), embedding the
    texts ``known`` has no vector for (and adding them to it); ``say`` is told how far it is."""
    keyed = [(label, props, embedding.text_key(text)) for label, props in items
             if (text := embedding.text_of(label, props))]
    texts = {key: embedding.text_of(label, props) or "" for label, props, key in keyed}
    missing = sorted(k for k in texts if k not in known)
    if missing:
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if say is not None:
                say(f"embedding texts for search by meaning: {done[0]:,} of {len(missing):,}")

        known.update(zip(missing, embedding.embed([texts[k] for k in missing], progress=step), strict=True))
    rows: dict[NodeLabel, list[Row]] = {}
    for label, props, key in keyed:
        rows.setdefault(label, []).append({"id": embedding.embedding_id(props["id"]), "owner": props["id"],
                                           "study": props.get("study", ""), "key": key, "vector": list(known[key])})
    return rows


async def embedding_ops(store: Store, prep: Prepared, say: Progress) -> list[WriteOp]:
    """The text embeddings of the prepared studies' quotes and claims (``loaders/embedding.py``),
    as writes after their nodes; an embedding the store already holds for the same text is reused,
    so an unchanged text costs nothing to load again. None when the optional model is absent."""
    if embedding.unavailable() is not None:
        return []
    items = [(label, {**row["props"], "id": row["id"]}) for label in embedding.EMBEDDED
             for row in prep.projected.nodes.get(label, [])]
    # nodes added through the API are kept, with their embeddings; those without one of this model
    # (its write failed, or the model changed) get it now
    added = [(label, r["props"]) for label in (NodeLabel.EvidenceQuote, NodeLabel.DiscussionPoint)
             for r in await store.read(cypher.api_nodes_to_embed(label),
                                       {"studies": prep.study_ids, "model": embedding.model_name() + ":"})]
    items += added
    if not items:
        return []
    known = {r["key"]: r["vector"] for r in await store.read(cypher.EMBEDDINGS_OF, {"studies": prep.study_ids})
             if r["vector"] is not None}
    before = len(known)
    rows = embedding_rows(items, known, say)
    if len(known) > before:
        say(f"embedded {len(known) - before} texts for search by meaning (the others were kept from the last load)")
    ops = [WriteOp(store.embedding_statement(label.value), r) for label, r in rows.items()]
    if added:
        ops.append(WriteOp(cypher.MARK_API_EMBEDDINGS, [{"id": embedding.embedding_id(p["id"])} for _, p in added]))
    return ops


async def load(store: Store, paths: Sequence[Path], *, progress: Progress | None = None,
               force: bool = False, study_id: str | None = None, meaning: bool = True) -> LoadReport:
    """Load studies into the store, replacing those studies whole (all or nothing); ``meaning``:
    with text embeddings for search by meaning (when the optional model is installed)."""
    started = datetime.now(timezone.utc).isoformat()
    prep = prepare(paths, progress, study_id=study_id)
    return await write_prepared(store, prep, progress=progress, force=force, started=started, meaning=meaning)


async def write_prepared(store: Store, prep: Prepared, *, progress: Progress | None = None,
                         force: bool = False, started: str | None = None, meaning: bool = True) -> LoadReport:
    """The second half of :func:`load`: write studies :func:`prepare` made ready."""
    say = progress or (lambda _msg: None)
    started = started or datetime.now(timezone.utc).isoformat()
    report = LoadReport(studies=prep.study_ids, changed=False, nodes=prep.projected.node_count,
                        relationships=prep.projected.relationship_count, quotes=prep.quote_count,
                        triples=len(prep.graph), files=prep.files, warnings=prep.warnings,
                        counts={k: v for src in prep.sources for k, v in src.counts.items()})
    if not force and await unchanged(store, prep, meaning):
        say("unchanged: the store already holds these files")
        return report
    load_id = f"load/{started[:19].replace(':', '')}-{uuid.uuid4().hex[:8]}"
    follow, outcomes = await follow_api_quotes(store, prep)
    report.warnings += [f"a quote added through the API was placed again: {o}" for o in outcomes]
    # nodes added through the API outlive the reload: linked again to the nodes it recreates
    added = await store.read(cypher.API_ADDITIONS, {"studies": prep.study_ids})
    relinks = cypher.relinks() if added and added[0]["n"] else []
    embeddings = await embedding_ops(store, prep, say) if meaning else []
    ops = [*(WriteOp(cypher.delete_studies(label), [{"study": s} for s in prep.study_ids]) for label in NodeLabel),
           *prep.projected.write_ops(),
           *embeddings,
           *(WriteOp(statement, [{}]) for statement in relinks),
           *follow,
           *_load_ops(prep, load_id, started)]
    say(f"writing {report.nodes} nodes and {report.relationships} relationships")
    await store.replace_graph(ops, default_schema(), keep_other_studies=True, replacing=prep.study_ids)
    report.changed = True
    report.load_id = load_id
    log.info("loaded %s: %d nodes, %d quotes", ", ".join(prep.study_ids), report.nodes, report.quotes)
    return report
