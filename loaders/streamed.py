"""A study file with large tables, read, checked and written a batch of claims at a time.

Read whole, a study of 1M quotes held 2.7 GB in the loader (``bench.one_study``): every claim and
quote as RDF, checked and projected before the first write. The claims of a study's tables are most
of it, and nothing in a study names them, so they can be made a batch at a time:

1. the study file without its tables (the *head*: concepts, stakeholders, events, documents...) is
   read, anchored, checked and projected as a whole study is;
2. the tables' claims are read in batches of about :data:`BATCH_QUOTES` quotes; each batch is
   checked (its entries' shapes, their ids against every id seen so far, their references against
   the head's), anchored in the documents, checked against the shapes (the classes of the head's
   nodes it names given apart: ``shape_checks.Typed``), projected (the head's nodes named by their
   labels: ``projection.project(beside=...)``) and written, then let go of;
3. the writes go into the store's replacement (``Store.replace_graph`` with a
   :class:`~kxgraph.graph.store.WriteStream`), which is swapped in only once every batch passed.

What crosses batches is kept small (:class:`Numbers`, 8 bytes each): the claims' ids seen, as
their hashes (one that is some other id's too is taken for a repeated id: the study is then read
whole, which tells), and each quote's offsets in its document (a quote cited by claims of two
batches is one node, counted once).

Any problem stops the stream and drops its replacement; the load then reads the study whole, as it
does a small one, and that reading reports the problems, with the messages and order the whole
study gives (``tests/test_streamed.py``). A study whose tables are smaller than
:data:`STREAM_TABLE_BYTES`, a load of several files, a study with edits made through the API to
apply again, or a load that makes text embeddings is read whole.
"""

from __future__ import annotations

import heapq
import logging
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import RDF, URIRef

from kxgraph.errors import InputError
from kxgraph.graph.store import WriteOp, WriteStream
from kxgraph.loaders.files import inside, read_limited
from kxgraph.loaders.gc_pause import let_go
from kxgraph.loaders.projection import Projected, node_id, project
from kxgraph.loaders.quote_rows import QuoteRows
from kxgraph.loaders.shacl import validate
from kxgraph.loaders.shape_checks import Typed
from kxgraph.loaders.sources import Texts, anchor_quotes, file_sha256, study_documents
from kxgraph.loaders.study_store import objects_by_subject, study_graph, triple_count
from kxgraph.loaders.tables import read_tables
from kxgraph.loaders.yaml_format import MAX_STUDY_BYTES, SECTIONS, Checked, Made, StudyFile, study_data
from kxgraph.ontology.vocabulary import NodeLabel, projection

__all__ = ["BATCH_QUOTES", "STREAM_TABLE_BYTES", "Counts", "Numbers", "StreamedStudy", "worth_streaming"]

log = logging.getLogger(__name__)

#: tables at least this large (together) are read a batch at a time: about 170k quotes of
#: ``bench.generate``'s. A smaller study is read, checked and projected whole, which is faster (each
#: batch looks for its quotes in every document) and peaks below 500 MB (453 MB at 100k)
STREAM_TABLE_BYTES = 32 * 1024 * 1024
#: about how many quotes a batch holds
BATCH_QUOTES = 20_000
#: about how many bytes of rows a byte of the study's files becomes (3.5 for studies of 20k and 60k quotes
#: of ``bench.generate``'s: their rows against study.yaml, tables and documents together)
ROWS_PER_FILE_BYTE = 4


@dataclass
class Counts:
    """What a load wrote, as a whole load counts it."""

    nodes: int = 0
    relationships: int = 0
    quotes: int = 0
    triples: int = 0


def worth_streaming(path: Path) -> bool:
    """Whether the study file at ``path`` (or a study folder's) has tables large enough to be read a
    batch at a time (a problem of the file: False; the whole reading says it)."""
    path = path / "study.yaml" if path.is_dir() else path
    try:
        found = _tables(path)
    except InputError:
        return False
    return found is not None and sum(p.stat().st_size for p in found[3]) >= STREAM_TABLE_BYTES


def _tables(path: Path) -> tuple[dict[str, Any], dict[int, str], list[str], list[Path]] | None:
    """A study file read up to its tables (``study_data``), and the tables it lists, each found in
    its folder (``files.inside``); None when it is no study file or lists no tables. The file is read
    only when it says ``tables`` somewhere."""
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return None
    if b"tables" not in read_limited(path, MAX_STUDY_BYTES, what="study file"):
        return None
    data, places_of, tables = study_data(path, with_tables=False)
    if not isinstance(tables, list) or not tables or not all(isinstance(t, str) for t in tables):
        return None
    paths = [inside(path.parent, t, what="table", file=str(path), place=f"tables[{i}]") for i, t in enumerate(tables)]
    return data, places_of, tables, paths


def _offsets(start: int, end: int) -> int:
    """A quote's place in its document as one number."""
    return (start << 32) | end


class Numbers:
    """A set of 64-bit numbers, sorted in an array: 8 bytes each (a set of Python integers took
    about 60). Found by bisection; added a batch at a time."""

    def __init__(self, numbers: Iterable[int] = ()) -> None:
        self._sorted = array("q", sorted(set(numbers)))

    def __contains__(self, n: object) -> bool:
        i = bisect_left(self._sorted, n)  # type: ignore[call-overload]
        return i < len(self._sorted) and bool(self._sorted[i] == n)

    def __len__(self) -> int:
        return len(self._sorted)

    def update(self, numbers: Iterable[int]) -> None:
        new = sorted({n for n in numbers if n not in self})
        if new:
            self._sorted = array("q", heapq.merge(self._sorted, new))


#: how a table's claim id seen in an earlier batch reads (its place is the whole reading's to say)
_CLAIM = ("", "a table")


class _Ids(dict[str, tuple[str, str]]):
    """The ids of a study's entries as :class:`~kxgraph.loaders.yaml_format.Checked` keeps them
    (id -> (where, section)), those of earlier batches' claims as their hashes (:class:`Numbers`).
    Such an id is only ever a problem (an id used twice, a reference to a claim), which the whole
    reading then says."""

    def __init__(self, head: dict[str, tuple[str, str]]) -> None:
        super().__init__(head)
        self.claims = Numbers()

    def __contains__(self, ident: object) -> bool:
        return super().__contains__(ident) or hash(ident) in self.claims

    def __getitem__(self, ident: str) -> tuple[str, str]:
        found = super().get(ident)
        if found is None:
            if hash(ident) not in self.claims:
                raise KeyError(ident)
            return _CLAIM
        return found

    def get(self, ident: str, default: Any = None) -> Any:
        try:
            return self[ident]
        except KeyError:
            return default

    def settle(self, idents: Iterable[str]) -> None:
        """A batch's claims, done with: their ids kept as hashes."""
        done = list(idents)
        self.claims.update(hash(i) for i in done)
        for i in done:
            super().pop(i, None)


class StreamedStudy:
    """One study file whose tables are read a batch at a time (see the module); :meth:`open` says
    whether a file is one."""

    def __init__(self, path: Path, data: dict[str, Any], places_of: dict[int, str], tables: list[Path],
                 batch_quotes: int) -> None:
        self.path = path
        self.batch_quotes = batch_quotes
        self.table_paths = tables
        self.table_names: list[str] = []
        checked = Checked(path, places_of, consume=True)
        for name in SECTIONS:
            checked.section(name, data.get(name))
        checked.problems.raise_if_any()  # any problem: the whole reading says it
        self._made = made = Made(checked)
        made.make(checked.entries)
        checked.problems.raise_if_any()
        made.finish()
        self.study_id = made.study_id
        self._sf = sf = StudyFile(path=path, study_id=made.study_id, graph=made.graph, documents=made.docs,
                                  quotes=made.quotes, places=made.places,
                                  default_document=next(iter(made.docs)) if made.docs else None, tables=tables)
        hashes = {str(path): file_sha256(path)}
        hashes.update({str(t): file_sha256(t) for t in tables})
        self._texts: Texts = study_documents(sf, hashes, content=False)
        self.files = sorted(f"{sha}  {p}" for p, sha in hashes.items())
        self._ids = checked.ids
        made.checked = Checked(path)  # the head's entries are made: only their ids are kept
        head_quotes = QuoteRows()
        anchor_quotes(sf.quotes, sf, self._texts, sf.graph, head_quotes, sf.places)
        validate(sf.graph, file=str(path), places=sf.places, quotes=head_quotes)
        self.head: Projected = project(sf.graph, file=str(path), quotes=head_quotes)
        texts = {node_id(doc): text for text, _, doc in self._texts.values()}
        for row in self.head.nodes.get(NodeLabel.SourceDocument, []):
            row["props"]["content"] = texts[row["id"]]  # the row's own properties (NodeRows)
        self._head_counts = Counts(self.head.node_count, self.head.relationship_count, len(head_quotes),
                                   triple_count(sf.graph) + head_quotes.triple_count())
        self._head_quotes: dict[URIRef, list[int]] = {}
        for _, quote in head_quotes.items():
            self._head_quotes.setdefault(quote.document, []).append(_offsets(quote.start, quote.end))
        labels = projection().labels
        self._labels: dict[URIRef, NodeLabel] = {}
        typed: dict[URIRef, set[URIRef]] = {}
        for s, cls in objects_by_subject(sf.graph, RDF.type):
            if isinstance(s, URIRef) and isinstance(cls, URIRef) and cls in labels:
                self._labels[s] = labels[cls]
                typed.setdefault(cls, set()).add(s)
        self._typed = [Typed(cls, frozenset(nodes)) for cls, nodes in typed.items()]
        # what the batches need of the head is kept above; its graph and places are let go of
        sf.graph = made.graph = study_graph()
        sf.places = made.places = {}
        sf.quotes = made.quotes = []
        let_go()  # the graph (its literals hold a copy of each document)
        self.files_bytes = sum(Path(p).stat().st_size for p in hashes)
        self.counts = Counts()

    @classmethod
    def open(cls, path: Path, *, batch_quotes: int | None = None,
             at_least: int | None = None) -> StreamedStudy | None:
        """The study file at ``path`` (a study folder's ``study.yaml``) read up to its tables, when
        its tables are ``at_least`` this many bytes together; else None. Raises an ``InputError``
        for a problem of the study: the caller reads it whole, which says it as it should."""
        path = path / "study.yaml" if path.is_dir() else path
        found = _tables(path)
        if found is None:
            return None
        data, places_of, tables, checked_paths = found
        if sum(p.stat().st_size for p in checked_paths) < (STREAM_TABLE_BYTES if at_least is None else at_least):
            return None
        study = cls(path, data, places_of, checked_paths, BATCH_QUOTES if batch_quotes is None else batch_quotes)
        study.table_names = tables
        return study

    def writes(self, before: list[WriteOp], after: Callable[[Counts], list[WriteOp]],
               say: Callable[[str], None]) -> WriteStream:
        """``before``, the study's writes made a batch at a time, then ``after(counts)`` (once every
        batch is written: what was written, as a whole load counts it)."""
        def make() -> Iterator[WriteOp]:
            counts = Counts(**vars(self._head_counts))
            yield from before
            yield from self.head.write_ops()
            ids = _Ids(self._ids)
            seen = {doc: Numbers(keys) for doc, keys in self._head_quotes.items()}
            for n, batch in enumerate(self._batches(), start=1):
                projected, more = self._batch(batch, ids, seen)
                for key in vars(counts):
                    setattr(counts, key, getattr(counts, key) + getattr(more, key))
                say(f"batch {n}: {more.quotes} quotes checked, writing")
                yield from projected.write_ops()
                del projected
                let_go()  # the batch's graph, a reference cycle (rdflib's graph and its namespaces)
            self.counts = counts
            yield from after(counts)

        return WriteStream(make, payload_bytes=self.files_bytes * ROWS_PER_FILE_BYTE)

    def _batches(self) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        batch: list[tuple[str, str, dict[str, Any]]] = []
        quotes = 0
        for item in read_tables(self.path, self.table_names):
            batch.append(item)
            evidence = item[2].get("evidence")
            quotes += len(evidence) if isinstance(evidence, list) else 0
            if quotes >= self.batch_quotes:
                yield batch
                batch, quotes = [], 0
        if batch:
            yield batch

    def _batch(self, batch: list[tuple[str, str, dict[str, Any]]], ids: _Ids,
               seen: dict[URIRef, Numbers]) -> tuple[Projected, Counts]:
        """One batch of claims checked, anchored and projected; raises its problems."""
        places_of = {id(entry): place for _, place, entry in batch}
        by_section: dict[str, list[dict[str, Any]]] = {}
        for section, _, entry in batch:
            by_section.setdefault(section, []).append(entry)
        del batch
        checked = Checked(self.path, places_of, consume=True)
        checked.ids = ids
        for name in SECTIONS:
            if name in by_section:
                checked.section(name, by_section[name])
        checked.problems.raise_if_any()
        ids.settle(entry.id for made_of in checked.entries.values() for _, entry in made_of)  # type: ignore[attr-defined]
        made = self._made.again(checked)
        made.make(checked.entries)
        checked.problems.raise_if_any()
        g = made.graph
        quotes = QuoteRows()
        anchor_quotes(made.quotes, self._sf, self._texts, g, quotes, made.places)
        validate(g, file=str(self.path), places=made.places, quotes=quotes, typed=self._typed)
        projected = project(g, file=str(self.path), quotes=quotes, beside=self._labels)
        per_quote = quotes.triple_count() // len(quotes) if quotes else 0
        again = 0
        new: dict[URIRef, list[int]] = {}
        for _, row in quotes.items():
            key = _offsets(row.start, row.end)
            known = seen.get(row.document)
            if known is not None and key in known:
                again += 1  # a quote an earlier batch (or the head) wrote: one node, written twice alike
            else:
                new.setdefault(row.document, []).append(key)
        for doc, keys in new.items():
            seen.setdefault(doc, Numbers()).update(keys)
        # each quote is a node with one relationship to its document
        return projected, Counts(projected.node_count - again, projected.relationship_count - again,
                                 len(quotes) - again, triple_count(g) + quotes.triple_count() - per_quote * again)
