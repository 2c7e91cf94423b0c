"""A study as a REFI-QDA project (``.qdpx``): the concepts as the codebook, the documents as text
sources, the evidence quotes as coded selections, with notes, cases, sets and users.

Entities keep the GUID they were imported with (``kx:guid``); others get a GUID derived from their
IRI (UUID 5), so that exporting the same graph twice writes the same file. Dates, who created and
who modified, user ids, variables' GUIDs and code links (name, direction, colour) are written back
as they were imported. Notes always carry a creation date (QualCoder's importer needs one): their
own, else the study's load time. The study's own analysis, which REFI-QDA has no element for, is
written as codes, codings and memos (:mod:`kxgraph.loaders.refi_analysis`) and named in the
warnings; the whole study also travels beside the project in ``kxgraph/study.ttl`` (with the
project's checksum in ``kxgraph/manifest.json``), which kxgraph reads back while the project is
unchanged. The project is checked against the REFI-QDA XSD before it is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kxgraph import __version__
from kxgraph.errors import ExportError, RequestError
from kxgraph.loaders import refi_analysis as analysis
from kxgraph.loaders.refi_archive import PROJECT_NS
from kxgraph.loaders.refi_copy import OWN_COPY, OWN_MANIFEST
from kxgraph.loaders.refi_xml import schema_errors
from kxgraph.loaders.yaml_format import SECTIONS
from kxgraph.ontology.terms import DATA, KX, OA

__all__ = ["EXPORTED_BY", "QdpxExport", "to_qdpx"]

EXPORTED_BY = "; exported by kxgraph"
#: a fixed time for zip members, so the same graph always gives the same bytes
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
#: claims that code their quotes with a concept, through these links
CONCEPT_LINKS = analysis.CONCEPT_LINKS
#: kxgraph's own analysis, which a REFI-QDA project has no element for (the Turtle export keeps it)
NOT_IN_REFI = ((KX.Stakeholder, "stakeholders"), (KX.Actor, "actors"), (KX.Consequence, "consequences"),
               (KX.DiscussionPoint, "discussion points"), (KX.Definition, "definitions"),
               (KX.Event, "events"), (KX.Activity, "activities"), (KX.DelegateGroup, "delegate groups"),
               (KX.RoleElement, "role elements"), (KX.Placement, "placements"),
               (KX.Reflection, "reflections"), (KX.Organisation, "organisations"), (KX.Place, "places"),
               (KX.Method, "methods"), (KX.ContinuumStop, "stops of continua"))


@dataclass
class QdpxExport:
    data: bytes
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def _q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, **attrs: str | None) -> ET.Element:
    return ET.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v is not None})


def _text(parent: ET.Element, tag: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, tag).text = text


class _Writer:
    def __init__(self, g: Graph, study_id: str, loaded_at: str | None = None) -> None:
        self.g = g
        self.sid = study_id
        self.loaded_at = loaded_at
        self.undated_notes = 0
        self.prefix = f"{DATA}{study_id}/"
        self.warnings: list[str] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.guids: dict[URIRef, str] = {}
        self.notes_on: dict[URIRef, list[URIRef]] = defaultdict(list)
        for note in self.of(KX.Note):
            for target in g.objects(note, KX.annotates):
                self.notes_on[URIRef(str(target))].append(note)
        self.placed_notes: set[tuple[URIRef, URIRef]] = set()
        #: the study's own analysis, each entry a code under the analysis category (refi_analysis)
        self.analysis = [(section, s) for section, s in analysis.analysis_entities(g, study_id)
                         if g.value(s, KX.guid) is None]  # an imported project's users are users only
        self.analysis_codes: dict[URIRef, str] = {}  # entity -> the GUID of its code
        self.code_names: set[str] = set()

    def carries(self, s: URIRef) -> bool:
        """Whether the entity's code or source says its kxgraph entry (its id is kxgraph's, not a GUID
        the project gave it)."""
        return self.value(s, KX.guid) is None

    def memo(self, s: URIRef, section: str, body: str | None) -> str | None:
        """``body``, ending with the entity's entry when it :meth:`carries` one."""
        if not self.carries(s):
            return body
        ident = analysis.local_id(s, self.sid) or ""
        kind = "study" if section == "study" else (
            "definition" if section == "definitions" else SECTIONS[section].kind)
        fields = {} if section == "definitions" else analysis.entry_fields(self.g, s, section, self.sid)
        return analysis.write_memo(body, kind, ident, fields)

    def unique_name(self, name: str, s: URIRef) -> str:
        """Code names kxgraph gives are unique in a project (QualCoder merges codes of one name); an
        imported code keeps its name as it was."""
        name = name.strip() or self.guid(s)
        if name in self.code_names and self.carries(s):
            name = f"{name} [{analysis.local_id(s, self.sid) or self.guid(s)}]"
        self.code_names.add(name)
        return name

    def of(self, cls: URIRef) -> list[URIRef]:
        found = [URIRef(str(s)) for s in self.g.subjects(RDF.type, cls) if str(s).startswith(self.prefix)]
        return sorted(found, key=lambda s: (self.name(s), str(s)))

    def value(self, s: URIRef, p: URIRef) -> str | None:
        v = self.g.value(s, p)
        return None if v is None else str(v)

    def name(self, s: URIRef) -> str:
        return self.value(s, SKOS.prefLabel) or self.value(s, RDFS.label) or self.value(s, DCTERMS.title) or ""

    def guid(self, s: URIRef) -> str:
        if s not in self.guids:
            self.guids[s] = self.value(s, KX.guid) or str(uuid.uuid5(uuid.NAMESPACE_URL, str(s)))
        return self.guids[s]

    def user(self, s: URIRef, p: URIRef = DCTERMS.creator) -> str | None:
        for who in sorted(self.g.objects(s, p), key=str):
            if (who, RDF.type, KX.Person) in self.g:
                return self.guid(URIRef(str(who)))
        return None

    def stamp(self, s: URIRef, *, modified: bool = True) -> dict[str, str | None]:
        """Who and when, as REFI-QDA's attributes of sources, selections and notes."""
        attrs = {"creatingUser": self.user(s), "creationDateTime": self.value(s, DCTERMS.created)}
        if modified:
            attrs |= {"modifyingUser": self.user(s, KX.modifiedBy), "modifiedDateTime": self.value(s, DCTERMS.modified)}
        return attrs

    def note_refs(self, el: ET.Element, s: URIRef) -> None:
        for note in self.notes_on.get(s, []):
            _sub(el, "NoteRef", targetGUID=self.guid(note))
            self.placed_notes.add((note, s))

    # -- parts of the project ---------------------------------------------------------------------------
    def project(self) -> ET.Element:
        study = DATA[f"{self.sid}/study/{self.sid}"]
        if (study, RDF.type, KX.Study) not in self.g:
            raise RequestError(f"the study {self.sid!r} is not in the graph", "NOT_FOUND")
        software = self.value(study, KX.software)
        origin = f"kxgraph {__version__}"
        if software and not software.startswith("kxgraph"):
            origin = f"{software}{EXPORTED_BY} {__version__}"
        root = ET.Element(_q("Project"), {"name": self.name(study) or self.sid, "origin": origin})
        for attr, p in (("creationDateTime", DCTERMS.created), ("modifiedDateTime", DCTERMS.modified)):
            if self.value(study, p):
                root.set(attr, self.value(study, p) or "")
        people = self.of(KX.Person)
        if people:
            users = _sub(root, "Users")
            for p in people:
                _sub(users, "User", guid=self.guid(p), name=self.name(p), id=self.value(p, DCTERMS.identifier))
                self.counts["users"] += 1
        self.codebook(root)
        variables = self.variables(study)
        if variables:
            block = _sub(root, "Variables")
            for var_name, (var_guid, typ) in sorted(variables.items()):
                _sub(block, "Variable", guid=var_guid, name=var_name, typeOfVariable=typ)
        self.variable_guids = variables
        cases = self.of(KX.Case)
        if cases:
            block = _sub(root, "Cases")
            for c in cases:
                self.case(block, c)
        docs = self.of(KX.SourceDocument)
        self.files: dict[str, str] = {}
        if docs:
            block = _sub(root, "Sources")
            for d in docs:
                self.source(block, d)
        notes = self.of(KX.Note)
        if notes:
            block = _sub(root, "Notes")
            for n in notes:
                stamp = self.stamp(n)
                if stamp["creationDateTime"] is None:
                    stamp["creationDateTime"] = self.value(study, DCTERMS.created) or self.loaded_at
                    self.undated_notes += 1
                el = _sub(block, "Note", guid=self.guid(n), name=self.name(n), **stamp)
                _text(el, "PlainTextContent", self.value(n, KX.text) or "")
                self.counts["notes"] += 1
            if self.undated_notes:
                when = self.value(study, DCTERMS.created) or self.loaded_at
                self.warnings.append(
                    f"{self.undated_notes} note(s) have no creation date: written with the study's "
                    + (f"date ({when}), as QualCoder's importer needs one" if when else
                       "... none either, so without one (QualCoder's importer will refuse them)"))
        links = self.links()
        if links:
            block = _sub(root, "Links")
            for link in links:
                _sub(block, "Link", **link)
                self.counts["links"] += 1
        sets = self.of(KX.Collection)
        if sets:
            block = _sub(root, "Sets")
            for s in sets:
                self.set(block, s)
        self.untravelled()
        description = self.value(study, DCTERMS.description)
        _text(root, "Description", self.memo(study, "study", description) if self.analysis else description)
        self.note_refs(root, study)
        for note, targets in self.notes_on.items():
            for t in targets:
                if (t, note) not in self.placed_notes:
                    self.warnings.append(f"the note {self.name(note)!r} annotates {str(t)[len(str(DATA)):]}, which "
                                         "a REFI-QDA project cannot reference; the note is exported without "
                                         "that link")
        return root

    def codebook(self, root: ET.Element) -> None:
        concepts = self.of(KX.Concept) + self.of(KX.Continuum)
        if not concepts:
            return
        known = set(concepts)
        children: dict[URIRef | None, list[URIRef]] = defaultdict(list)
        for c in concepts:
            parents = [URIRef(str(p)) for p in self.g.objects(c, SKOS.broader) if URIRef(str(p)) in known]
            if len(parents) > 1:
                self.warnings.append(f"{self.name(c)!r} has {len(parents)} broader codes; a codebook is a tree, "
                                     f"so it is placed under {self.name(sorted(parents, key=str)[0])!r} only")
            children[sorted(parents, key=str)[0] if parents else None].append(c)
        codes = _sub(_sub(root, "CodeBook"), "Codes")
        placed: set[URIRef] = set()

        def write(parent: ET.Element, c: URIRef) -> None:
            placed.add(c)
            codable = self.g.value(c, KX.codable)
            el = _sub(parent, "Code", guid=self.guid(c), name=self.unique_name(self.name(c), c),
                      isCodable="false" if codable is not None and str(codable).lower() == "false" else "true",
                      color=self.value(c, KX.colour))
            continuum = (c, RDF.type, KX.Continuum) in self.g
            body = self.value(c, DCTERMS.description) if continuum else (
                self.value(c, SKOS.definition) or self.value(c, DCTERMS.description))
            _text(el, "Description", self.memo(c, "continua" if continuum else "concepts", body))
            self.note_refs(el, c)
            self.counts["codes"] += 1
            for child in children.get(c, []):
                if child not in placed:
                    write(el, child)

        for c in children.get(None, []):
            write(codes, c)
        for c in concepts:  # a cycle of 'broader' has no root: its members become roots
            if c not in placed:
                self.warnings.append(f"{self.name(c)!r} is in a cycle of broader codes; written at the top")
                write(codes, c)
        self.analysis_codebook(codes)

    def analysis_codebook(self, codes: ET.Element) -> None:
        """The study's analysis as codes: a category per kind of entry, a code per entry, its memo the
        claim's text (or the entry's description) ending with the entry (``refi_analysis``)."""
        if not self.analysis:
            return
        root = _sub(codes, "Code", guid=analysis.derived_guid(self.prefix, "analysis"), name=analysis.ANALYSIS_ROOT,
                    isCodable="false")
        _text(root, "Description", analysis.write_memo(
            "kxgraph's analysis of this study: each code below is an entry of the study (a stakeholder, a claim, "
            "an event...), its memo ends with the entry as kxgraph writes it, and the quotes coded with it are "
            "its evidence. kxgraph reads them back.", "analysis", self.sid, {}))
        categories: dict[str, ET.Element] = {}
        for section, s in self.analysis:
            if section not in categories:
                categories[section] = _sub(root, "Code", guid=analysis.derived_guid(self.prefix, "category", section),
                                           name=analysis.category_name(section), isCodable="false")
            body, name = analysis.body_and_name(self.g, s, section)
            if section == "definitions":
                concept = self.g.value(s, KX.defines)
                name = f"Definition of {self.name(URIRef(str(concept))) if concept is not None else ''}".strip()
            guid = analysis.derived_guid(s, "code")  # not the entity's own: a person is a user too
            el = _sub(categories[section], "Code", guid=guid, name=self.unique_name(name, s), isCodable="true")
            _text(el, "Description", self.memo(s, section, body))
            self.note_refs(el, s)
            self.analysis_codes[s] = guid
            self.counts["analysis codes"] += 1

    def untravelled(self) -> None:
        """One line saying how the study's analysis, which REFI-QDA has no element for, travels."""
        kept = [f"{len(self.of(cls))} {word}" for cls, word in NOT_IN_REFI if self.of(cls)]
        if kept:
            self.warnings.append(f"REFI-QDA has no element for {', '.join(kept)}: each is a code under "
                                 f"'{analysis.ANALYSIS_ROOT}', its evidence coded with it and its entry at the end "
                                 "of its memo, which kxgraph reads back (other programs show them as codes)")

    def variables(self, study: URIRef) -> dict[str, tuple[str, str]]:
        kept: dict[str, Any] = {}
        try:
            kept = json.loads(self.value(study, KX.variables) or "{}")
        except ValueError:
            kept = {}
        found: dict[str, tuple[str, str]] = {}
        for s in self.of(KX.Case) + self.of(KX.SourceDocument):
            for name, value in self.attributes(s).items():
                typ = ("Boolean" if isinstance(value, bool) else "Integer" if isinstance(value, int)
                       else "Float" if isinstance(value, float) else "Text")
                old = kept.get(name) if isinstance(kept, dict) else None
                if isinstance(old, list) and len(old) == 2 and all(isinstance(x, str) for x in old):
                    found.setdefault(name, (old[0], old[1]))
                found.setdefault(name, (str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.prefix}variable/{name}")), typ))
        return found

    def attributes(self, s: URIRef) -> dict[str, Any]:
        raw = self.value(s, KX.attributes)
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def variable_values(self, el: ET.Element, s: URIRef) -> None:
        for name, value in sorted(self.attributes(s).items()):
            var_guid, typ = self.variable_guids[name]
            vv = _sub(el, "VariableValue")
            _sub(vv, "VariableRef", targetGUID=var_guid)
            if typ == "Boolean":
                _text(vv, "BooleanValue", "true" if value else "false")
            elif typ == "Integer":
                _text(vv, "IntegerValue", str(value))
            elif typ == "Float":
                _text(vv, "FloatValue", repr(float(value)))
            else:
                _text(vv, "TextValue", str(value))

    def case(self, block: ET.Element, c: URIRef) -> None:
        el = _sub(block, "Case", guid=self.guid(c), name=self.name(c))
        _text(el, "Description", self.value(c, DCTERMS.description))
        members = [URIRef(str(m)) for m in self.g.objects(c, KX.hasMember)]
        for m in sorted(members, key=str):
            if (m, RDF.type, KX.Concept) in self.g:
                _sub(el, "CodeRef", targetGUID=self.guid(m))
        self.variable_values(el, c)
        for tag, cls in (("SourceRef", KX.SourceDocument), ("SelectionRef", KX.EvidenceQuote)):
            for m in sorted(members, key=str):
                if (m, RDF.type, cls) in self.g:
                    _sub(el, tag, targetGUID=self.guid(m))
        self.counts["cases"] += 1

    def source(self, block: ET.Element, d: URIRef) -> None:
        guid = self.guid(d)
        el = _sub(block, "TextSource", guid=guid, name=self.value(d, DCTERMS.title),
                  plainTextPath=f"internal://{guid}.txt", **self.stamp(d))
        self.files[f"sources/{guid}.txt"] = self.value(d, KX.content) or ""
        description = self.value(d, DCTERMS.description)
        _text(el, "Description", self.memo(d, "documents", description) if self.analysis else description)
        quotes = [URIRef(str(q)) for q in self.g.subjects(OA.hasSource, d)]
        quotes.sort(key=lambda q: (int(self.value(q, OA.start) or 0), int(self.value(q, OA.end) or 0), str(q)))
        for q in quotes:
            if self.value(q, KX.anchorStatus) == "orphaned":
                self.warnings.append(f"the orphaned quote {str(q)[len(str(DATA)):]} has no place in its document; "
                                     "left out")
                continue
            self.selection(el, q)
        self.note_refs(el, d)
        self.variable_values(el, d)
        self.counts["sources"] += 1

    def selection(self, parent: ET.Element, q: URIRef) -> None:
        sel = _sub(parent, "PlainTextSelection", guid=self.guid(q), name=self.value(q, RDFS.label),
                   startPosition=self.value(q, OA.start), endPosition=self.value(q, OA.end),
                   **self.stamp(q))
        claims = sorted((URIRef(str(c)) for c in self.g.subjects(KX.supportedBy, q)), key=str)
        _text(sel, "Description", self.value(q, DCTERMS.description))
        coded: set[URIRef] = set()
        for coding in sorted((URIRef(str(c)) for c in self.g.subjects(KX.codesText, q)), key=str):
            concept = self.g.value(coding, KX.appliesCode)
            if concept is None:
                continue
            c_el = _sub(sel, "Coding", guid=self.guid(coding), **self.stamp(coding, modified=False))
            _sub(c_el, "CodeRef", targetGUID=self.guid(URIRef(str(concept))))
            coded.add(URIRef(str(concept)))
            self.counts["codings"] += 1
        for concept in self._claim_concepts(claims):
            if concept in coded:
                continue
            c_el = _sub(sel, "Coding", guid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{q} coded {concept}")))
            _sub(c_el, "CodeRef", targetGUID=self.guid(concept))
            coded.add(concept)
            self.counts["codings"] += 1
        for entry in claims:  # the quote is evidence of these entries: coded with their codes
            target = self.analysis_codes.get(entry)
            if target is None and self.carries(entry) and ((entry, RDF.type, KX.Concept) in self.g
                                                            or (entry, RDF.type, KX.Continuum) in self.g):
                target = self.guid(entry)  # a concept's own evidence
            if target is None:
                continue
            c_el = _sub(sel, "Coding", guid=analysis.derived_guid(q, "evidence for", entry))
            _sub(c_el, "CodeRef", targetGUID=target)
            self.counts["codings"] += 1
        self.note_refs(sel, q)
        self.counts["selections"] += 1

    def _claim_concepts(self, claims: Iterable[URIRef]) -> list[URIRef]:
        found: set[URIRef] = set()
        for claim in claims:
            for p in CONCEPT_LINKS:
                for o in self.g.objects(claim, p):
                    if str(o).startswith(self.prefix):
                        found.add(URIRef(str(o)))
        return sorted(found, key=str)

    def links(self) -> list[dict[str, str | None]]:
        """The code links as imported (name, direction, colour, GUID), then each other pair of
        related codes once, as an associative link."""
        out: list[dict[str, str | None]] = []
        covered: set[frozenset[URIRef]] = set()
        for link in self.of(KX.CodeLink):
            a, b = self.g.value(link, KX.linkOrigin), self.g.value(link, KX.linkTarget)
            if a is None or b is None:
                continue
            a, b = URIRef(str(a)), URIRef(str(b))
            covered.add(frozenset((a, b)))
            out.append({"guid": self.guid(link), "name": self.value(link, RDFS.label),
                        "direction": self.value(link, KX.direction) or "Associative",
                        "color": self.value(link, KX.colour), "originGUID": self.guid(a), "targetGUID": self.guid(b)})
        pairs = sorted(((URIRef(str(a)), URIRef(str(b))) for a, b in self.g.subject_objects(SKOS.related)
                        if str(a).startswith(self.prefix) and str(b).startswith(self.prefix)),
                       key=lambda p: (str(p[0]), str(p[1])))
        for a, b in pairs:
            if frozenset((a, b)) in covered:
                continue
            covered.add(frozenset((a, b)))
            out.append({"guid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{a} related {b}")), "name": None,
                        "direction": "Associative", "color": None,
                        "originGUID": self.guid(a), "targetGUID": self.guid(b)})
        return out

    def set(self, block: ET.Element, s: URIRef) -> None:
        el = _sub(block, "Set", guid=self.guid(s), name=self.name(s))
        _text(el, "Description", self.value(s, DCTERMS.description))
        members = sorted((URIRef(str(m)) for m in self.g.objects(s, KX.hasMember)), key=str)
        for tag, cls in (("MemberCode", KX.Concept), ("MemberSource", KX.SourceDocument), ("MemberNote", KX.Note)):
            for m in members:
                if (m, RDF.type, cls) in self.g:
                    _sub(el, tag, targetGUID=self.guid(m))
        self.counts["sets"] += 1


def to_qdpx(g: Graph, study_id: str, *, loaded_at: str | None = None) -> QdpxExport:
    """The study ``study_id`` of an RDF graph (as ``kxgraph export`` builds it) as ``.qdpx`` bytes;
    ``loaded_at``, the time of the study's load, dates the notes that have no date of their own."""
    writer = _Writer(g, study_id, loaded_at)
    root = writer.project()
    ET.register_namespace("", PROJECT_NS)
    problems = schema_errors(root, "project")
    if problems:  # a bug in this module, never the user's data: say so plainly
        raise ExportError("the REFI-QDA project kxgraph built does not follow the schema: " + "; ".join(problems))
    ET.indent(root)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    # the whole study beside the project, for kxgraph to read back (other programs ignore it)
    own = Graph()
    for prefix, ns in g.namespaces():
        own.bind(prefix, ns, override=True)
    for t in g:
        if str(t[0]).startswith(writer.prefix):
            own.add(t)
    manifest = {"format": 1, "study": study_id, "project_sha256": hashlib.sha256(xml).hexdigest(),
                "kxgraph": __version__}
    members = {**writer.files, OWN_COPY: own.serialize(format="turtle"),
               OWN_MANIFEST: json.dumps(manifest, indent=2, sort_keys=True) + "\n"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("project.qde", ZIP_TIME), xml, compress_type=zipfile.ZIP_DEFLATED)
        for name, text in sorted(members.items()):
            z.writestr(zipfile.ZipInfo(name, ZIP_TIME), text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return QdpxExport(data=buf.getvalue(), counts=dict(writer.counts), warnings=writer.warnings)
