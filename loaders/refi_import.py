"""REFI-QDA (``.qdpx`` / ``.qde`` / ``.qdc``) -> RDF in the kxgraph ontology.

What becomes what: codes -> concepts of the study's scheme (nesting -> ``skos:broader``, description
-> definition, colour kept); text sources -> source documents; text selections -> evidence quotes
(positions in Unicode code points, end exclusive, checked against the text); codings -> ``Coding``
nodes linking a quote to a concept and to who coded it; notes -> ``Note`` nodes linked to what they
annotate; links between codes -> ``CodeLink`` nodes keeping the link's GUID, name, direction and
colour (and ``skos:related`` between the codes); users -> people (with their ``id``); sets ->
collections; cases -> ``Case`` nodes with their variables as attributes (the variables' GUIDs and
types kept on the study). Creation and modification dates -> ``dcterms:created`` /
``dcterms:modified``, who modified -> ``kx:modifiedBy``, wherever the project has them.

A project kxgraph exported says its study's analysis in its codes and memos; those entries are
read back as the study format reads a study file (:mod:`kxgraph.loaders.refi_analysis`), and the
codes and sources they belong to keep the entries' ids.

The file is checked against the REFI-QDA XSD. What does not fit is reported as a warning and left
out where that is safe (a selection outside its text, a coding of an unknown code); what would make
the result wrong (a damaged zip, unsafe members, XML with a DTD) is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kxgraph.errors import DataFormatError, InputError, ProblemList
from kxgraph.loaders import refi_analysis as analysis
from kxgraph.loaders.anchoring import CONTEXT, sha256_text
from kxgraph.loaders.refi_archive import RefiFile, open_refi
from kxgraph.loaders.refi_copy import own_copy
from kxgraph.loaders.refi_xml import (
    LINK_DIRECTIONS,
    child_named,
    children_named,
    date_time,
    guid_of,
    local,
    schema_errors,
    study_id_from_name,
    text_of,
)
from kxgraph.loaders.yaml_format import ID_PATTERN, build_study
from kxgraph.ontology.terms import DATA, KX, OA, literal

__all__ = ["RefiImport", "read_refi"]

@dataclass
class RefiImport:
    """The RDF of one imported project, with what was counted and what was left out."""

    graph: Graph
    study_id: str
    places: dict[URIRef, str]
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    quote_count: int = 0
    #: the graph is the copy kxgraph wrote beside the project when it exported it (see
    #: :data:`OWN_COPY`), read because the project is unchanged since
    own_copy: bool = False


class _Builder:
    """Walks the project's XML and writes RDF, collecting warnings instead of stopping where safe."""

    def __init__(self, refi: RefiFile, study_id: str, plan: analysis.Plan | None = None) -> None:
        self.refi = refi
        self.sid = study_id
        #: kxgraph's analysis, said by the project's codes and memos (``refi_analysis``); its entities'
        #: own triples come from the study format's builder, not from here
        self.plan = plan if plan else None
        self.category: str | None = None  # the analysis' category being read
        #: the concepts and continua the analysis' entries make
        self.planned_concepts = self.plan.conceptual(study_id) if self.plan else set()
        self.pending_codings: list[tuple[Element, URIRef, URIRef, str]] = []
        self.file = str(refi.path)
        self.g = Graph()
        self.places: dict[URIRef, str] = {}
        self.warnings: list[str] = []
        self.by_guid: dict[str, URIRef] = {}
        self.counts: dict[str, int] = {}
        self.quote_count = 0
        self.variables: dict[str, tuple[str, str]] = {}  # guid -> (name, type)
        self.study = DATA[f"{study_id}/study/{study_id}"]
        self.scheme = DATA[f"{study_id}/scheme"]

    # -- helpers --------------------------------------------------------------------------------------
    def iri(self, kind: str, guid: str) -> URIRef:
        return DATA[f"{self.sid}/{kind}/{guid}"]

    def warn(self, place: str, message: str) -> None:
        self.warnings.append(f"{place}: {message}")

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def entity(self, el: Element, kind: str, cls: URIRef, place: str) -> tuple[URIRef, str] | None:
        guid = guid_of(el.get("guid"))
        if guid is None:
            self.warn(place, f"left out: its guid {el.get('guid')!r} is not a GUID")
            return None
        subject = self.iri(kind, guid)
        if guid in self.by_guid:
            self.warn(place, f"left out: the guid {guid} is used twice")
            return None
        self.by_guid[guid] = subject
        self.places[subject] = place
        self.g.add((subject, RDF.type, cls))
        self.g.add((subject, KX.guid, literal(guid)))
        self.dates(subject, el, place)
        return subject, guid

    def people_of_the_analysis(self) -> dict[str, URIRef]:
        """The analysis' people by the GUID kxgraph gives them as users, and by name."""
        found: dict[str, URIRef] = {}
        for c in (self.plan.coded.values() if self.plan else ()):
            if c.entry.section == "people":
                iri = analysis.entry_iri(c.entry, self.sid)
                found[analysis.derived_guid(iri)] = iri
                found.setdefault(c.name, iri)
        return found

    def dates(self, subject: URIRef, el: Element, place: str) -> None:
        """The element's creation and modification dates (kept as written when they are dates)."""
        for attr, predicate in (("creationDateTime", DCTERMS.created), ("modifiedDateTime", DCTERMS.modified)):
            raw = el.get(attr)
            if raw is None:
                continue
            value = date_time(raw)
            if value is None:
                self.warn(place, f"{attr} {raw!r} is not a date and time (e.g. 2024-05-01T09:30:00Z); left out")
            else:
                self.g.add((subject, predicate, literal(value)))

    def creator(self, subject: URIRef, el: Element, attr: str = "creatingUser") -> None:
        guid = guid_of(el.get(attr))
        if guid is None:
            return
        person = self.by_guid.get(guid)
        if person is None or (person, RDF.type, KX.Person) not in self.g:
            return
        self.g.add((subject, DCTERMS.creator, person))

    def people(self, subject: URIRef, el: Element) -> None:
        """Who created and who last modified the element, where the project says."""
        self.creator(subject, el)
        guid = guid_of(el.get("modifyingUser"))
        person = self.by_guid.get(guid or "")
        if person is not None and (person, RDF.type, KX.Person) in self.g:
            self.g.add((subject, KX.modifiedBy, person))

    def description(self, subject: URIRef, el: Element) -> None:
        text = text_of(el, "Description")
        if text and text.strip():
            self.g.add((subject, DCTERMS.description, literal(text)))

    # -- sections -------------------------------------------------------------------------------------
    def project(self) -> None:
        root = self.refi.root
        name = (root.get("name") or "").strip() or self.refi.path.stem
        g = self.g
        self.places[self.study] = "Project"
        origin = (root.get("origin") or "").strip()
        if self.plan is None:  # else the study and its scheme are the analysis' entries
            g.add((self.study, RDF.type, KX.Study))
            g.add((self.study, RDFS.label, literal(name)))
            if origin:
                # a project kxgraph exported keeps the program it first came from: "<program>; exported by kxgraph"
                g.add((self.study, KX.software, literal(origin.split("; exported by kxgraph", 1)[0])))
            self.description(self.study, root)
            g.add((self.scheme, RDF.type, KX.ConceptScheme))
            g.add((self.scheme, RDFS.label, literal(f"Codes of {name}")))
            g.add((self.scheme, DCTERMS.isPartOf, self.study))
        elif origin and not origin.startswith("kxgraph"):
            g.add((self.study, KX.software, literal(origin.split("; exported by kxgraph", 1)[0])))
        self.dates(self.study, root, "Project")
        self.places[self.scheme] = "Project/CodeBook"
        people = self.people_of_the_analysis()
        for i, user in enumerate(self._path(root, "Users", "User")):
            person = people.get(guid_of(user.get("guid")) or "") or people.get((user.get("name") or "").strip())
            if person is not None and guid_of(user.get("guid")) not in self.by_guid:
                self.by_guid[guid_of(user.get("guid")) or ""] = person  # a person of the analysis who coded
                self.count("users")
                continue
            made = self.entity(user, "person", KX.Person, f"Users/User[{i + 1}]")
            if made:
                person, guid = made
                who = (user.get("name") or "").strip() or (user.get("id") or "").strip() or guid
                g.add((person, RDFS.label, literal(who)))
                if (user.get("id") or "").strip():
                    g.add((person, DCTERMS.identifier, literal(user.get("id", "").strip())))
                self.count("users")
        for i, var in enumerate(self._path(root, "Variables", "Variable")):
            var_guid = guid_of(var.get("guid"))
            if var_guid:
                self.variables[var_guid] = (var.get("name") or var_guid, var.get("typeOfVariable") or "Text")
            else:
                self.warn(f"Variables/Variable[{i + 1}]", "left out: no GUID")
        if self.variables:
            kept = {name: [guid, typ] for guid, (name, typ) in sorted(self.variables.items())}
            g.add((self.study, KX.variables, literal(json.dumps(kept, sort_keys=True, ensure_ascii=False))))

    def _path(self, el: Element, *names: str) -> Iterator[Element]:
        if not names:
            yield el
            return
        for child in children_named(el, names[0]):
            yield from self._path(child, *names[1:])

    def codes(self, parent: Element, broader: URIRef | None, place: str) -> None:
        for i, code in enumerate(children_named(parent, "Code")):
            where = f"{place}/Code[{i + 1}]"
            if self.plan is not None and self.analysis_code(code, broader, where):
                continue
            made = self.entity(code, "concept", KX.Concept, f"{where} ({code.get('name')!r})")
            if made is None:
                continue
            concept, _ = made
            name = (code.get("name") or "").strip() or "(unnamed code)"
            g = self.g
            g.add((concept, RDFS.label, literal(name)))
            g.add((concept, SKOS.prefLabel, literal(name)))
            g.add((concept, SKOS.inScheme, self.scheme))
            definition = text_of(code, "Description")
            if definition and definition.strip():
                g.add((concept, SKOS.definition, literal(definition)))
            colour = code.get("color")
            if colour:
                g.add((concept, KX.colour, literal(colour)))
            codable = code.get("isCodable")
            if codable is not None:
                g.add((concept, KX.codable, literal(codable.strip().lower() in ("true", "1"))))
            if broader is not None:
                g.add((concept, SKOS.broader, broader))
            self.count("codes")
            self.codes(code, concept, where)

    def analysis_code(self, code: Element, broader: URIRef | None, where: str) -> bool:
        """A code that is the analysis' (a category, or a code that says its entry): registered by
        its GUID, its sub-codes read. False for any other code."""
        assert self.plan is not None
        guid = guid_of(code.get("guid")) or ""
        if guid in self.plan.categories:
            self.category = code.get("name") or ""
            self.codes(code, None, where)
            self.category = None
            return True
        iri = self.plan.iri(guid, self.sid)
        if iri is None:
            if self.category is not None:
                self.warn(f"{where} ({code.get('name')!r})", f"a code under {self.category!r} whose memo ends with "
                          f"no '{analysis.MARK}' entry: read as a plain code (to make it an entry of the study, "
                          "end its memo as the other codes there end theirs, with its own id)")
            return False
        if guid in self.by_guid:
            self.warn(f"{where} ({code.get('name')!r})", f"left out: the guid {guid} is used twice")
            return True
        self.by_guid[guid] = iri
        entry = self.plan.coded[guid].entry
        conceptual = entry.section in ("concepts", "continua")
        if conceptual:
            self.count("codes")
            if code.get("color"):
                self.g.add((iri, KX.colour, literal(code.get("color", ""))))
            if broader is not None:  # nesting is the standard's own 'broader'
                self.g.add((iri, SKOS.broader, broader))
        else:
            self.count("analysis codes")
        self.codes(code, iri if conceptual else None, where)
        return True

    def sources(self) -> None:
        root = self.refi.root
        for block in children_named(root, "Sources"):
            for i, src in enumerate(block):
                kind = local(src.tag)
                where = f"Sources/{kind}[{i + 1}] ({src.get('name') or src.get('guid')!r})"
                if kind != "TextSource":
                    self.warn(where, f"left out: kxgraph holds text sources only, not a {kind}")
                    self.count("sources left out")
                    continue
                self.text_source(src, where)

    def _source_text(self, src: Element, where: str) -> str | None:
        inline = text_of(src, "PlainTextContent")
        path = src.get("plainTextPath")
        if path is None:
            if inline is None:
                self.warn(where, "left out: it has neither plainTextPath nor PlainTextContent")
            return inline
        member = None
        for prefix in ("internal://", "relative:///", "relative://"):
            if path.startswith(prefix):
                member = path[len(prefix):]
                break
        outside = path.startswith("absolute:") or bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path))
        if member is None and outside:
            self.warn(where, f"left out: its text is outside the project ({path}); kxgraph reads only the "
                             "files inside the .qdpx")
            return None
        member = member if member is not None else path
        data = self.refi.read_member(f"sources/{member}") or self.refi.read_member(member)
        if data is None:
            self.warn(where, f"left out: the archive has no {member!r} (plainTextPath {path!r})")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.warn(where, f"left out: {member} is not UTF-8 (byte {exc.start}); REFI-QDA text is UTF-8")
            return None
        if text.startswith("\ufeff"):
            return self._without_mark(src, text, member, where)
        return text

    def _without_mark(self, src: Element, text: str, member: str, where: str) -> str:
        """A byte-order mark is the encoding's signature, not text: positions count without it (as
        QualCoder, NVivo and the standard do). Unless the selections' own words (their ``name``)
        say otherwise: then the mark is kept, so that no selection comes in shifted."""
        stripped = text[1:]
        fits = {"without": 0, "with": 0}
        for sel in children_named(src, "PlainTextSelection"):
            name = sel.get("name") or ""
            try:
                start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
            except ValueError:
                continue
            if not name or end - start != len(name):
                continue
            fits["without"] += stripped[start:end] == name
            fits["with"] += text[start:end] == name
        if fits["with"] > fits["without"]:
            self.warn(where, f"{member} starts with a byte-order mark and its selections count it "
                             f"({fits['with']} of them say so): it is kept as the first character of the text")
            return text
        return stripped

    def text_source(self, src: Element, where: str) -> None:
        text = self._source_text(src, where)
        if text is None:
            self.count("sources left out")
            return
        g = self.g
        checksum = sha256_text(text)
        planned = self.plan.iri(guid_of(src.get("guid")) or "", self.sid) if self.plan is not None else None
        if planned is not None:  # a document of the analysis: its entry says the rest
            doc, doc_guid = planned, analysis.local_id(planned, self.sid) or ""
            self.by_guid[guid_of(src.get("guid")) or ""] = doc
            self.dates(doc, src, where)
        else:
            made = self.entity(src, "document", KX.SourceDocument, where)
            if made is None:
                return
            doc, doc_guid = made
            path = src.get("plainTextPath") or ""
            title = (src.get("name") or "").strip() or Path(path.split("://")[-1]).name or doc_guid
            g.add((doc, DCTERMS.title, literal(title)))
            g.add((doc, DCTERMS.format, literal("text/plain")))
            self.description(doc, src)
        g.add((doc, KX.content, literal(text)))
        g.add((doc, KX.sha256, literal(checksum)))
        g.add((doc, KX.length, literal(len(text))))
        self.people(doc, src)
        self.attributes(doc, src, where)
        self.count("sources")
        if not text.strip():
            self.warn(where, "its plain text is empty (the program kept the text in its rich-text file only, "
                             f"{src.get('richTextPath') or 'none'}, which kxgraph does not read)")
        for j, sel in enumerate(children_named(src, "PlainTextSelection")):
            self.selection(sel, doc, doc_guid, text, checksum, f"{where}/PlainTextSelection[{j + 1}]")
        whole = list(children_named(src, "Coding"))
        if whole:
            self.warn(where, f"{len(whole)} coding(s) of the whole source left out: kxgraph codes spans of text")
        self.notes_of(src, doc)

    def selection(self, sel: Element, doc: URIRef, doc_guid: str, text: str, checksum: str, where: str) -> None:
        try:
            start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
        except ValueError:
            self.warn(where, "left out: startPosition/endPosition are not integers")
            self.count("selections left out")
            return
        if not 0 <= start < end <= len(text):
            self.warn(where, f"left out: {start}-{end} is not a span of its text (length {len(text)})")
            self.count("selections left out")
            return
        guid = guid_of(sel.get("guid"))
        if guid is None:
            self.warn(where, f"left out: its guid {sel.get('guid')!r} is not a GUID")
            self.count("selections left out")
            return
        quote = DATA[f"{self.sid}/quote/{doc_guid}/{start}-{end}"]
        g = self.g
        if (quote, RDF.type, KX.EvidenceQuote) in g:
            # QualCoder writes a selection per coding: the span's codings join its first selection
            self.count("selections joined")
            memo = text_of(sel, "Description")
            if memo and memo.strip() and (quote, DCTERMS.description, literal(memo)) not in g:
                self.warn(where, f"the span {start}-{end} is selected again with a memo of its own; its codings "
                                 "join the first selection, its memo is left out")
            self.by_guid[guid] = quote
        else:
            self.by_guid[guid] = quote
            self.places[quote] = where
            exact = text[start:end]
            for p, o in ((RDF.type, KX.EvidenceQuote), (OA.hasSource, doc), (OA.exact, literal(exact)),
                         (OA.prefix, literal(text[max(0, start - CONTEXT):start])),
                         (OA.suffix, literal(text[end:end + CONTEXT])), (OA.start, literal(start)),
                         (OA.end, literal(end)), (KX.documentSha256, literal(checksum))):
                g.add((quote, p, o))
            if guid != analysis.derived_guid(quote):  # kxgraph's own GUID comes back by itself
                g.add((quote, KX.guid, literal(guid)))
            name = (sel.get("name") or "").strip()
            if name and not (self.plan is not None and name == exact.strip()):  # QualCoder names it by its words
                g.add((quote, RDFS.label, literal(name)))
            self.people(quote, sel)
            self.dates(quote, sel, where)
            self.description(quote, sel)
            self.quote_count += 1
            self.count("selections")
        for k, coding in enumerate(children_named(sel, "Coding")):
            self.coding(coding, quote, f"{where}/Coding[{k + 1}]")
        self.notes_of(sel, quote)

    def coding(self, coding: Element, quote: URIRef, where: str) -> None:
        ref = child_named(coding, "CodeRef")
        target = guid_of(ref.get("targetGUID") if ref is not None else None)
        concept = self.by_guid.get(target or "")
        if self.plan is not None and concept is not None and (target or "") in self.plan.coded:
            entry = self.plan.coded[target or ""].entry
            if entry.section in ("concepts", "continua"):
                self.pending_codings.append((coding, quote, concept, where))  # once the claims are known
            else:  # the quote is evidence of the entry
                self.g.add((concept, KX.supportedBy, quote))
                self.count("evidence codings")
            return
        self.code_quote(coding, quote, concept, where)

    def code_quote(self, coding: Element, quote: URIRef, concept: URIRef | None, where: str) -> None:
        """A ``Coding`` of a quote with a code of the codebook."""
        ref = child_named(coding, "CodeRef")
        if concept is None or not ((concept, RDF.type, KX.Concept) in self.g or self.planned(concept)):
            self.warn(where, f"left out: it names no code of the codebook (targetGUID "
                             f"{ref.get('targetGUID') if ref is not None else None!r})")
            self.count("codings left out")
            return
        made = self.entity(coding, "coding", KX.Coding, where)
        if made is None:
            self.count("codings left out")
            return
        subject, _ = made
        self.g.add((subject, KX.appliesCode, concept))
        self.g.add((subject, KX.codesText, quote))
        self.creator(subject, coding)
        self.count("codings")

    def planned(self, subject: URIRef) -> bool:
        """A concept or continuum of the analysis (made by the study format's builder, later)."""
        return subject in self.planned_concepts

    def settle_codings(self) -> None:
        """Codings with the analysis' concepts: a quote's coding with the concept of a claim it backs
        is how kxgraph shows the claim under its concept (the claim's own coding says it already); any
        other makes the quote evidence of the concept, as ``evidence:`` under a concept does."""
        for _coding, quote, concept, _where in self.pending_codings:
            if not any((claim, p, concept) in self.g for claim in self.g.subjects(KX.supportedBy, quote)
                       for p in analysis.CONCEPT_LINKS):
                self.g.add((concept, KX.supportedBy, quote))

    def attributes(self, subject: URIRef, el: Element, where: str) -> None:
        values: dict[str, Any] = {}
        for i, vv in enumerate(children_named(el, "VariableValue")):
            ref = child_named(vv, "VariableRef")
            guid = guid_of(ref.get("targetGUID") if ref is not None else None)
            if guid is None or guid not in self.variables:
                self.warn(f"{where}/VariableValue[{i + 1}]", "left out: it names no variable of the project")
                continue
            name, _typ = self.variables[guid]
            for child in vv:
                tag = local(child.tag)
                if tag == "VariableRef":
                    continue
                raw = child.text or ""
                value: Any = raw
                if tag == "BooleanValue":
                    value = raw.strip().lower() in ("true", "1")
                elif tag == "IntegerValue":
                    value = int(raw) if re.fullmatch(r"\s*-?\d+\s*", raw) else raw
                elif tag == "FloatValue":
                    try:
                        value = float(raw)
                    except ValueError:
                        value = raw
                values[name] = value
        if values:
            self.g.add((subject, KX.attributes, literal(json.dumps(values, sort_keys=True, ensure_ascii=False))))

    def notes(self) -> None:
        for i, note in enumerate(self._path(self.refi.root, "Notes", "Note")):
            where = f"Notes/Note[{i + 1}] ({note.get('name') or note.get('guid')!r})"
            made = self.entity(note, "note", KX.Note, where)
            if made is None:
                continue
            subject, guid = made
            text = self._source_text(note, where)  # a note is a text source: inline or in the archive
            name = (note.get("name") or "").strip()
            self.g.add((subject, RDFS.label, literal(name or f"note {guid[:8]}")))
            if text is not None and text.strip():
                self.g.add((subject, KX.text, literal(text)))
            self.people(subject, note)
            self.count("notes")

    def notes_of(self, el: Element, subject: URIRef) -> None:
        """``NoteRef`` children of an element: the note annotates the element's entity."""
        for ref in children_named(el, "NoteRef"):
            self._pending_note_refs.append((guid_of(ref.get("targetGUID")), subject))

    _pending_note_refs: list[tuple[str | None, URIRef]]

    def resolve_note_refs(self) -> None:
        for guid, subject in self._pending_note_refs:
            note = self.by_guid.get(guid or "")
            if note is None or (note, RDF.type, KX.Note) not in self.g:
                self.warn(self.places.get(subject, str(subject)), f"a NoteRef names no note ({guid})")
                continue
            self.g.add((note, KX.annotates, subject))

    def links(self) -> None:
        for i, link in enumerate(self._path(self.refi.root, "Links", "Link")):
            where = f"Links/Link[{i + 1}] ({link.get('name') or link.get('guid')!r})"
            a = self.by_guid.get(guid_of(link.get("originGUID")) or "")
            b = self.by_guid.get(guid_of(link.get("targetGUID")) or "")
            if a is None or b is None:
                self.warn(where, "left out: an end of the link is not in the project")
                continue
            a_note, b_note = (a, RDF.type, KX.Note) in self.g, (b, RDF.type, KX.Note) in self.g
            conceptual = all((x, RDF.type, KX.Concept) in self.g or (x, RDF.type, KX.Continuum) in self.g
                             for x in (a, b))
            if conceptual and self.plan is not None and not (link.get("name") or "").strip() and (
                    (link.get("direction") or "Associative") == "Associative"
                    and ((a, SKOS.related, b) in self.g or (b, SKOS.related, a) in self.g)):
                continue  # the entries say so already
            if conceptual:
                self.code_link(link, a, b, where)
            elif a_note or b_note:  # NVivo keeps an annotation as a link between a note and its target
                note, target = (a, b) if a_note else (b, a)
                self.g.add((note, KX.annotates, target))
                self.count("links")
            else:
                self.warn(where, "left out: kxgraph keeps links between codes and from notes only")

    def code_link(self, link: Element, a: URIRef, b: URIRef, where: str) -> None:
        """A link between two codes: a ``CodeLink`` with its name, direction and colour, and
        ``skos:related`` between the codes (what SKOS tools and the explorer read)."""
        made = self.entity(link, "link", KX.CodeLink, where)
        if made is None:
            return
        subject, _ = made
        direction = (link.get("direction") or "Associative").strip()
        if direction not in LINK_DIRECTIONS:
            self.warn(where, f"direction {direction!r} is not one of {', '.join(LINK_DIRECTIONS)}; "
                             "kept as Associative")
            direction = "Associative"
        name = (link.get("name") or "").strip()
        g = self.g
        if name:
            g.add((subject, RDFS.label, literal(name)))
        g.add((subject, KX.direction, literal(direction)))
        g.add((subject, KX.linkOrigin, a))
        g.add((subject, KX.linkTarget, b))
        if link.get("color"):
            g.add((subject, KX.colour, literal(link.get("color", ""))))
        g.add((a, SKOS.related, b))
        self.count("links")

    def sets(self) -> None:
        for i, s in enumerate(self._path(self.refi.root, "Sets", "Set")):
            self._grouping(s, f"Sets/Set[{i + 1}] ({s.get('name')!r})", "collection", KX.Collection, "set",
                           ("MemberCode", "MemberSource", "MemberNote"))

    def cases(self) -> None:
        for i, case in enumerate(self._path(self.refi.root, "Cases", "Case")):
            self._grouping(case, f"Cases/Case[{i + 1}] ({case.get('name') or case.get('guid')!r})", "case",
                           KX.Case, "case", ("CodeRef", "SourceRef", "SelectionRef"))

    def _grouping(self, el: Element, where: str, kind: str, cls: URIRef, word: str,
                  member_tags: tuple[str, ...]) -> None:
        """A set or a case: named, described, with members (and a case's variables)."""
        made = self.entity(el, kind, cls, where)
        if made is None:
            return
        subject, guid = made
        self.g.add((subject, RDFS.label, literal((el.get("name") or "").strip() or f"{word} {guid[:8]}")))
        self.description(subject, el)
        self.attributes(subject, el, where)
        for tag in member_tags:
            for ref in children_named(el, tag):
                target = self.by_guid.get(guid_of(ref.get("targetGUID")) or "")
                if target is None:
                    self.warn(where, f"a member ({ref.get('targetGUID')}) is not in the project; left out")
                else:
                    self.g.add((subject, KX.hasMember, target))
        self.count(f"{word}s")

    def build(self) -> None:
        self._pending_note_refs = []
        root = self.refi.root
        if self.refi.kind == "codebook":
            self.project_from_codebook()
            self.codes(child_named(root, "Codes") or Element("Codes"), None, "CodeBook/Codes")
            self.sets()
            return
        self.project()
        for codes in self._path(root, "CodeBook", "Codes"):
            self.codes(codes, None, "CodeBook/Codes")
        self.notes()
        for code in self._all_codes():
            concept = self.by_guid.get(guid_of(code.get("guid")) or "")
            if concept is not None:
                self.notes_of(code, concept)
        self.sources()
        if self.plan is not None:
            self.analysis_entries()
            self.settle_codings()
        self.cases()
        self.links()
        self.sets()
        self.notes_of(root, self.study)
        self.resolve_note_refs()
        graphs = list(self._path(root, "Graphs", "Graph"))
        if graphs:
            self.warn("Graphs", f"{len(graphs)} graph(s) (network views) left out: kxgraph draws its own pictures")

    def analysis_entries(self) -> None:
        """The study's entries that the codes, sources and description say, checked and turned into
        RDF by the study format's own builder; the codes and sources read as REFI-QDA are ids they
        may name."""
        assert self.plan is not None
        old = self.plan.study.entry.ident if self.plan.study is not None else None
        data, places = analysis.study_data(self.plan, self.sid, old)
        if "study" not in data:  # the project's description lost its entry: the study is the project
            data["study"] = {"id": self.sid, "name": (self.refi.root.get("name") or "").strip() or self.sid}
        prefix = f"{DATA}{self.sid}/"
        known = {}
        for cls, section in ((KX.Concept, "concepts"), (KX.SourceDocument, "documents")):
            for s in self.g.subjects(RDF.type, cls):
                if str(s).startswith(prefix) and not self.planned(URIRef(str(s))):
                    known[analysis.local_id(s, self.sid) or ""] = (self.places.get(URIRef(str(s)), str(s)), section)
        built = build_study(data, self.refi.path, places, documents=False, known=known)
        self.g += built.graph
        for subject, place in built.places.items():
            self.places.setdefault(subject, place)

    def _all_codes(self) -> Iterator[Element]:
        for el in self.refi.root.iter():
            if local(el.tag) == "Code":
                yield el

    def project_from_codebook(self) -> None:
        name = self.refi.path.stem
        self.g.add((self.study, RDF.type, KX.Study))
        self.g.add((self.study, RDFS.label, literal(name)))
        if self.refi.root.get("origin"):
            self.g.add((self.study, KX.software, literal(self.refi.root.get("origin"))))
        self.g.add((self.scheme, RDF.type, KX.ConceptScheme))
        self.g.add((self.scheme, RDFS.label, literal(f"Codes of {name}")))
        self.g.add((self.scheme, DCTERMS.isPartOf, self.study))
        self.places[self.study] = "CodeBook"


def read_refi(path: Path, *, study_id: str | None = None) -> tuple[RefiImport, dict[str, str]]:
    """Read a REFI-QDA file into RDF. Returns the import and the file's checksum (for provenance)."""
    path = Path(path)
    if study_id is not None and not re.match(ID_PATTERN, study_id):
        raise InputError(f"{study_id!r} is not a study id", file=str(path), place="--study-id",
                         fix="ids are lower-case letters, digits and hyphens, e.g. 'interviews-2024'")
    refi = open_refi(path)
    try:
        own, why_not = own_copy(refi, study_id)
        if own is not None:
            sid, graph = own
            counts = {"entities": len(set(graph.subjects(RDF.type)))}
            result = RefiImport(graph=graph, study_id=sid, places={}, counts=counts, own_copy=True)
            from kxgraph.loaders.sources import file_sha256

            return result, {str(path): file_sha256(path)}
        warnings = [f"{refi.xml_name} does not follow the REFI-QDA schema at {p}"
                    for p in schema_errors(refi.root, refi.kind)]
        if why_not:
            warnings.append(why_not)
        name = refi.root.get("name") if refi.kind == "project" else path.stem
        plan = analysis.read_plan(refi.root) if refi.kind == "project" else None
        if plan is not None and plan.problems:
            problems = ProblemList()
            for place, what in plan.problems:
                problems.add(DataFormatError(
                    f"kxgraph's entry at the end of this memo cannot be read: {what}", file=str(path), place=place,
                    fix=f"write the lines under '{analysis.MARK}' back as kxgraph wrote them (or delete them: the "
                        "code is then read as a plain code)"))
            problems.raise_if_any()
        said = plan.study.entry.ident if plan is not None and plan.study is not None else None
        sid = study_id or (said if said and re.match(ID_PATTERN, said) else study_id_from_name(name or path.stem))
        builder = _Builder(refi, sid, plan)
        builder.build()
    finally:
        refi.close()
    if builder.counts.get("codes", 0) == 0 and builder.counts.get("sources", 0) == 0:
        raise DataFormatError("the project holds no codes and no text sources that kxgraph can read",
                              file=str(path), place=refi.xml_name,
                              fix="export the project with its codebook and its text documents")
    result = RefiImport(graph=builder.g, study_id=sid, places=builder.places,
                        warnings=warnings + builder.warnings, counts=builder.counts,
                        quote_count=builder.quote_count)
    from kxgraph.loaders.sources import file_sha256

    return result, {str(path): file_sha256(path)}
