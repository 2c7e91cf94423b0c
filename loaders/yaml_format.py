"""The study file format (``study.yaml``): a researcher writes entities by kind, with ids, names,
references to other ids and evidence quotes as exact text. This module checks the file's shape
(pydantic, every error with its place) and turns it into RDF in the kxgraph ontology.

The table :data:`SECTIONS` is the whole format: which sections exist, which class each becomes,
and what each field means (a literal, or a reference to entries of other sections). A new study
needs new files only, never new code. See ``docs/data-format.md``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError, create_model
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import DCTERMS, ORG, PROV, SKOS

from kxgraph.errors import DataFormatError, InputError, ProblemList
from kxgraph.loaders.continua import write_stops
from kxgraph.loaders.files import inside, read_limited
from kxgraph.loaders.study_store import study_graph
from kxgraph.ontology.terms import DATA, KX, literal

__all__ = ["SECTIONS", "Checked", "EvidenceSpec", "Made", "StudyFile", "build_study", "parse_yaml", "read_study_file",
           "study_data"]

_T = TypeVar("_T")

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,80}$"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class F:
    """One field of a section: ``lit`` (a literal), ``ref`` (one id), ``refs`` (a list of ids) or
    ``stops`` (ids in order: a continuum's stops, written by ``loaders/continua.py``);
    ``inverse``: the named entities point at this one (``narrower`` is ``broader`` seen from above)."""

    predicate: URIRef
    kind: str = "lit"
    targets: tuple[str, ...] = ()
    required: bool = False
    type: Any = str
    inverse: bool = False


@dataclass(frozen=True)
class Section:
    cls: URIRef
    kind: str  # the path segment of the entity's IRI
    fields: dict[str, F] = field(default_factory=dict)
    single: bool = False  # the ``study`` section is one mapping, not a list


NAMED = {"name": F(RDFS.label, required=True), "description": F(DCTERMS.description)}
CLAIM = {"name": F(RDFS.label), "description": F(DCTERMS.description), "text": F(KX.text, required=True)}
CONCEPTUAL = ("concepts", "continua")
WHERE = ("activities", "events")

SECTIONS: dict[str, Section] = {
    "study": Section(KX.Study, "study", single=True, fields={
        **NAMED, "status": F(KX.status), "grant_number": F(KX.grantNumber),
        "conducted_by": F(KX.conductedBy, "refs", ("organisations",)),
        "funded_by": F(KX.fundedBy, "refs", ("organisations",)),
        "methods": F(KX.usesMethod, "refs", ("methods",))}),
    "documents": Section(KX.SourceDocument, "document", fields={
        "title": F(DCTERMS.title, required=True), "description": F(DCTERMS.description),
        "creator": F(DCTERMS.creator, "refs", ("people", "organisations")),
        "publisher": F(DCTERMS.publisher, "refs", ("organisations",)),
        "source": F(DCTERMS.source), "language": F(DCTERMS.language),
        "media_type": F(DCTERMS.format), "date": F(DCTERMS.date),
        "about": F(DCTERMS.subject, "refs", ("study", "events", "activities"))}),
    "organisations": Section(KX.Organisation, "organisation", fields=dict(NAMED)),
    "people": Section(KX.Person, "person", fields={
        **NAMED, "member_of": F(ORG.memberOf, "refs", ("organisations",)),
        "works_on": F(KX.worksOn, "refs", ("study",))}),
    "places": Section(KX.Place, "place", fields=dict(NAMED)),
    "stakeholders": Section(KX.Stakeholder, "stakeholder", fields=dict(NAMED)),
    "actors": Section(KX.Actor, "actor", fields={
        **NAMED, "actor_in": F(KX.actorIn, "refs", ("stakeholders",))}),
    "delegate_groups": Section(KX.DelegateGroup, "delegate-group", fields={
        **NAMED, "represents": F(KX.represents, "refs", ("stakeholders",)),
        "member_of": F(ORG.memberOf, "refs", ("organisations",))}),
    "methods": Section(KX.Method, "method", fields=dict(CLAIM)),
    "concepts": Section(KX.Concept, "concept", fields={
        **NAMED, "related": F(SKOS.related, "refs", CONCEPTUAL), "broader": F(SKOS.broader, "refs", CONCEPTUAL),
        "narrower": F(SKOS.broader, "refs", CONCEPTUAL, inverse=True)}),
    "continua": Section(KX.Continuum, "continuum", fields={
        **NAMED, "left": F(KX.leftPole, "ref", ("concepts",)), "right": F(KX.rightPole, "ref", ("concepts",)),
        "stops": F(KX.hasStop, "stops", ("concepts",)),
        "related": F(SKOS.related, "refs", CONCEPTUAL)}),
    "events": Section(KX.Event, "event", fields={
        **NAMED, "date": F(DCTERMS.date), "ordinal": F(KX.ordinal, type=StrictInt),
        "duration": F(KX.duration), "study": F(DCTERMS.isPartOf, "ref", ("study",)),
        "place": F(PROV.atLocation, "ref", ("places",)), "aims": F(KX.aim, type=list[str]),
        "attended_by": F(KX.attendedBy, "refs", ("delegate_groups",))}),
    "activities": Section(KX.Activity, "activity", fields={
        **NAMED, "kind": F(KX.kind), "ordinal": F(KX.ordinal, type=StrictInt),
        "event": F(DCTERMS.isPartOf, "ref", ("events",), required=True),
        "presenter": F(KX.presenter, "refs", ("people",)),
        "presents": F(KX.presents, "refs", CONCEPTUAL)}),
    "role_elements": Section(KX.RoleElement, "role-element", fields=dict(NAMED)),
    "discussion_points": Section(KX.DiscussionPoint, "discussion-point", fields={
        **CLAIM, "ordinal": F(KX.ordinal, type=StrictInt),
        "raised_in": F(KX.raisedIn, "ref", WHERE, required=True),
        "concerns": F(KX.concerns, "refs", CONCEPTUAL, required=True),
        "affects": F(KX.affects, "refs", ("stakeholders",)),
        "about_elements": F(KX.aboutElement, "refs", ("role_elements",)),
        "involves": F(KX.involves, "refs", ("actors",))}),
    "consequences": Section(KX.Consequence, "consequence", fields={
        **CLAIM, "concept": F(KX.ofConcept, "ref", CONCEPTUAL, required=True),
        "stakeholder": F(KX.forStakeholder, "ref", ("stakeholders",), required=True),
        "valence": F(KX.valence, required=True, type=str),
        "raised_in": F(KX.raisedIn, "ref", WHERE)}),
    "placements": Section(KX.Placement, "placement", fields={
        **CLAIM, "element": F(KX.placesElement, "ref", ("role_elements",), required=True),
        "continuum": F(KX.onContinuum, "ref", ("continua",), required=True),
        "position": F(KX.position, required=True, type=float),
        "raised_in": F(KX.raisedIn, "ref", WHERE)}),
    "reflections": Section(KX.Reflection, "reflection", fields={
        **CLAIM, "raised_in": F(KX.raisedIn, "ref", WHERE, required=True)}),
}


class EvidenceSpec(BaseModel):
    """One evidence quote as written: the exact text, and how to tell it apart if it repeats."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    hint: str | None = None
    occurrence: int | None = Field(None, ge=1)
    document: str | None = None


Evidence = list[Annotated[str, StringConstraints(min_length=1)] | EvidenceSpec]


class DefinitionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    evidence: Evidence = Field(default_factory=list)


def _model(name: str, section: Section) -> type[BaseModel]:
    fields: dict[str, Any] = {"id": (str, Field(pattern=ID_PATTERN)), "evidence": (Evidence, [])}
    for key, spec in section.fields.items():
        if spec.kind in ("refs", "stops"):
            typ: Any = list[str]
        elif spec.kind == "ref":
            typ = str
        else:
            typ = spec.type
        fields[key] = (typ, ...) if spec.required else (typ | None, None)
    if name == "concepts":
        fields["definition"] = (DefinitionSpec | None, None)
    if name == "documents":
        fields["file"] = (str, ...)
    return create_model(f"{name}_entry", __config__=ConfigDict(extra="forbid"), **fields)


@dataclass(slots=True)
class Quote:
    """An evidence quote as written in the file, waiting to be anchored in its document: the fields
    of its :class:`EvidenceSpec`, copied (a study of 1M quotes kept 1M validated models until they
    were anchored)."""

    claim: URIRef
    text: str
    place: str
    hint: str | None = None
    occurrence: int | None = None
    document: str | None = None

    @classmethod
    def of(cls, claim: URIRef, ev: str | EvidenceSpec, place: str) -> Quote:
        if isinstance(ev, str):
            return cls(claim, ev, place)
        return cls(claim, ev.text, place, ev.hint, ev.occurrence, ev.document)


@dataclass
class StudyFile:
    """A parsed study file: its RDF (without quotes yet) and the quotes to anchor."""

    path: Path
    study_id: str
    graph: Graph
    documents: dict[str, Path]             # document id -> text file
    quotes: list[Quote]
    places: dict[URIRef, str]              # entity IRI -> where it is written, for messages
    default_document: str | None           # quotes that name no document come from the first one
    tables: list[Path] = field(default_factory=list)  # CSV tables of claims the file lists

    def iri(self, kind: str, ident: str) -> URIRef:
        return DATA[f"{self.study_id}/{kind}/{ident}"]


def _fail(path: Path, place: str, message: str, fix: str) -> DataFormatError:
    return DataFormatError(message, file=str(path), place=place, fix=fix)


def _pydantic_problem(path: Path, where: str, exc: ValidationError) -> DataFormatError:
    err = exc.errors()[0]
    loc = ""
    for part in err["loc"]:
        if isinstance(part, int):
            loc += f"[{part}]"
        elif not part.startswith(("str", "constrained-str", "EvidenceSpec", "function-", "list[")):
            loc += f".{part}"
    place = f"{where}{loc}"
    msg = err["msg"]
    fix = "see docs/data-format.md for the fields of this section"
    if err["type"] == "extra_forbidden":
        msg = f"unknown field {err['loc'][-1]!r}"
    elif err["type"] == "missing":
        msg = f"required field {err['loc'][-1]!r} is missing"
    elif err["type"] == "string_pattern_mismatch":
        fix = "ids are lower-case letters, digits and hyphens, e.g. 'patient-readiness'"
    more = f" (and {len(exc.errors()) - 1} more problem(s) in this entry)" if len(exc.errors()) > 1 else ""
    return _fail(path, place, msg + more, fix)


#: a study file larger than this is refused before it is read
MAX_STUDY_BYTES = 64 * 1024 * 1024


#: entries nested deeper than this are refused (a study file needs a handful of levels)
MAX_YAML_DEPTH = 100


def _refuse_duplicate_keys(node: Any) -> None:
    first: dict[object, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in first:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key_node.value!r} appears twice in one mapping (first on line "
                    f"{first[key_node.value] + 1})", key_node.start_mark)
            first[key_node.value] = key_node.start_mark.line


class _StrictConstructing:
    """What both loaders refuse while building values: a key twice in one mapping, an integer too
    long for Python to read (4,300 digits)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        _refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep)  # type: ignore[misc]

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)  # type: ignore[misc]
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"the number has {len(str(node.value))} digits, more than Python reads",
                node.start_mark) from None


class _NoAliasLoader(_StrictConstructing, yaml.SafeLoader):
    """YAML without anchors and aliases: a 'billion laughs' file cannot blow up (study files never
    need them); nesting is bounded, so a deep file cannot exhaust the parser's recursion."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in study files", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.constructor.ConstructorError(
                    None, None, f"entries nest more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_NoAliasLoader.add_constructor("tag:yaml.org,2002:int", _NoAliasLoader.construct_yaml_int)  # type: ignore[type-var]


class _AliasFoundError(Exception):
    pass


#: libyaml's parser when PyYAML was built with it (4-5 times faster on large studies)
_FastBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastNoAliasLoader(_StrictConstructing, _FastBase):  # type: ignore[misc]
    """The same rules with libyaml's parser: an alias shows as a node constructed twice (never
    expanded). Any problem is reported by parsing again with :class:`_NoAliasLoader`, whose messages
    name the exact place."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _AliasFoundError
        return super().construct_object(node, deep)


_FastNoAliasLoader.add_constructor("tag:yaml.org,2002:int", _FastNoAliasLoader.construct_yaml_int)


def _refuse_nul(path: Path, data: Any) -> None:
    """No store keeps a NUL character: one in any value is refused with its place."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str) and "\x00" in node:
            raise _fail(path, where or "top level", f"the value holds a NUL character (at {node.index(chr(0))})",
                        "remove the NUL character (\\0)")
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))


def parse_yaml(text: str) -> Any:
    """YAML as study files are read: safe, no aliases, duplicate keys refused."""
    try:
        return yaml.load(text, Loader=_FastNoAliasLoader)  # noqa: S506 - a SafeLoader without aliases
    except (yaml.YAMLError, _AliasFoundError):
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - raises with the exact place


#: what PyYAML's commonest complaints mean for someone writing a study file, and the fix
PLAIN_YAML = (
    ("expected <block end>", "the indentation changes here: this line is indented more or less than the "
     "entries of the block it belongs to{context}", "indent it like the entries above it, with spaces"),
    ("mapping values are not allowed here", "a ':' inside a value that is not in quotes",
     "put the value in quotes, e.g. text: \"Note: ...\""),
    ("could not find expected ':'", "a line of a mapping without 'key: value' (a missing colon, or a value "
     "running over several lines without quotes){context}", "add the colon, or quote the value"),
    ("cannot start any token", "a tab or another character that YAML does not allow there",
     "indent with spaces only, and quote values that start with @, ` or %"),
    ("found unexpected end of stream", "a quote opened but never closed{context}",
     "close the quote, or write the text as a block (text: |) on the lines below"),
    ("expected ',' or ']'", "a list in [ ] that is not closed, or a comma missing between its items{context}",
     "close the list with ] and separate the items with commas"),
    ("expected ',' or '}'", "a mapping in { } that is not closed, or a comma missing between its entries{context}",
     "close it with } and separate the entries with commas"),
)


def plain_yaml_problem(problem: str, context: str, context_line: int | None) -> tuple[str, str]:
    """A PyYAML problem in plain words, and its fix ('' when it is not one of the usual ones)."""
    where = f" (it starts at line {context_line})" if context_line and context else ""
    for key, said, fix in PLAIN_YAML:
        if key in problem:
            return said.format(context=where), fix
    return "", ""


def read_study_file(path: Path) -> StudyFile:
    """Parse and check ``study.yaml``; RDF for every entity; quotes collected for anchoring."""
    data, places_of, tables = study_data(path)
    return build_study(data, path, places_of, tables=tables, consume=True)


def study_data(path: Path, *, with_tables: bool = True) -> tuple[dict[str, Any], dict[int, str], Any]:
    """``study.yaml`` and its tables as :func:`build_study` reads them: the sections, where each
    table row's entry comes from (by ``id()`` of its mapping), and the ``tables`` it lists (their
    rows left out ``with_tables=False``: ``loaders/streamed.py`` reads them a batch at a time)."""
    raw = read_limited(path, MAX_STUDY_BYTES, what="study file")
    if not raw:
        raise _fail(path, "", "the file is empty", "start with 'kxgraph: 1' and a 'study:' section")
    try:
        raw_text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"byte {exc.start}", "the file is not valid UTF-8",
                    "save the file as UTF-8") from None
    try:
        data = parse_yaml(raw_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        fixes = {"aliases": "write the values out instead of using &anchors and *aliases",
                 "appears twice": "keep one of the two (a second one would silently replace the first)",
                 "levels deep": "write the entries flatter: study files need only a few levels",
                 "digits": "write the value in quotes if it is text, or use a shorter number"}
        fix = next((f for k, f in fixes.items() if k in problem),
                   "fix the syntax (indentation, quotes, colons) at that place")
        context = getattr(exc, "context_mark", None)
        said, plain_fix = plain_yaml_problem(problem, str(getattr(exc, "context", "") or ""),
                                             context.line + 1 if context else None)
        if said:
            raise _fail(path, place, f"not valid YAML: {said} (the parser says: {problem})", plain_fix) from None
        raise _fail(path, place, f"not valid YAML: {problem}", fix) from None
    if not isinstance(data, dict):
        raise _fail(path, "top level", "the file must be a mapping of sections",
                    "start with 'kxgraph: 1' and a 'study:' section (see docs/data-format.md)")
    _refuse_nul(path, data)
    version = data.pop("kxgraph", None)
    tables = data.pop("tables", None)
    if version != FORMAT_VERSION:
        raise _fail(path, "kxgraph", f"format version {version!r} is not supported",
                    f"start the file with 'kxgraph: {FORMAT_VERSION}'")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], SECTIONS, n=1)
        raise _fail(path, unknown[0], f"unknown section {unknown[0]!r}",
                    f"did you mean {close[0]!r}?" if close else f"sections are: {', '.join(SECTIONS)}")
    if not isinstance(data.get("study"), dict):
        raise _fail(path, "study", "the 'study' section is missing or not a mapping",
                    "add 'study:' with an id and a name")
    places_of: dict[int, str] = {}
    if tables is not None and with_tables:
        from kxgraph.loaders.tables import read_tables

        for table_section, table_place, row_entry in read_tables(path, tables):
            listed = data.setdefault(table_section, [])
            if not isinstance(listed, list):
                raise _fail(path, table_section, f"'{table_section}' must be a list of entries",
                            "write each entry as '- id: ...'")
            listed.append(row_entry)
            places_of[id(row_entry)] = table_place
    return data, places_of, tables


def build_study(data: dict[str, Any], path: Path, places_of: dict[int, str] | None = None, *,
                tables: Any = None, documents: bool = True, known: dict[str, tuple[str, str]] | None = None,
                consume: bool = False) -> StudyFile:
    """The RDF of a study given as the sections of a study file (``data``: section -> entries, as
    YAML gives them): every entry checked, references resolved. ``places_of`` names where an entry
    comes from (by ``id()`` of its mapping) when that is not ``section[i]`` of ``path``; with
    ``documents=False`` the documents' files are not looked for (their text comes from elsewhere);
    ``known``: ids of entities made elsewhere (id -> (where, section)) that entries may name;
    ``consume``: each entry of ``data``'s lists is let go (set to ``None``) once checked, and each
    checked entry once it is RDF: the caller has no use for them, and a study's rows then never sit
    in memory three times over (as read, as checked and as RDF)."""
    # 1. shape of every entry, and every id once: every problem of the file in one pass
    checked = Checked(path, places_of, known, consume=consume)
    for name in SECTIONS:
        checked.section(name, data.get(name))
    if "study" not in checked.entries:
        checked.problems.raise_if_any()
        raise _fail(path, "study", "the file has no 'study' section", "add 'study: {id: ..., name: ...}'")
    # 2. RDF, references resolved
    made = Made(checked, documents=documents)
    made.make(checked.entries)
    checked.problems.raise_if_any()
    made.finish()
    table_paths = [inside(path.parent, t, what="table", file=str(path), place=f"tables[{i}]")
                   for i, t in enumerate(tables)] if isinstance(tables, list) else []
    return StudyFile(path=path, study_id=made.study_id, graph=made.graph, documents=made.docs, quotes=made.quotes,
                     places=made.places, default_document=next(iter(made.docs)) if made.docs else None,
                     tables=table_paths)


class Checked:
    """The first pass over a study's entries: the shape of each (its section's pydantic model) and
    each id once. ``entries``: the entries that passed, by section, with where each is written;
    ``ids``: every id seen (id -> (where, section)); ``problems``: what did not pass.
    ``places_of`` and ``consume`` as in :func:`build_study`."""

    def __init__(self, path: Path, places_of: dict[int, str] | None = None,
                 known: dict[str, tuple[str, str]] | None = None, *, consume: bool = False) -> None:
        self.path = path
        self.places_of = places_of if places_of is not None else {}
        self.consume = consume
        self.problems = ProblemList()
        self.entries: dict[str, list[tuple[str, BaseModel]]] = {}
        self.ids: dict[str, tuple[str, str]] = dict(known or {})

    def section(self, name: str, items: Any) -> None:
        """Check the entries of one section (``items`` as YAML gives them; None: the section is absent)."""
        path, places_of, consume, problems, ids = self.path, self.places_of, self.consume, self.problems, self.ids
        section = SECTIONS[name]
        if items is None:
            return
        if section.single:
            items = [items]
        if not isinstance(items, list):
            problems.add(_fail(path, name, f"'{name}' must be a list of entries", "write each entry as '- id: ...'"))
            return
        model = _model(name, section)
        for i, item in enumerate(_each(items, consume and not section.single)):
            where = places_of.pop(id(item), None) if consume else places_of.get(id(item))
            where = where or (name if section.single else f"{name}[{i}]")
            if not isinstance(item, dict):
                problems.add(_fail(path, where, "an entry must be a mapping", "write 'id: ...' and its fields"))
                continue
            if isinstance(item.get("id"), str):
                where += f" (id {item['id']!r})"
            try:
                entry = model.model_validate(item)
            except ValidationError as exc:
                problems.add(_pydantic_problem(path, where, exc))
                if isinstance(item.get("id"), str) and item["id"] not in ids:
                    ids[item["id"]] = (where, name)  # references to it are not problems of their own
                continue
            ident = entry.id  # type: ignore[attr-defined]
            if ident in ids:
                problems.add(_fail(path, where, f"the id {ident!r} is used twice (also in {ids[ident][0]})",
                                   "give every entry of a study its own id"))
                continue
            ids[ident] = (where, name)
            self.entries.setdefault(name, []).append((where, entry))


class Made:
    """The second pass: checked entries (:class:`Checked`) as RDF in ``graph``, references resolved
    against the ids the first pass saw; where each subject is written (``places``), the quotes to
    anchor and the documents' files. Problems join the first pass's."""

    def __init__(self, checked: Checked, *, documents: bool = True) -> None:
        study = checked.entries["study"][0][1]
        self.checked = checked
        self.path = checked.path
        self.study_id: str = study.id  # type: ignore[attr-defined]
        self.study_name: str = study.name  # type: ignore[attr-defined]
        self.documents = documents
        # rdflib's plain store: the default one keeps contexts and announces every triple added, a
        # third of the time of reading a study (the compiled shapes need neither; pyshacl gets a
        # copy); adding without an exception per new key (loaders/study_store.py)
        self.graph = study_graph()
        self.places: dict[URIRef, str] = {}
        self.quotes: list[Quote] = []
        self.docs: dict[str, Path] = {}
        # each entity others name, made once: the claims of a study name a few concepts, stakeholders
        # and events many times (a term for each mention was 1.25M terms in a study of 1M quotes)
        self.named: dict[str, URIRef] = {}
        self.scheme = DATA[f"{self.study_id}/scheme"]
        self.study_iri = self.iri("study", self.study_id)

    def iri(self, section_name: str, ident: str) -> URIRef:
        return DATA[f"{self.study_id}/{SECTIONS[section_name].kind}/{ident}"]

    def again(self, checked: Checked) -> Made:
        """A second pass of more entries (``checked``'s) into a graph of their own, naming the
        entities this one named through the same terms."""
        other = Made.__new__(Made)
        other.__dict__.update(self.__dict__)
        other.checked, other.graph, other.places, other.quotes, other.docs = checked, study_graph(), {}, [], {}
        return other

    def resolve(self, where: str, key: str, spec: F, ident: str) -> URIRef:
        ids = self.checked.ids
        target = ids.get(ident)
        if target is None or target[1] not in spec.targets:
            candidates = [i for i, (_, sec) in ids.items() if sec in spec.targets]
            close = difflib.get_close_matches(ident, candidates, n=1)
            what = " or ".join(spec.targets)
            why = f"{ident!r} is not an id in {what}" if target is None else \
                f"{ident!r} is in {target[1]}, but '{key}' must name {what}"
            raise _fail(self.path, f"{where}.{key}", why,
                        f"did you mean {close[0]!r}?" if close else f"add it to '{spec.targets[0]}' first")
        made = self.named.get(ident)
        if made is None:
            made = self.named[ident] = self.iri(target[1], ident)
        return made

    def make(self, entries: dict[str, list[tuple[str, BaseModel]]]) -> None:
        """The RDF of ``entries`` (section -> (where, entry)), let go of as made when consuming."""
        g, places, quotes, docs, path = self.graph, self.places, self.quotes, self.docs, self.path
        problems, resolve, study_id = self.checked.problems, self.resolve, self.study_id
        for name, made_of in entries.items():
            section = SECTIONS[name]
            for where, entry in _each(made_of, self.checked.consume):
                subject = self.iri(name, entry.id)  # type: ignore[attr-defined]
                places[subject] = where
                g.add((subject, RDF.type, section.cls))
                for key, spec in section.fields.items():
                    value = getattr(entry, key)
                    if value is None:
                        continue
                    if spec.kind == "stops":
                        continue  # below, with the poles
                    if spec.kind == "lit":
                        for v in value if isinstance(value, list) else [value]:
                            g.add((subject, spec.predicate, literal(v)))
                    else:
                        for ident in value if isinstance(value, list) else [value]:
                            try:
                                other = resolve(where, key, spec, ident)
                            except DataFormatError as exc:
                                problems.add(exc)
                                continue
                            g.add((other, spec.predicate, subject) if spec.inverse else
                                  (subject, spec.predicate, other))
                if name == "continua":
                    listed = entry.stops is not None  # type: ignore[attr-defined]
                    try:
                        stops = [resolve(where, f"stops[{i}]", section.fields["stops"], ident)
                                 for i, ident in enumerate(_continuum_stops(path, where, entry))]
                    except DataFormatError as exc:
                        if listed or "poles" in exc.message:  # a wrong 'left'/'right' is said above already
                            problems.add(exc)
                    else:
                        for i, stop in enumerate(write_stops(g, subject, stops)):
                            places[stop] = f"{where}.stops[{i}]" if listed else where
                if name in CONCEPTUAL:
                    g.add((subject, SKOS.inScheme, self.scheme))
                    g.add((subject, SKOS.prefLabel, literal(entry.name)))  # type: ignore[attr-defined]
                if name == "events" and entry.study is None:  # type: ignore[attr-defined]
                    g.add((subject, DCTERMS.isPartOf, self.study_iri))
                if name == "documents" and self.documents:
                    try:
                        docs[entry.id] = inside(path.parent, entry.file, what="document",  # type: ignore[attr-defined]
                                                file=str(path), place=f"{where}.file")
                    except InputError as exc:
                        problems.add(exc)
                if name == "documents":
                    g.add((subject, KX.path, literal(entry.file)))  # type: ignore[attr-defined]
                for j, ev in enumerate(entry.evidence):  # type: ignore[attr-defined]
                    quotes.append(Quote.of(subject, ev, f"{where}.evidence[{j}]"))
                definition = getattr(entry, "definition", None)
                if definition is not None:
                    d = DATA[f"{study_id}/definition/{entry.id}"]  # type: ignore[attr-defined]
                    places[d] = f"{where}.definition"
                    g.add((d, RDF.type, KX.Definition))
                    g.add((d, KX.text, literal(definition.text)))
                    g.add((d, KX.defines, subject))
                    g.add((subject, SKOS.definition, literal(definition.text)))
                    for j, ev in enumerate(definition.evidence):
                        quotes.append(Quote.of(d, ev, f"{where}.definition.evidence[{j}]"))

    def finish(self) -> None:
        """The study's concept scheme (once the entries are made)."""
        g = self.graph
        g.add((self.scheme, RDF.type, KX.ConceptScheme))
        g.add((self.scheme, RDFS.label, literal(f"Concepts of {self.study_name}")))
        g.add((self.scheme, DCTERMS.isPartOf, self.study_iri))
        self.places[self.scheme] = "study"


def _each(items: list[_T], consume: bool) -> Iterator[_T]:
    """``items`` in order; with ``consume``, each let go of by the list as it is given."""
    for i, item in enumerate(items):
        if consume:
            items[i] = None  # type: ignore[assignment]
        yield item


def _continuum_stops(path: Path, where: str, entry: Any) -> list[str]:
    """A continuum's stops in order, from 'stops' or from 'left' and 'right' (the poles)."""
    stops, left, right = entry.stops, entry.left, entry.right
    if stops is None:
        if left is None or right is None:
            raise _fail(path, where, "a continuum needs its poles: 'left' and 'right', or 'stops' in order",
                        "add 'left: <concept id>' and 'right: <concept id>', or 'stops: [first, ..., last]'")
        return [left, right]
    if len(stops) < 2:
        raise _fail(path, f"{where}.stops", f"'stops' names {len(stops)} concept(s): a continuum needs two at least",
                    "list the concepts in order, the left pole first and the right pole last")
    twice = next((s for i, s in enumerate(stops) if s in stops[:i]), None)
    if twice is not None:
        raise _fail(path, f"{where}.stops", f"{twice!r} is in 'stops' twice", "name each stop once")
    for key, value, pole in (("left", left, stops[0]), ("right", right, stops[-1])):
        if value is not None and value != pole:
            raise _fail(path, f"{where}.{key}", f"'{key}' is {value!r} but the {('first', 'last')[key == 'right']} "
                        f"of 'stops' is {pole!r}", f"leave out '{key}': with 'stops', the first and last are the poles")
    return list(stops)

