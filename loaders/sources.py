"""Read a study from disk into RDF with every evidence quote anchored in its document (a study
file's quotes kept as rows beside the graph: ``loaders/quote_rows.py``).

Accepted inputs: a study folder (holding ``study.yaml``), a ``.yaml`` study file, or RDF in the
kxgraph ontology (``.ttl``, ``.jsonld``) such as ``kxgraph export`` writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, Literal, URIRef

from kxgraph.errors import DataFormatError, InputError, ProblemList, QuoteError
from kxgraph.loaders.anchoring import Anchor, DocumentIndex, anchor_quote, check_anchor, sha256_text
from kxgraph.loaders.continua import complete_continua
from kxgraph.loaders.files import json_depth_exceeds, read_limited
from kxgraph.loaders.quote_rows import QuoteRows, quote_iri, quote_pairs, row_of
from kxgraph.loaders.standalone import without_entailments
from kxgraph.loaders.yaml_format import Quote, StudyFile, read_study_file
from kxgraph.ontology.terms import DATA, KX, OA, literal

__all__ = ["StudySource", "Texts", "anchor_quotes", "file_sha256", "quote_triples", "read_document", "read_source",
           "study_documents"]

RDF_FORMATS = {".ttl": "turtle", ".jsonld": "json-ld", ".json-ld": "json-ld", ".nt": "nt"}
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


@dataclass
class StudySource:
    """One input, read: its RDF (``graph``, and the quotes of a study file as rows beside it:
    :meth:`rdf` puts them together), the studies it holds, and the files it read (for provenance)."""

    path: Path
    graph: Graph
    study_ids: list[str]
    files: dict[str, str] = field(default_factory=dict)          # path -> sha256 of its bytes
    places: dict[URIRef, str] = field(default_factory=dict)      # entity -> where it is written
    quote_count: int = 0
    warnings: list[str] = field(default_factory=list)                # what was left out, and why
    counts: dict[str, int] = field(default_factory=dict)             # what was read, by kind
    quotes: QuoteRows = field(default_factory=QuoteRows)             # quotes not (yet) in ``graph``

    def rdf(self) -> Graph:
        """The whole input as RDF: ``graph``, with the quote rows moved into it (once)."""
        return self.quotes.move_into(self.graph)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_document(path: Path, *, cited_from: str) -> str:
    """A source document's text exactly as stored (UTF-8, no newline translation): a regular file
    of at most :data:`MAX_DOCUMENT_BYTES`, with no NUL character (no store keeps one)."""
    text = decode_document(read_limited(path, MAX_DOCUMENT_BYTES, what="document", file=str(path)), path)
    return text


def decode_document(raw: bytes, path: Path) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the document is not valid UTF-8 (byte {exc.start})", file=str(path),
                         place=f"byte {exc.start}", fix="convert it to UTF-8 before loading") from None
    if "\x00" in text:
        at = text.index("\x00")
        raise InputError(f"the document holds a NUL character (character {at})", file=str(path),
                         place=f"character {at}", fix="remove NUL characters (a text file has none)")
    return text


def read_source(path: Path, *, study_id: str | None = None) -> StudySource:
    """Read one input. ``study_id`` names the study of a REFI-QDA project (default: from its name)."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", file=str(path),
                         fix="give a study folder, a study.yaml, or an exported .ttl/.jsonld file")
    if path.is_dir():
        candidate = path / "study.yaml"
        if not candidate.is_file():
            raise InputError("the folder holds no study.yaml", file=str(path),
                             fix="point at a study folder, a study.yaml, or an exported .ttl/.jsonld file")
        path = candidate
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _from_yaml(path)
    if suffix in RDF_FORMATS:
        return _from_rdf(path, RDF_FORMATS[suffix])
    if suffix in (".qdpx", ".qde", ".qdc"):
        return _from_refi(path, study_id)
    raise InputError(f"kxgraph does not read {suffix or 'files without an extension'}", file=str(path),
                     fix="give a study folder, a .yaml study file, .ttl/.jsonld RDF, or a REFI-QDA .qdpx")


def _from_refi(path: Path, study_id: str | None) -> StudySource:
    from kxgraph.loaders.refi_import import read_refi

    imported, files = read_refi(path, study_id=study_id)
    if imported.own_copy:  # kxgraph's own export, unchanged since: its whole graph, checked as RDF input is
        complete_continua(imported.graph)
        study_ids, count = check_rdf_study(imported.graph, path)
        return StudySource(path=path, graph=imported.graph, study_ids=study_ids, files=files, quote_count=count,
                           warnings=imported.warnings, counts=imported.counts)
    return StudySource(path=path, graph=imported.graph, study_ids=[imported.study_id], files=files,
                       places=imported.places, quote_count=imported.quote_count, warnings=imported.warnings,
                       counts=imported.counts)


def quote_triples(g: Graph, study_id: str, document: str, doc: URIRef, checksum: str, a: Anchor,
                  **more: Any) -> tuple[URIRef, bool]:
    """The evidence quote ``a`` of the document ``document`` (its id; ``doc`` its IRI) added to ``g``:
    its IRI (:func:`~kxgraph.loaders.quote_rows.quote_iri`) and whether it was new to ``g``;
    ``more``: other properties (``anchorStatus``...) as predicates' local names. A study file's
    quotes are kept as rows instead (``loaders/quote_rows.py``); these are the same triples."""
    quote = quote_iri(study_id, document, a)
    if (quote, RDF.type, KX.EvidenceQuote) in g:
        return quote, False
    for p, o in quote_pairs(row_of(doc, checksum, a, more)):
        g.add((quote, p, o))
    return quote, True


def _from_yaml(path: Path) -> StudySource:
    sf: StudyFile = read_study_file(path)
    files = {str(path): file_sha256(path)}
    files.update({str(t): file_sha256(t) for t in sf.tables})
    texts = study_documents(sf, files)
    quotes = QuoteRows()
    count = anchor_quotes(sf.quotes, sf, texts, sf.graph, quotes, sf.places)
    return StudySource(path=path, graph=sf.graph, study_ids=[sf.study_id], files=files, places=sf.places,
                       quote_count=count, quotes=quotes)


#: a study's documents by id: (text, checksum of the text, IRI)
Texts = dict[str, tuple[str, str, URIRef]]


#: a document's text while its graph holds it elsewhere (``study_documents(content=False)``)
TEXT_ELSEWHERE = Literal("")


def study_documents(sf: StudyFile, files: dict[str, str], *, content: bool = True) -> Texts:
    """Read the documents of a study file (into ``files``: path -> sha256 of its bytes) and say in
    its graph what each is (checksum, length, text). ``content=False``: the graph holds
    :data:`TEXT_ELSEWHERE` for each text, which the caller puts in its place once projected (rdflib's
    literal is a copy of its string: each document was held twice)."""
    g = sf.graph
    texts: Texts = {}
    for doc_id, doc_path in sf.documents.items():
        entry = sf.places.get(sf.iri("document", doc_id))
        raw = read_limited(doc_path, MAX_DOCUMENT_BYTES, what="document", file=str(doc_path),
                           place=f"{entry}.file" if entry else None)
        text = decode_document(raw, doc_path)
        checksum = sha256_text(text)
        files[str(doc_path)] = hashlib.sha256(raw).hexdigest()
        doc = sf.iri("document", doc_id)
        g.add((doc, KX.sha256, Literal(checksum)))
        g.add((doc, KX.length, literal(len(text))))
        g.add((doc, KX.content, literal(text) if content else TEXT_ELSEWHERE))
        texts[doc_id] = (text, checksum, doc)
    return texts


def anchor_quotes(wanted: list[Quote], sf: StudyFile, texts: Texts, g: Graph, quotes: QuoteRows,
                  places: dict[URIRef, str]) -> int:
    """Anchor the quotes of a study file (or of a batch of its claims: ``loaders/streamed.py``) in
    their documents: each a row of ``quotes`` (where it is written in ``places``), cited by its
    claim in ``g``; how many quotes were new. Raises every quote that is not found, in one pass."""
    path = sf.path
    placed = [(q, q.document or sf.default_document) for q in wanted]  # each quote's document
    passages: dict[str, set[str]] = {}
    for q, doc_id in placed:
        if doc_id in texts:
            passages.setdefault(doc_id, set()).update(p for p in (q.text, q.hint) if p)
    indexes = {doc_id: DocumentIndex(texts[doc_id][0], found) for doc_id, found in passages.items()}
    count = 0
    problems = ProblemList()  # every quote that is not found, in one pass
    for q, doc_id in placed:
        if doc_id is None or doc_id not in texts:
            problems.add(QuoteError(
                "the quote names no document it comes from" if doc_id is None else
                f"the quote's document {doc_id!r} is not in 'documents'", file=str(path), place=q.place,
                fix=f"add 'document: <id>' (one of: {', '.join(texts) or 'none: add a documents section'})"))
            continue
        text, checksum, doc = texts[doc_id]
        try:
            a = anchor_quote(text, q.text, hint=q.hint, occurrence=q.occurrence,
                             file=str(path), place=q.place, document=doc_id, index=indexes[doc_id])
        except QuoteError as exc:
            problems.add(exc)
            continue
        quote, made = quotes.add(sf.study_id, doc_id, doc, checksum, a, text)
        if made:
            count += 1
            places[quote] = q.place
        g.add((q.claim, KX.supportedBy, quote))
    problems.raise_if_any()
    return count


#: JSON-LD nested deeper than this is refused before it is parsed
MAX_JSON_DEPTH = 200


def _no_remote_context(path: Path, raw: bytes) -> None:
    """JSON-LD may name remote @context documents, which rdflib would fetch: refuse them, so that
    loading a file never reaches the network. Too deep a nesting is refused first."""
    import json

    if json_depth_exceeds(raw, MAX_JSON_DEPTH):
        raise DataFormatError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels", file=str(path), place="",
                              fix="write the JSON-LD flatter (kxgraph export does)")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"not valid JSON: {exc}", file=str(path), place="",
                              fix="check the JSON syntax (or export again with kxgraph export)") from None
    stack: list[tuple[object, str]] = [(doc, "")]
    while stack:  # iterative: no recursion for a deep document to exhaust
        node, where = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context" and _names_remote(value):
                    raise DataFormatError("a remote @context would be fetched from the network", file=str(path),
                                          place=where or "top level",
                                          fix="inline the context (kxgraph export writes it inline)")
                stack.append((value, f"{where}.{key}" if where else key))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node))


def _names_remote(context: object) -> bool:
    if isinstance(context, str):
        return True
    if isinstance(context, list):
        return any(_names_remote(c) for c in context)
    return isinstance(context, dict) and "@import" in context


def _from_rdf(path: Path, fmt: str) -> StudySource:
    raw = read_limited(path, MAX_DOCUMENT_BYTES, what="RDF file")
    if fmt == "json-ld":
        _no_remote_context(path, raw)
    g = Graph()
    try:
        g.parse(data=raw, format=fmt, publicID=path.resolve().as_uri())
    except RecursionError:
        raise DataFormatError(f"the {fmt} nests too deeply to be read", file=str(path), place="",
                              fix="write the RDF flatter (kxgraph export does)") from None
    except Exception as exc:  # rdflib raises many kinds; all mean "this file is not valid RDF"
        raise DataFormatError(f"not valid {fmt}: {exc}", file=str(path), place="",
                              fix=f"check the file's {fmt} syntax at the place named") from None
    without_entailments(g)  # what kxgraph export adds for readers without the ontology
    complete_continua(g)  # RDF written before continua had stops
    study_ids, count = check_rdf_study(g, path)
    return StudySource(path=path, graph=g, study_ids=study_ids, files={str(path): hashlib.sha256(raw).hexdigest()},
                       quote_count=count)


def check_rdf_study(g: Graph, path: Path) -> tuple[list[str], int]:
    """RDF as kxgraph writes it, checked as any input is: every subject under the data namespace, a
    study, every document's text matching its SHA-256, every quote at its place in its document.
    Returns the study ids and the number of quotes."""
    base = str(DATA)
    for s in set(g.subjects()):
        if not (isinstance(s, URIRef) and str(s).startswith(base)):
            raise DataFormatError(f"the subject {s} is outside the kxgraph data namespace", file=str(path),
                                  place=str(s), fix=f"name every entity with an IRI under {base}")
    study_ids = sorted({str(s)[len(base):].split("/", 1)[0] for s in g.subjects(RDF.type, KX.Study)})
    if not study_ids:
        raise DataFormatError("the file holds no kx:Study", file=str(path), place="",
                              fix="include the study the data belongs to")
    docs: dict[URIRef, tuple[str, str]] = {}
    for doc in g.subjects(RDF.type, KX.SourceDocument):
        content = g.value(doc, KX.content)
        if content is None:
            raise QuoteError("a source document carries no text (kx:content)", file=str(path), place=str(doc),
                             fix="export with kxgraph export, which includes document texts")
        text = str(content)
        checksum = sha256_text(text)
        declared = g.value(doc, KX.sha256)
        if declared is not None and str(declared) != checksum:
            raise QuoteError("the document's text does not match its SHA-256", file=str(path), place=str(doc),
                             fix="the text was changed after export: re-anchor its quotes")
        docs[URIRef(str(doc))] = (text, checksum)
    count = 0
    for quote in g.subjects(RDF.type, KX.EvidenceQuote):
        source = g.value(quote, OA.hasSource)
        if source not in docs:
            raise QuoteError("the quote's document is not in the file", file=str(path), place=str(quote),
                             fix="include the kx:SourceDocument with its text")
        text, checksum = docs[URIRef(str(source))]
        try:
            start, end = int(str(g.value(quote, OA.start))), int(str(g.value(quote, OA.end)))
        except ValueError:
            raise QuoteError("the quote has no integer start/end", file=str(path), place=str(quote),
                             fix="give oa:start and oa:end as integers") from None
        sha = g.value(quote, KX.documentSha256)
        check_anchor(text, checksum, start=start, end=end, exact=str(g.value(quote, OA.exact) or ""),
                     document_sha256=str(sha) if sha is not None else None, file=str(path),
                     place=str(quote))
        count += 1
    return study_ids, count
