"""kxgraph's analysis in a REFI-QDA project's own terms: codes, codings and memos.

REFI-QDA has codes, coded selections, notes, cases and sets; it has no element for stakeholders,
consequences and their valence, discussion points, events, placements... A project kxgraph exports
carries them as what every QDA program keeps — codes with descriptions (memos), and codings:

    <the study's concepts and continua, as the codebook>
    kxgraph analysis                     a category (isCodable="false")
    ├── Stakeholders                     a category per kind of entry (the study format's sections)
    │   ├── Patients                     a code per entry, named as the entry
    │   └── …
    ├── Definitions                      a code per concept's definition
    ├── Discussion points                a code per claim, named by its name or its text
    └── Consequences …

Every evidence quote of an entry is a selection coded with the entry's code (and, as before, with
the concepts of the claims it backs, so that a QDA program shows the quote under its concept). The
entry's text (a claim's) or description is the code's memo, which ends with the entry itself in
kxgraph's study format (``docs/data-format.md``) under a last line ``kxgraph:``::

    Holding can make patients rely on their link worker.

    kxgraph:
      consequence: holding-risks-dependence
      concept: holding
      stakeholder: patients
      valence: negative

The concepts' and continua's codes, the text sources and the project's description end the same
way (their id; a continuum's stops; a document's file and source). Reading a project back, kxgraph
rebuilds the study from these entries with the study format's own checks (``build_study``), the
quotes from the selections and each entry's evidence from its codings — so a project another program
has rewritten (new GUIDs, kxgraph's own copy dropped, codes renamed or added, quotes coded again)
still comes back as kxgraph's analysis. What is not kxgraph's (a code with no entry under the
analysis, a link, a note, a case) is read as REFI-QDA.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kxgraph.loaders.refi_xml import guid_of, local
from kxgraph.loaders.yaml_format import SECTIONS, parse_yaml
from kxgraph.ontology.terms import DATA, KX

__all__ = ["ANALYSIS_ROOT", "ANALYSIS_SECTIONS", "CATEGORY_NAMES", "CLAIM_SECTIONS", "CONCEPT_LINKS", "KIND_SECTIONS",
           "MARK",
           "Entry", "category_name", "derived_guid", "entry_fields", "local_id", "read_memo", "section_of",
           "write_memo"]

#: the last line before an entry in a memo
MARK = "kxgraph:"
#: the category that holds the analysis
ANALYSIS_ROOT = "kxgraph analysis"
#: the sections whose entries are codes under the analysis (the others are the project's own parts:
#: the study is the project, documents its sources, concepts and continua its codebook)
ANALYSIS_SECTIONS = tuple(s for s in SECTIONS if s not in ("study", "documents", "concepts", "continua"))
#: sections whose entries are claims: their text is the memo, their code is named by their name or text
CLAIM_SECTIONS = tuple(s for s, sec in SECTIONS.items() if "text" in sec.fields)
#: the path segment of an entity's IRI -> its section (``consequence`` -> ``consequences``)
KIND_SECTIONS = {sec.kind: name for name, sec in SECTIONS.items()} | {"definition": "definitions"}
#: the category of each section under the analysis
CATEGORY_NAMES = {name: name.replace("_", " ").capitalize() for name in (*ANALYSIS_SECTIONS, "definitions")}
#: a code named by a claim's text shows this many characters of it
NAME_CHARS = 80
#: claims that code their quotes with a concept, through these links
CONCEPT_LINKS = (KX.defines, KX.concerns, KX.ofConcept)


@dataclass(frozen=True)
class Entry:
    """An entry read from a memo: its kind (``consequence``), id and the other fields as written."""

    kind: str
    ident: str
    fields: dict[str, Any]

    @property
    def section(self) -> str:
        return KIND_SECTIONS[self.kind]


def category_name(section: str) -> str:
    return CATEGORY_NAMES[section]


def section_of(kind: str) -> str | None:
    return KIND_SECTIONS.get(kind)


def derived_guid(*parts: object) -> str:
    """The GUID kxgraph gives what has none of its own: the same parts, the same GUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, " ".join(str(p) for p in parts)))


def local_id(iri: object, study_id: str) -> str | None:
    """``…/id/link-worker/concept/holding`` -> ``holding`` (None when not of the study)."""
    prefix = f"{DATA}{study_id}/"
    text = str(iri)
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix):]
    return rest.split("/", 1)[1] if "/" in rest else rest


# -- memos ----------------------------------------------------------------------------------------------
def write_memo(body: str | None, kind: str, ident: str, fields: dict[str, Any]) -> str:
    """``body``, a blank line, then the entry under :data:`MARK` (YAML, lists in one line)."""
    entry = {kind: ident, **{k: v for k, v in fields.items() if v is not None and v != []}}
    lines = [MARK]
    for key, value in entry.items():
        if isinstance(value, list):  # a list of ids on one line: [a, b]
            said = f"{key}: " + yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                                               width=1 << 20).strip()
        else:
            said = yaml.safe_dump({key: value}, default_flow_style=False, allow_unicode=True,
                                  width=1 << 20).rstrip("\n")
        lines += ["  " + line for line in said.split("\n")]
    tail = "\n".join(lines)
    return f"{body}\n\n{tail}" if body else tail


def read_memo(text: str | None) -> tuple[str | None, Entry | None]:
    """A memo's body and the entry it ends with (None when it ends with none). Raises ``ValueError``
    saying what is wrong when its last ``kxgraph:`` part is not an entry."""
    if not text:
        return text, None
    lines = text.split("\n")
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].rstrip() == MARK:
            start = i
            break
        if lines[i].strip() and not lines[i][:1].isspace():
            return text, None  # text after the last mark that is not part of an entry
    if start is None:
        return text, None
    data = parse_yaml("\n".join(lines[start:]))
    entry = data.get(MARK[:-1]) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or not entry:
        raise ValueError(f"the lines under '{MARK}' are not an entry of the study format")
    kind, ident = next(iter(entry.items()))
    if section_of(str(kind)) is None and kind != "analysis":
        raise ValueError(f"'{kind}' is not a kind of entry (one of: {', '.join(sorted(KIND_SECTIONS))})")
    if not isinstance(ident, str):
        raise ValueError(f"the id of the {kind} must be text, not {ident!r}")
    body = "\n".join(lines[:start])
    if body.endswith("\n\n"):
        body = body[:-2]
    elif body.endswith("\n"):
        body = body[:-1]
    fields = {str(k): v for k, v in list(entry.items())[1:]}
    return (body or None), Entry(str(kind), ident, fields)


# -- from the graph ---------------------------------------------------------------------------------------
#: fields a code carries in its own terms (name, memo), not in its entry
CARRIED = {"study": ("description",), "documents": ("title", "description"),
           "concepts": ("name",), "continua": ("name", "description")}


def carried(section: str) -> tuple[str, ...]:
    if section in CARRIED:
        return CARRIED[section]
    return ("text",) if section in CLAIM_SECTIONS else ("name", "description")


def entry_fields(g: Graph, subject: URIRef, section: str, study_id: str) -> dict[str, Any]:
    """The fields of an entity as its entry in a study file would write them (references as ids),
    but those its code carries in its own terms (:func:`carried`)."""
    out: dict[str, Any] = {}
    for key, spec in SECTIONS[section].fields.items():
        if key in carried(section) or spec.inverse:
            continue
        if spec.kind == "stops":
            stops = sorted(g.objects(subject, spec.predicate), key=lambda s: int(str(g.value(s, KX.ordinal) or 0)))
            out[key] = [local_id(g.value(s, KX.stopConcept), study_id) for s in stops] or None
            continue
        values = sorted(g.objects(subject, spec.predicate), key=str)
        if spec.kind == "lit":
            plain = [_plain(v) for v in values]
            out[key] = plain if spec.type == list[str] else (plain[0] if plain else None)
        else:
            ids = [local_id(v, study_id) for v in values if local_id(v, study_id) is not None]
            if spec.kind == "ref":
                out[key] = ids[0] if ids else None
            else:
                out[key] = ids
    if section == "continua":  # the poles are the first and last stops
        out.pop("left", None)
        out.pop("right", None)
    if section == "documents":  # the file the study folder keeps it in (the text is the source's)
        path = g.value(subject, KX.path)
        out = {"file": str(path) if path is not None else f"documents/{local_id(subject, study_id)}.txt", **out}
    return out


def _plain(value: object) -> Any:
    if isinstance(value, Literal):
        python = value.toPython()
        if isinstance(python, Decimal):
            return float(python)
        if isinstance(python, bool | int | float | str):
            return python
        return str(value)
    return str(value)


def body_and_name(g: Graph, subject: URIRef, section: str) -> tuple[str | None, str]:
    """What a code shows of an entry: its memo's body and its name."""
    def value(p: URIRef) -> str | None:
        v = g.value(subject, p)
        return None if v is None else str(v)

    if section in CLAIM_SECTIONS:
        text = value(KX.text) or ""
        name = value(RDFS.label) or (text if len(text) <= NAME_CHARS else text[:NAME_CHARS - 1].rstrip() + "…")
        return text, name
    if section == "definitions":
        return value(KX.text), ""
    return value(DCTERMS.description), value(RDFS.label) or value(SKOS.prefLabel) or ""


def analysis_entities(g: Graph, study_id: str) -> Iterator[tuple[str, URIRef]]:
    """(section, entity) for every entry of the study that is a code under the analysis, a section
    after the other (definitions last)."""
    prefix = f"{DATA}{study_id}/"
    for section in (*ANALYSIS_SECTIONS, "definitions"):
        cls = KX.Definition if section == "definitions" else SECTIONS[section].cls
        found = sorted((URIRef(str(s)) for s in g.subjects(RDF.type, cls) if str(s).startswith(prefix)), key=str)
        for s in found:
            yield section, s


# -- from a project ---------------------------------------------------------------------------------------
@dataclass
class Coded:
    """A code or source of the project that says its entry."""

    entry: Entry
    body: str | None
    name: str
    place: str


@dataclass
class Plan:
    """What a project says of kxgraph's analysis: the entries of its codes, sources and description
    (by GUID), the analysis' own categories, and what could not be read."""

    study: Coded | None
    coded: dict[str, Coded]
    categories: set[str]
    problems: list[tuple[str, str]]  # (place, what is wrong)

    def __bool__(self) -> bool:
        return self.study is not None or bool(self.coded)

    def conceptual(self, study_id: str) -> set[URIRef]:
        """The concepts and continua the entries make."""
        return {entry_iri(c.entry, study_id) for c in self.coded.values()
                if c.entry.section in ("concepts", "continua")}

    def iri(self, guid: str, study_id: str) -> URIRef | None:
        """The IRI the entry of a code or source names (None when it names none)."""
        found = self.coded.get(guid)
        if found is None:
            return None
        return entry_iri(found.entry, study_id)


def entry_iri(entry: Entry, study_id: str) -> URIRef:
    if entry.kind == "definition":
        return DATA[f"{study_id}/definition/{entry.ident}"]
    return DATA[f"{study_id}/{entry.kind}/{entry.ident}"]


def read_plan(root: Any) -> Plan:
    """Every entry a project's codes, sources and description end with."""
    coded: dict[str, Coded] = {}
    categories: set[str] = set()
    problems: list[tuple[str, str]] = []
    study = None

    def memo_of(el: Any) -> str | None:
        for child in el:
            if local(child.tag) == "Description":
                return str(child.text) if child.text is not None else None
        return None

    def read(el: Any, place: str) -> tuple[str | None, Entry | None]:
        try:
            return read_memo(memo_of(el))
        except ValueError as exc:
            problems.append((place, str(exc)))
        except yaml.YAMLError as exc:
            problems.append((place, f"the lines under '{MARK}' are not YAML ({str(exc).splitlines()[0]})"))
        return memo_of(el), None

    body, entry = read(root, "Project/Description")
    if entry is not None and entry.kind == "study":
        study = Coded(entry, body, (root.get("name") or "").strip(), "Project/Description")

    def codes(parent: Any, place: str, under_root: bool) -> None:
        for i, code in enumerate(c for c in parent if local(c.tag) == "Code"):
            where = f"{place}/Code[{i + 1}] ({code.get('name')!r})"
            guid = guid_of(code.get("guid"))
            body, entry = read(code, where)
            if guid is not None and entry is not None and entry.kind == "analysis":
                categories.add(guid)
                codes(code, where, True)
                continue
            if guid is not None and entry is not None:
                coded[guid] = Coded(entry, body, (code.get("name") or "").strip(), where)
            elif guid is not None and under_root and code.get("isCodable") == "false":
                categories.add(guid)  # a kind's category under the analysis
            codes(code, where, under_root)

    for block in (c for c in root if local(c.tag) == "CodeBook"):
        for top in (c for c in block if local(c.tag) == "Codes"):
            codes(top, "CodeBook/Codes", False)
    for block in (c for c in root if local(c.tag) == "Sources"):
        for i, src in enumerate(block):
            where = f"Sources/{local(src.tag)}[{i + 1}] ({src.get('name')!r})"
            guid = guid_of(src.get("guid"))
            body, entry = read(src, where)
            if guid is not None and entry is not None:
                coded[guid] = Coded(entry, body, (src.get("name") or "").strip(), where)
    return Plan(study, coded, categories, problems)


def study_data(plan: Plan, study_id: str, old_study_id: str | None) -> tuple[dict[str, Any], dict[int, str]]:
    """The study, as the sections of a study file, from the entries of a project (evidence apart: the
    codings give it). Also where each entry comes from, for messages."""
    data: dict[str, Any] = {}
    places: dict[int, str] = {}
    study_refs = {k for s in SECTIONS.values() for k, f in s.fields.items() if "study" in f.targets}

    def add(section: str, entry: dict[str, Any], place: str) -> None:
        for key in study_refs & set(entry):  # the study moved under another id: its references too
            value = entry[key]
            if isinstance(value, list):
                entry[key] = [study_id if v == old_study_id else v for v in value]
            elif value == old_study_id:
                entry[key] = study_id
        if SECTIONS[section].single:
            data[section] = entry
        else:
            data.setdefault(section, []).append(entry)
        places[id(entry)] = place

    if plan.study is not None:
        s = plan.study
        # the study's name is in its entry: programs name a project after their own file ("lw.qda")
        add("study", {"id": study_id, "name": s.name, "description": s.body, **s.entry.fields}, s.place)
    definitions = {c.entry.ident: c for c in plan.coded.values() if c.entry.kind == "definition"}
    for c in plan.coded.values():
        section, fields, kind = c.entry.section, dict(c.entry.fields), c.entry.kind
        if kind in ("definition", "study"):
            continue
        entry: dict[str, Any] = {"id": c.entry.ident}
        if section == "documents":
            entry |= {"title": c.name, "description": c.body}
        elif section == "concepts":
            entry["name"] = c.name
            defined = definitions.get(c.entry.ident)
            if defined is not None:
                entry["definition"] = {"text": defined.body or ""}
            elif c.body and "description" not in fields:
                entry["description"] = c.body
        elif section in CLAIM_SECTIONS:
            entry["text"] = c.body or ""
        else:
            entry |= {"name": c.name, "description": c.body}
        entry |= fields
        add(section, {k: v for k, v in entry.items() if v is not None}, c.place)
    return data, places
