"""An edit made through the API is a small load.

An edit (``addDiscussionPoint``, ``addEvidenceQuote``) is kept as what a study file would say: an
entry of the study format (``docs/data-format.md``) and its evidence quotes by their words, with the
place each was anchored at when the edit was made. It is applied the loader's way — the entry's RDF
from the study format's own builder (``yaml_format.build_study``: its ids, IRIs, references and
checks), its quotes anchored as the loader anchors them (``quote_triples``), SHACL, the projection,
the catalogue's merge statements — when it is made, into the served graph (one transaction), and
again at every load of its study, into the graph the load writes. A study is its files and its
edits, in the order they were made: what was added through the API survives reloads because loads
apply it, and nothing else keeps it alive.

An edit is recorded on its ``Edit`` node (PROV-O: who, when, what it generated), which belongs to no
study, so that replacing a study keeps it. When a load finds that an edit no longer fits its study
(what it names is gone, or its words are no longer in the document) it says so and leaves the edit
out of that version; the edit stays recorded, and a later load that fits applies it again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from rdflib import RDF, Graph, URIRef

from kxgraph.errors import InputError
from kxgraph.graph import cypher
from kxgraph.graph.store import Row, WriteOp
from kxgraph.loaders.anchoring import Anchor, anchor_quote
from kxgraph.loaders.projection import Projected, node_id, project
from kxgraph.loaders.reanchoring import OldQuote, reanchor
from kxgraph.loaders.sources import quote_triples
from kxgraph.loaders.yaml_format import SECTIONS, build_study
from kxgraph.ontology.terms import DATA, KX
from kxgraph.ontology.vocabulary import NodeLabel, RelType, claim_labels, label_of_id, projection

__all__ = ["Applied", "Doc", "Edit", "StudyView", "apply_edit", "apply_to_store", "edit_ops", "generated_ops",
           "graph_view", "record_legacy_edits", "store_view"]



@dataclass
class Edit:
    """One edit: what it adds (``entry``, JSON-able: ``{"section": ..., "entry": {...}}`` for a new
    entry, or ``{"claim": <id>}`` for quotes of an existing claim, and ``"evidence"``: the quotes,
    each ``{"text", "document", "hint", "occurrence", "anchored": {...}}``), to which study, who made
    it and when."""

    id: str
    study: str
    operation: str
    agent: str
    started_at: str
    entry: dict[str, Any]

    @classmethod
    def new(cls, operation: str, study: str, agent: str, entry: dict[str, Any]) -> Edit:
        now = datetime.now(timezone.utc).isoformat()
        ident = f"edit/{now[:19].replace(':', '')}-{uuid.uuid4().hex[:8]}"
        return cls(ident, study, operation, agent, now, entry)

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Edit:
        try:
            entry = json.loads(props.get("editEntry") or "{}")
        except ValueError:  # edited by hand: applying it says so, and the load goes on
            entry = {}
        return cls(str(props["id"]), str(props.get("editedStudy") or ""), str(props.get("operation") or ""),
                   str(props.get("agentName") or ""), str(props.get("startedAt") or ""),
                   entry if isinstance(entry, dict) else {})

    def props(self) -> dict[str, Any]:
        """The ``Edit`` node's properties (no study of its own: replacing its study keeps it)."""
        return {"iri": f"{DATA}{self.id}", "study": "", "startedAt": self.started_at, "agentName": self.agent,
                "operation": self.operation, "editedStudy": self.study,
                "editEntry": json.dumps(self.entry, ensure_ascii=False, sort_keys=True)}

    def describe(self) -> str:
        return f"{self.operation} by {self.agent or 'someone'} on {self.started_at[:16].replace('T', ' ')} ({self.id})"


@dataclass(frozen=True)
class Doc:
    """A document of the study, as an edit needs it."""

    ident: str    # its id in the study (``exeter-blog``)
    iri: URIRef
    text: str
    sha256: str


class StudyView(Protocol):
    """What applying an edit reads of its study: the graph a load builds, or the served graph."""

    study: str

    def section_of(self, ident: str) -> str | None:
        """The section (``events``...) of the study's entry ``ident`` (a local id), if there is one."""

    def label_of(self, iri: URIRef) -> NodeLabel | None:
        """The label of an entity of the study, if it is there."""

    def document(self, ident: str | None) -> Doc | None:
        """A document by its local id; ``None``: the study's only document, if it has one."""


@dataclass
class Applied:
    """The RDF an edit adds (and the classes of what it links to, for the projection), the
    entities it makes, and what a load should say about it."""

    graph: Graph
    made: list[URIRef]
    warnings: list[str] = field(default_factory=list)


def _refs(entry: Mapping[str, Any], section: str) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(id, the sections it may name) for every reference of an entry."""
    for key, spec in SECTIONS[section].fields.items():
        if spec.kind == "lit" or entry.get(key) is None:
            continue
        values = entry[key] if isinstance(entry[key], list) else [entry[key]]
        for v in values:
            yield str(v), spec.targets


def apply_edit(edit: Edit, view: StudyView, *, replay: bool) -> Applied:
    """The RDF of ``edit`` in ``view``'s study. Made (``replay=False``): every quote must be found as
    written, else :class:`QuoteError`. Applied again by a load (``replay=True``): a quote whose
    document changed is placed again (moved, fuzzy) or left out, saying so; an edit that no longer
    fits its study raises :class:`InputError`, naming the edit."""
    sid = view.study
    g = Graph()
    made: list[URIRef] = []
    warnings: list[str] = []
    proj = projection()
    where = edit.describe()
    if "section" in edit.entry:
        section = str(edit.entry["section"])
        entry = dict(edit.entry["entry"])
        known = {}
        for ident, targets in _refs(entry, section):
            found = view.section_of(ident)
            if found is not None and found in targets:
                known[ident] = (f"{found} (id {ident!r})", found)
        data = {"study": {"id": sid, "name": sid}, section: [entry]}
        built = build_study(data, Path(where), {id(entry): f"{where}: {section}"}, documents=False, known=known)
        target = DATA[f"{sid}/{SECTIONS[section].kind}/{entry['id']}"]
        if view.label_of(target) is not None and not replay:
            raise InputError(f"{node_id(target)!r} exists already", file=where, place=f"{section}.id",
                             fix="choose another slug")
        for s, p, o in built.graph.triples((target, None, None)):
            g.add((s, p, o))
            if p != RDF.type and isinstance(o, URIRef) and str(o).startswith(str(DATA)):
                label = view.label_of(o)
                if label is not None:
                    g.add((o, RDF.type, proj.classes[label]))
        made.append(target)
    else:
        target = DATA[str(edit.entry["claim"])]
        label = view.label_of(target)
        if label not in claim_labels():
            raise InputError(f"{node_id(target)!r} is not a claim of the study {sid!r}", file=where, place="claim",
                             fix="give the id of a definition, discussion point, consequence, placement, "
                                 "reflection or method")
        assert label is not None
        g.add((target, RDF.type, proj.classes[label]))
    for i, ev in enumerate(edit.entry.get("evidence") or []):
        place = f"evidence[{i}]"
        doc = view.document(ev.get("document"))
        if doc is None:
            raise InputError(f"the quote's document {ev.get('document')!r} is not in the study {sid!r}", file=where,
                             place=place, fix="say which document the quote is from ('document')")
        anchor, status, said = _anchor(ev, doc, where, place, replay)
        if said:
            warnings.append(f"{where}: {place}: {said}")
        if anchor is None:
            continue
        more = {} if status in (None, "exact") else {"anchorStatus": status[0], "anchorScore": status[1]}
        quote, _ = quote_triples(g, sid, doc.ident, doc.iri, doc.sha256, anchor, **more)
        g.add((doc.iri, RDF.type, KX.SourceDocument))
        g.add((target, KX.supportedBy, quote))
        made.append(quote)
        ev["anchored"] = {"start": anchor.start, "end": anchor.end, "exact": anchor.exact, "prefix": anchor.prefix,
                          "suffix": anchor.suffix, "sha256": doc.sha256}
    if not any(p == KX.supportedBy for p in g.predicates(target, None)):
        raise InputError("none of its quotes is in the document any more", file=where, place="evidence",
                         fix="the edit stays recorded; it comes back once its words are in the document again")
    return Applied(g, made, warnings)


def _anchor(ev: Mapping[str, Any], doc: Doc, where: str, place: str, replay: bool
            ) -> tuple[Anchor | None, Any, str | None]:
    """Where a quote of an edit sits in its document now: (anchor or None, how it was placed, what to say)."""
    was = ev.get("anchored")
    if not replay or not was:
        a = anchor_quote(doc.text, str(ev.get("text") or ""), hint=ev.get("hint"), occurrence=ev.get("occurrence"),
                         file=where, place=place, document=doc.ident)
        return a, None, None
    start, end = int(was["start"]), int(was["end"])
    if was.get("sha256") == doc.sha256 and doc.text[start:end] == was["exact"]:
        return Anchor.at(doc.text, start, end), None, None
    placed = reanchor(OldQuote(str(was["exact"]), str(was.get("prefix") or ""), str(was.get("suffix") or ""),
                               start, end), doc.text)
    if placed.start is None or placed.end is None:
        return None, None, (f"the quote {str(was['exact'])[:60]!r} is no longer in {doc.ident}: left out of this "
                            "version (the edit keeps it)")
    moved = (placed.start, placed.end) != (start, end)
    said = f"the quote {str(was['exact'])[:60]!r} was placed again ({placed.status}" + (
        f", {start}-{end} -> {placed.start}-{placed.end})" if moved else ")")
    status = None if placed.status == "exact" and not moved else (placed.status, round(placed.score, 4))
    return Anchor.at(doc.text, placed.start, placed.end), status, said if status else None


def edit_ops(edit: Edit, applied: Applied, *, file: str) -> tuple[list[WriteOp], dict[str, Row]]:
    """The writes of an applied edit (its entities, their links, the ``Edit`` node and what it
    generated), by the catalogue's merge statements; and the rows of the entities made, by id."""
    projected = project(applied.graph, file=file)
    made = {node_id(s) for s in applied.made}
    nodes = {label: [r for r in rows if r["id"] in made] for label, rows in projected.nodes.items()}
    nodes = {label: rows for label, rows in nodes.items() if rows}
    kept = Projected(nodes=nodes, relationships=projected.relationships)
    ops = [WriteOp(cypher.merge_nodes(NodeLabel.Edit), [{"id": edit.id, "props": edit.props()}]), *kept.write_ops()]
    ops += generated_ops({edit.id: [(label, r["id"]) for label, rows in nodes.items() for r in rows]})
    return ops, {r["id"]: r for rows in nodes.values() for r in rows}


def generated_ops(made: Mapping[str, Sequence[tuple[NodeLabel, str]]]) -> list[WriteOp]:
    """``(Edit)-[:GENERATED]->(entity)`` for what each edit made (by edit id)."""
    by_label: dict[NodeLabel, list[Row]] = {}
    for edit_id, entities in made.items():
        for label, ident in entities:
            by_label.setdefault(label, []).append({"src": edit_id, "dst": ident})
    return [WriteOp(cypher.merge_relationships(NodeLabel.Edit, RelType.GENERATED, label), rows)
            for label, rows in sorted(by_label.items())]


# -- a study as a load builds it -------------------------------------------------------------------------
@dataclass
class _GraphView:
    study: str
    g: Graph
    _docs: dict[str, Doc] = field(default_factory=dict)

    def section_of(self, ident: str) -> str | None:
        for name, sec in SECTIONS.items():
            if (DATA[f"{self.study}/{sec.kind}/{ident}"], RDF.type, sec.cls) in self.g:
                return name
        if ident == self.study:
            return "study"
        return None

    def label_of(self, iri: URIRef) -> NodeLabel | None:
        label = label_of_id(node_id(iri)) if str(iri).startswith(str(DATA)) else None
        if label is None:
            return None
        return label if (iri, RDF.type, projection().classes[label]) in self.g else None

    def document(self, ident: str | None) -> Doc | None:
        if not self._docs:
            for d in self.g.subjects(RDF.type, KX.SourceDocument):
                local = node_id(d).split("/", 2)[-1]
                text, sha = self.g.value(d, KX.content), self.g.value(d, KX.sha256)
                if str(d).startswith(f"{DATA}{self.study}/") and text is not None and sha is not None:
                    self._docs[local] = Doc(local, URIRef(str(d)), str(text), str(sha))
        if ident is None:
            return next(iter(self._docs.values())) if len(self._docs) == 1 else None
        return self._docs.get(ident)


def graph_view(g: Graph, study: str) -> StudyView:
    """The study as the graph a load builds holds it."""
    return _GraphView(study, g)


# -- a study as the store serves it ------------------------------------------------------------------------
@dataclass
class _StoreView:
    study: str
    labels: dict[URIRef, NodeLabel]
    docs: dict[str, Doc]
    only: Doc | None = None  # the study's one document, when it has one only

    def section_of(self, ident: str) -> str | None:
        if ident == self.study:
            return "study"
        for name, sec in SECTIONS.items():
            label = self.labels.get(DATA[f"{self.study}/{sec.kind}/{ident}"])
            if label is not None:
                return name
        return None

    def label_of(self, iri: URIRef) -> NodeLabel | None:
        return self.labels.get(iri)

    def document(self, ident: str | None) -> Doc | None:
        return self.only if ident is None else self.docs.get(ident)


async def store_view(store: Any, edit: Edit) -> StudyView:
    """What ``edit`` names, read from the served graph: every entity its entry may refer to, its
    claim, its entity (to refuse a second one), and the study's documents."""
    from kxgraph.graph import queries

    sid = edit.study
    wanted: set[str] = set()
    if "section" in edit.entry:
        section = str(edit.entry["section"])
        entry = edit.entry["entry"]
        wanted.add(f"{sid}/{SECTIONS[section].kind}/{entry['id']}")
        for ident, targets in _refs(entry, section):
            wanted |= {f"{sid}/{SECTIONS[t].kind}/{ident}" for t in targets if t != "study"}
    else:
        wanted.add(str(edit.entry["claim"]))
    by_label: dict[NodeLabel, list[str]] = {}
    for ident in wanted:
        label = label_of_id(ident)
        if label is not None:
            by_label.setdefault(label, []).append(ident)
    labels: dict[URIRef, NodeLabel] = {}
    for label, ids in by_label.items():
        for row in await store.read(queries.nodes_by_id(label), {"ids": sorted(ids)}):
            labels[DATA[row["id"]]] = label
    evidence = edit.entry.get("evidence") or []
    named = sorted({f"{sid}/document/{ev['document']}" for ev in evidence if ev.get("document")})
    def doc(props: Mapping[str, Any]) -> Doc:
        local = str(props["id"]).split("/", 2)[-1]
        labels[DATA[props["id"]]] = NodeLabel.SourceDocument
        return Doc(local, DATA[props["id"]], str(props.get("content") or ""), str(props.get("sha256") or ""))

    docs = {d.ident: d for d in (doc(r["props"]) for r in
                                 await store.read(queries.nodes_by_id(NodeLabel.SourceDocument), {"ids": named}))}
    only = None
    if any(not ev.get("document") for ev in evidence):  # the study's only document, if it has one
        some = [doc(r["props"]) for r in await store.read(queries.STUDY_DOCUMENTS, {"study": sid})]
        only = some[0] if len(some) == 1 else None
    return _StoreView(sid, labels, docs, only)


async def apply_to_store(store: Any, edit: Edit, *, meaning: bool = True, replay: bool = False) -> dict[str, Row]:
    """Make ``edit`` in the served graph: read what it names, apply it, check its entities against
    the shapes, and write them with their embeddings and the ``Edit`` node in one :meth:`Store.apply`.
    The rows of the entities made, by id. ``store``: a :class:`Store` (or the API's counting view of
    one, whose ``inner`` is the store)."""
    from kxgraph.loaders import embedding
    from kxgraph.loaders.shacl import validate

    inner = getattr(store, "inner", store)
    view = await store_view(store, edit)
    applied = apply_edit(edit, view, replay=replay)
    validate(applied.graph, file=edit.describe(), focus=applied.made)
    ops, rows = edit_ops(edit, applied, file=edit.describe())
    if meaning and embedding.unavailable() is None:
        items = [(label, {**r["props"], "id": r["id"]}) for label in embedding.EMBEDDED
                 for r in rows.values() if label_of_id(r["id"]) is label]
        ops += [WriteOp(inner.embedding_statement(label.value), er)
                for label, er in embedding.embedding_rows(items, {}).items()]
    await store.apply(ops)
    return rows


async def record_legacy_edits(store: Any) -> int:
    """Edits recorded before edits kept their entry — their nodes carried ``origin: 'api'`` and
    their links as id lists — get their entry, read off what they generated, so that the next load
    of their study applies them like any other (before that load would otherwise drop their nodes).
    Idempotent; one read when there are none. The number of edits given an entry."""
    rows = []
    for r in await store.read(cypher.LEGACY_EDITS):
        made = [m for m in r["made"] if m.get("props")]
        entry = _legacy_entry(r["edit"], made)
        if entry is not None:
            rows.append({"id": r["edit"]["id"], "study": entry.pop("_study"),
                         "entry": json.dumps(entry, ensure_ascii=False, sort_keys=True)})
    if rows:
        await store.execute(cypher.SET_EDIT_ENTRIES, {"rows": rows})
    return len(rows)


def _local_of(ident: str) -> str:
    return ident.split("/", 2)[-1]


def _legacy_quote(props: Mapping[str, Any]) -> dict[str, Any]:
    doc = (props.get("documentIds") or [""])[0]
    anchored = None
    if props.get("start") is not None:
        anchored = {k: props.get(k) for k in ("start", "end", "exact", "prefix", "suffix")}
        anchored["sha256"] = props.get("documentSha256")
    return {"text": props.get("exact"), "document": _local_of(doc) if doc else None, "hint": None,
            "occurrence": None, "anchored": anchored}


def _legacy_entry(edit: Mapping[str, Any], made: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    by_label: dict[str, list[Mapping[str, Any]]] = {}
    for m in made:
        by_label.setdefault(str(m["label"]), []).append(m["props"])
    quotes = by_label.get(NodeLabel.EvidenceQuote.value, [])
    if edit.get("operation") == "addDiscussionPoint" and by_label.get(NodeLabel.DiscussionPoint.value):
        dp = by_label[NodeLabel.DiscussionPoint.value][0]
        order = {q: i for i, q in enumerate(dp.get("evidenceIds") or [])}
        quotes = sorted(quotes, key=lambda q: order.get(q.get("id"), len(order)))
        entry = {"id": _local_of(str(dp["id"])), "text": dp.get("text"),
                 "raised_in": _local_of((dp.get("raisedInIds") or [""])[0]),
                 "concerns": [_local_of(x) for x in dp.get("concernsIds") or []],
                 "affects": [_local_of(x) for x in dp.get("affectsIds") or []]}
        return {"_study": dp.get("study"), "section": "discussion_points", "entry": entry,
                "evidence": [_legacy_quote(q) for q in quotes]}
    if edit.get("operation") == "addEvidenceQuote" and quotes:
        claim = (quotes[0].get("claimIds") or [None])[0]
        if claim is None:
            return None
        return {"_study": quotes[0].get("study"), "claim": claim, "evidence": [_legacy_quote(quotes[0])]}
    return None
