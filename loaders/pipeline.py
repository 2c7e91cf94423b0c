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
from functools import cached_property
from pathlib import Path
from typing import Any

from rdflib import Graph

from kxgraph.errors import DataFormatError, InputError
from kxgraph.graph import cypher
from kxgraph.graph.schema import default_schema
from kxgraph.graph.store import Store, WriteOp
from kxgraph.loaders import embedding, streamed
from kxgraph.loaders.edits import Edit, apply_edit, apply_to_store, generated_ops, graph_view, record_legacy_edits
from kxgraph.loaders.gc_pause import collector_paused
from kxgraph.loaders.projection import Projected, node_id, project
from kxgraph.loaders.quote_rows import QuoteRows
from kxgraph.loaders.shacl import validate
from kxgraph.loaders.sources import StudySource, read_source
from kxgraph.loaders.streamed import Counts, StreamedStudy
from kxgraph.loaders.study_store import triple_count
from kxgraph.ontology.vocabulary import NodeLabel, RelType, label_of_id

__all__ = ["LoadReport", "Prepared", "check", "load", "prepare", "study_edits", "write_prepared"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class Prepared:
    """Studies read, anchored, validated and projected: ready to write. ``graph`` and ``quotes``
    (the quotes of study files, kept as rows: ``loaders/quote_rows.py``) hold their RDF together."""

    sources: list[StudySource]
    graph: Graph
    projected: Projected
    files: list[str]  # "<sha256>  <path>", sorted
    #: the edits made through the API that the studies now hold (edit id -> what it made), and those
    #: left out of this version (see ``loaders/edits.py``)
    edits: dict[str, list[tuple[NodeLabel, str]]] = field(default_factory=dict)
    edits_left_out: list[str] = field(default_factory=list)
    quotes: QuoteRows = field(default_factory=QuoteRows)

    @property
    def study_ids(self) -> list[str]:
        return sorted({s for src in self.sources for s in src.study_ids})

    @property
    def warnings(self) -> list[str]:
        return [f"{src.path}: {w}" for src in self.sources for w in src.warnings]

    @cached_property
    def triples(self) -> int:
        """How many triples the studies are (counted once: the report and the Load node both say)."""
        return triple_count(self.graph) + self.quotes.triple_count()

    def rdf(self) -> Graph:
        """The studies as one RDF graph: ``graph``, with the quote rows moved into it (once)."""
        return self.quotes.move_into(self.graph)

    @property
    def quote_count(self) -> int:
        return len(self.projected.nodes.get(NodeLabel.EvidenceQuote, []))

    @property
    def counts(self) -> Counts:
        """What writing the studies writes (the report and the ``Load`` node say it)."""
        return Counts(self.projected.node_count, self.projected.relationship_count, self.quote_count, self.triples)


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

    @classmethod
    def of(cls, studies: list[str], written: Counts, *, changed: bool = False, **more: Any) -> LoadReport:
        """A report of ``studies`` saying what a load writes (or, unchanged, what the last one wrote)."""
        return cls(studies=studies, changed=changed, nodes=written.nodes, relationships=written.relationships,
                   quotes=written.quotes, triples=written.triples, **more)


def prepare(paths: Sequence[Path], progress: Progress | None = None, *, study_id: str | None = None,
            edits: Sequence[Edit] = ()) -> Prepared:
    """Read, anchor, apply the studies' ``edits``, validate and project; raises an
    :class:`InputError` naming file and place.

    ``study_id`` names the study of a REFI-QDA project (one path only)."""
    with collector_paused():
        return _prepare(paths, progress, study_id, edits)


def _prepare(paths: Sequence[Path], progress: Progress | None, study_id: str | None,
             edits: Sequence[Edit]) -> Prepared:
    say = progress or (lambda _msg: None)
    sources: list[StudySource] = []
    seen: dict[str, Path] = {}
    applied: dict[str, list[tuple[NodeLabel, str]]] = {}
    left_out: list[str] = []
    for path in paths:
        say(f"reading {path}")
        src = read_source(Path(path), study_id=study_id)
        for sid in src.study_ids:
            if sid in seen:
                raise DataFormatError(f"the study {sid!r} is also in {seen[sid]}", file=str(src.path),
                                      place="study.id", fix="give each study its own id, or load one copy")
            seen[sid] = src.path
        for edit in sorted((e for e in edits if e.study in src.study_ids), key=lambda e: (e.started_at, e.id)):
            made = _apply(edit, src)
            if made is None:
                left_out.append(edit.id)
            else:
                applied[edit.id] = made
        say(f"validating {src.path}")
        validate(src.graph, file=str(src.path), places=src.places, quotes=src.quotes)
        sources.append(src)
    # the others merged into the largest graph, whose triples are not copied
    merged = max((src.graph for src in sources), key=triple_count, default=Graph())
    quotes = QuoteRows()
    for src in sources:
        if src.graph is not merged:
            merged += src.graph
        quotes.update(src.quotes)
    say("projecting")
    projected = project(merged, file=", ".join(str(s.path) for s in sources), quotes=quotes)
    files = sorted(f"{sha}  {p}" for src in sources for p, sha in src.files.items())
    return Prepared(sources=sources, graph=merged, projected=projected, files=files, edits=applied,
                    edits_left_out=left_out, quotes=quotes)


def check(paths: Sequence[Path], progress: Progress | None = None) -> tuple[list[str], Counts]:
    """Check studies as a load does, writing nothing: their ids, and what a load would write. A
    study file with large tables is checked a batch at a time (``loaders/streamed.py``), the rest
    read whole; raises the problems as :func:`prepare` does."""
    with collector_paused():
        if len(paths) == 1:
            try:
                study = StreamedStudy.open(Path(paths[0]))
                if study is not None:
                    for _ in study.writes([], lambda _counts: [], progress or (lambda _msg: None)):
                        pass
                    return [study.study_id], study.counts
            except InputError as exc:
                log.info("%s is read whole to say what is wrong: %s", paths[0], exc)
        prep = prepare(paths, progress)
    return prep.study_ids, prep.counts


def _apply(edit: Edit, src: StudySource) -> list[tuple[NodeLabel, str]] | None:
    """An edit made through the API, applied again to the study a load read (``loaders/edits.py``):
    what it made, or None (and a warning) when it no longer fits the study."""
    try:
        applied = apply_edit(edit, graph_view(src.rdf(), edit.study), replay=True)
    except (InputError, KeyError, TypeError, ValueError) as exc:  # the last three: an entry edited by hand
        why = exc.message + (f" ({exc.place})" if exc.place else "") if isinstance(exc, InputError) else \
            f"its entry cannot be read ({type(exc).__name__}: {exc})"
        src.warnings.append(f"{edit.describe()} is left out of this version of {edit.study}: {why}. The edit stays "
                            "recorded: a load where it fits applies it again")
        return None
    src.graph += applied.graph
    src.warnings += applied.warnings
    return [(lab, node_id(s)) for s in applied.made if (lab := label_of_id(node_id(s))) is not None]


async def study_edits(store: Store, studies: Sequence[str] | None = None) -> list[Edit]:
    """The edits made through the API to ``studies`` (all, when None), in the order they were made."""
    rows = await store.read(cypher.STUDY_EDITS, {"studies": list(studies) if studies is not None else None})
    return [Edit.from_props(r["props"]) for r in rows]


def load_ops(load_id: str, started: str, files: list[str], counts: Counts, projected: Projected) -> list[WriteOp]:
    """The ``Load`` node of a load (PROV-O: what it used and generated) that wrote ``counts`` from
    ``files``; ``projected``: where its studies and documents are."""
    ended = datetime.now(timezone.utc).isoformat()
    props = {"startedAt": started, "endedAt": ended, "files": files,
             "tripleCount": counts.triples, "nodeCount": counts.nodes,
             "relationshipCount": counts.relationships, "quoteCount": counts.quotes,
             "iri": f"https://w3id.org/kxgraph/id/{load_id}", "study": ""}
    docs = [{"src": load_id, "dst": r["id"]} for r in projected.nodes.get(NodeLabel.SourceDocument, [])]
    studies = [{"src": load_id, "dst": r["id"]} for r in projected.nodes.get(NodeLabel.Study, [])]
    return [
        WriteOp(cypher.merge_nodes(NodeLabel.Load), [{"id": load_id, "props": props}]),
        WriteOp(cypher.merge_relationships(NodeLabel.Load, RelType.USED, NodeLabel.SourceDocument), docs),
        WriteOp(cypher.merge_relationships(NodeLabel.Load, RelType.GENERATED, NodeLabel.Study), studies),
    ]


async def unchanged(store: Store, prep: Prepared, meaning: bool = False) -> bool:
    """True when every study was last loaded from exactly these files (and, with ``meaning``, its
    embeddings are all there and made by the installed model: a new model loads them again)."""
    return await loaded_from(store, prep.study_ids, prep.files, meaning) is not None


async def loaded_from(store: Store, study_ids: list[str], files: list[str], meaning: bool = False) -> Counts | None:
    """What the last load of ``study_ids`` wrote, when it read exactly ``files`` (and, with
    ``meaning``, the studies' embeddings are all there, made by the installed model); else None."""
    rows = await store.read(cypher.CURRENT_LOADS, {"studies": study_ids})
    current = {r["study"]: r for r in rows}
    if not all(sorted(current[sid]["files"] or []) == files if sid in current else False for sid in study_ids):
        return None
    if meaning and embedding.unavailable() is None:
        made = (await store.read(cypher.EMBEDDINGS_BY_MODEL, {"studies": study_ids,
                                                                 "model": embedding.model_name() + ":"}))[0]
        if not (made["n"] and made["n"] == made["current"]):
            return None
    row = current[study_ids[0]] if len(study_ids) == 1 else {}
    return Counts(*(row.get(k) or 0 for k in ("nodes", "relationships", "quotes", "triples")))


async def embedding_ops(store: Store, prep: Prepared, say: Progress) -> list[WriteOp]:
    """The text embeddings of the prepared studies' quotes and claims (``loaders/embedding.py``),
    as writes after their nodes; an embedding the store already holds for the same text is reused,
    so an unchanged text costs nothing to load again. None when the optional model is absent."""
    if embedding.unavailable() is not None:
        return []
    items = [(label, {**row["props"], "id": row["id"]}) for label in embedding.EMBEDDED
             for row in prep.projected.nodes.get(label, [])]
    if not items:
        return []
    known = {r["key"]: r["vector"] for r in await store.read(cypher.EMBEDDINGS_OF, {"studies": prep.study_ids})
             if r["vector"] is not None}
    before = len(known)
    rows = embedding.embedding_rows(items, known, say)
    if len(known) > before:
        say(f"embedded {len(known) - before} texts for search by meaning (the others were kept from the last load)")
    return [WriteOp(store.embedding_statement(label.value), r) for label, r in rows.items()]


async def load(store: Store, paths: Sequence[Path], *, progress: Progress | None = None,
               force: bool = False, study_id: str | None = None, meaning: bool = True) -> LoadReport:
    """Load studies into the store, replacing those studies whole (all or nothing); ``meaning``:
    with text embeddings for search by meaning (when the optional model is installed)."""
    started = datetime.now(timezone.utc).isoformat()
    await record_legacy_edits(store)
    edits = await study_edits(store)
    with collector_paused():  # one pause for both halves: the collector's pass comes once, after
        if len(paths) == 1 and study_id is None:
            if not (meaning and embedding.unavailable() is None):
                report = await _load_streamed(store, Path(paths[0]), edits, progress, force, started)
                if report is not None:
                    return report
            elif progress is not None and streamed.worth_streaming(Path(paths[0])):
                progress("the study's tables are large, but it is read whole to embed its texts for search by "
                         "meaning (KXGRAPH_MEANING=false loads it a batch at a time, in far less memory)")
        prep = prepare(paths, progress, study_id=study_id, edits=edits)
        return await write_prepared(store, prep, progress=progress, force=force, started=started, meaning=meaning)


async def write_prepared(store: Store, prep: Prepared, *, progress: Progress | None = None,
                         force: bool = False, started: str | None = None, meaning: bool = True) -> LoadReport:
    """The second half of :func:`load`: write studies :func:`prepare` made ready."""
    with collector_paused():
        return await _write_prepared(store, prep, progress, force, started, meaning)


async def _write_prepared(store: Store, prep: Prepared, progress: Progress | None, force: bool,
                          started: str | None, meaning: bool) -> LoadReport:
    say = progress or (lambda _msg: None)
    started = started or datetime.now(timezone.utc).isoformat()
    report = LoadReport.of(prep.study_ids, prep.counts, files=prep.files, warnings=prep.warnings,
                           counts={k: v for src in prep.sources for k, v in src.counts.items()})
    if not force and await unchanged(store, prep, meaning):
        say("unchanged: the store already holds these files")
        return report
    load_id = f"load/{started[:19].replace(':', '')}-{uuid.uuid4().hex[:8]}"
    embeddings = await embedding_ops(store, prep, say) if meaning else []
    ops = [*(WriteOp(cypher.delete_studies(label), [{"study": s} for s in prep.study_ids]) for label in NodeLabel),
           *prep.projected.write_ops(),
           *embeddings,
           *generated_ops(prep.edits),
           *load_ops(load_id, started, prep.files, prep.counts, prep.projected)]
    say(f"writing {report.nodes} nodes and {report.relationships} relationships")
    await store.replace_graph(ops, default_schema(), keep_other_studies=True, replacing=prep.study_ids)
    report.changed = True
    report.load_id = load_id
    # an edit made while the load wrote is in the new graph's Edit nodes, not in what the load
    # applied: it is made again now (one statement per edit; they are few)
    for edit in await study_edits(store, prep.study_ids):
        if edit.id not in prep.edits and edit.id not in prep.edits_left_out:
            try:
                await apply_to_store(store, edit, meaning=meaning, replay=True)
            except (InputError, KeyError, TypeError, ValueError) as exc:
                report.warnings.append(f"{edit.describe()} is left out of this version of {edit.study}: {exc}")
    log.info("loaded %s: %d nodes, %d quotes", ", ".join(prep.study_ids), report.nodes, report.quotes)
    return report


async def _load_streamed(store: Store, path: Path, edits: Sequence[Edit], progress: Progress | None,
                         force: bool, started: str) -> LoadReport | None:
    """:func:`load` of one study file whose tables are large, a batch of claims at a time
    (``loaders/streamed.py``); None when the study is to be read whole: a small one, one with edits
    to apply again, or one with a problem (the whole reading reports it, as it reports any)."""
    say = progress or (lambda _msg: None)
    try:
        study = StreamedStudy.open(path)
        if study is None or any(e.study == study.study_id for e in edits):
            return None
        say(f"read {study.path} but its tables; the tables a batch at a time")
        if not force:
            last = await loaded_from(store, [study.study_id], study.files)
            if last is not None:
                say("unchanged: the store already holds these files")
                return LoadReport.of([study.study_id], last, files=study.files)
        load_id = f"load/{started[:19].replace(':', '')}-{uuid.uuid4().hex[:8]}"
        before = [WriteOp(cypher.delete_studies(label), [{"study": study.study_id}]) for label in NodeLabel]
        writes = study.writes(before, lambda counts: load_ops(load_id, started, study.files, counts, study.head), say)
        await store.replace_graph(writes, default_schema(), keep_other_studies=True, replacing=[study.study_id])
    except InputError as exc:
        log.info("%s is read whole to say what is wrong: %s", path, exc)
        return None
    report = LoadReport.of([study.study_id], study.counts, changed=True, load_id=load_id, files=study.files)
    log.info("loaded %s a batch at a time: %d nodes, %d quotes", study.study_id, report.nodes, report.quotes)
    return report
