"""GraphQL types, one per ontology class, built from the store's property maps. Links between
nodes are fields in both directions where users navigate; each resolves through a per-request
DataLoader (one round trip per field per level, whatever the size of the answer)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from kxgraph.graph import queries
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.ontology.vocabulary import RelType as R

__all__ = ["TYPES", "build", "build_many"]


def prop(key: str, typ: Any, description: str | None = None) -> Any:
    """A scalar field read from the node's properties."""

    def resolve(root: Any) -> Any:
        return root.props.get(key)

    return strawberry.field(resolver=resolve, graphql_type=typ, description=description)


def build(label: str, props: dict[str, Any]) -> Any:
    return TYPES[L(label)](props=props)


def build_many(items: list[tuple[str, dict[str, Any]]], order: str = "ordinal") -> list[Any]:
    def key(item: tuple[str, dict[str, Any]]) -> tuple[Any, ...]:
        p = item[1]
        if order == "start":
            return (p.get("start", 0), p.get("id", ""))
        return (p.get("ordinal") is None, p.get("ordinal") or 0, p.get("name") or p.get("text") or "",
                p.get("id", ""))
    return [build(label, props) for label, props in sorted(items, key=key)]


async def _many(info: Info, node: Any, rel: R, direction: str, dst: L | None = None,
                order: str = "ordinal") -> list[Any]:
    items = await info.context.loaders.links(node._label, rel, direction, dst).load(node.props["id"])
    return build_many(items, order)


async def _one(info: Info, node: Any, rel: R, direction: str, dst: L | None = None) -> Any:
    found = await _many(info, node, rel, direction, dst)
    return found[0] if found else None


async def _path(info: Info, node: Any, statement: str, order: str = "ordinal") -> list[Any]:
    return build_many(await info.context.loaders.related(statement).load(node.props["id"]), order)


# --- interfaces --------------------------------------------------------------------------------------
@strawberry.interface(description="Any entity of the graph.")
class Entity:
    props: strawberry.Private[dict[str, Any]]
    _label = L.Study

    id: strawberry.ID = prop("id", strawberry.ID, "stable id: <study>/<kind>/<slug>")
    iri: str = prop("iri", str, "the entity's IRI in RDF")
    study: str = prop("study", str, "the id of the study it belongs to")
    name: str | None = prop("name", str | None)
    description: str | None = prop("description", str | None)

    @strawberry.field(description="the entity's class (node label)")
    def kind(self) -> str:
        return self._label.value

    @strawberry.field(description="notes and memos written about it (imported from a QDA program)")
    async def notes(self, info: Info) -> list[Note]:
        return await _many(info, self, R.ANNOTATES, "in", L.Note)


@strawberry.interface(description="A claim of the study, backed by evidence quotes.")
class Claim(Entity):
    text: str = prop("text", str, "the claim in the study's words")

    @strawberry.field(description="the exact sentences of the source that support the claim")
    async def evidence(self, info: Info) -> list[EvidenceQuote]:
        return await _many(info, self, R.SUPPORTED_BY, "out", L.EvidenceQuote, order="start")


@strawberry.interface(description="Where something was raised: an event or one of its activities.")
class Occasion(Entity):
    ordinal: int | None = prop("ordinal", int | None)

    @strawberry.field
    async def reflections(self, info: Info) -> list[Reflection]:
        return await _many(info, self, R.RAISED_IN, "in", L.Reflection)


@strawberry.interface(description="A concept or a continuum (both SKOS concepts).")
class ConceptLike(Entity):
    pref_label: str | None = prop("prefLabel", str | None)

    @strawberry.field
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]:
        return await _many(info, self, R.CONCERNS, "in", L.DiscussionPoint)

    @strawberry.field
    async def consequences(self, info: Info) -> list[Consequence]:
        return await _many(info, self, R.OF_CONCEPT, "in", L.Consequence)

    @strawberry.field(description="the activities that presented it")
    async def presented_in(self, info: Info) -> list[Activity]:
        return await _many(info, self, R.PRESENTS, "in", L.Activity)

    @strawberry.field(description="codings that apply it to quotes (a coded project's evidence)")
    async def codings(self, info: Info) -> list[Coding]:
        return await _many(info, self, R.APPLIES_CODE, "in", L.Coding)

    @strawberry.field(description="the quotes coded with it, in document order")
    async def coded_quotes(self, info: Info) -> list[EvidenceQuote]:
        return await _path(info, self, queries.CODED_QUOTES, order="start")

    @strawberry.field(description="the broader code it sits under")
    async def broader(self, info: Info) -> list[ConceptLike]:
        return await _many(info, self, R.BROADER, "out")

    @strawberry.field(description="the codes nested under it")
    async def narrower(self, info: Info) -> list[ConceptLike]:
        return await _many(info, self, R.BROADER, "in")

    color: str | None = prop("color", str | None, "the code's colour, #RRGGBB")
    definition_text: str | None = prop("definition", str | None,
                                       "the definition as plain text (a code's description, for imported codes)")

    @strawberry.field
    async def related(self, info: Info) -> list[ConceptLike]:
        out = await _many(info, self, R.RELATED_TO, "out")
        back = await _many(info, self, R.RELATED_TO, "in")
        return out + [b for b in back if b.props["id"] not in {o.props["id"] for o in out}]


# --- types ---------------------------------------------------------------------------------------------
@strawberry.type
class Study(Entity):
    _label = L.Study
    status: str | None = prop("status", str | None)
    grant_number: str | None = prop("grantNumber", str | None)
    software: str | None = prop("software", str | None, "the program a coded project came from")

    @strawberry.field
    async def conducted_by(self, info: Info) -> list[Organisation]:
        return await _many(info, self, R.CONDUCTED_BY, "out")

    @strawberry.field
    async def funded_by(self, info: Info) -> list[Organisation]:
        return await _many(info, self, R.FUNDED_BY, "out")

    @strawberry.field
    async def methods(self, info: Info) -> list[Method]:
        return await _many(info, self, R.USES_METHOD, "out")

    @strawberry.field
    async def events(self, info: Info) -> list[Event]:
        return await _many(info, self, R.PART_OF, "in", L.Event)

    @strawberry.field
    async def people(self, info: Info) -> list[Person]:
        return await _many(info, self, R.WORKS_ON, "in", L.Person)


@strawberry.type
class ConceptScheme(Entity):
    _label = L.ConceptScheme

    @strawberry.field
    async def concepts(self, info: Info) -> list[ConceptLike]:
        return await _many(info, self, R.IN_SCHEME, "in")


@strawberry.type
class Concept(ConceptLike):
    _label = L.Concept

    @strawberry.field(description="the study's definition, with its evidence")
    async def definition(self, info: Info) -> Definition | None:
        return await _one(info, self, R.DEFINES, "in", L.Definition)

    @strawberry.field(description="continua that have this concept as a pole")
    async def continua(self, info: Info) -> list[Continuum]:
        left = await _many(info, self, R.HAS_LEFT_POLE, "in", L.Continuum)
        right = await _many(info, self, R.HAS_RIGHT_POLE, "in", L.Continuum)
        return left + right

    @strawberry.field(description="role elements placed on continua this concept is a pole of")
    async def placements(self, info: Info) -> list[Placement]:
        return await _path(info, self, queries.CONCEPT_PLACEMENTS)


@strawberry.type
class Continuum(ConceptLike):
    _label = L.Continuum

    @strawberry.field(description="the pole at position 0")
    async def left(self, info: Info) -> Concept | None:
        return await _one(info, self, R.HAS_LEFT_POLE, "out")

    @strawberry.field(description="the pole at position 1")
    async def right(self, info: Info) -> Concept | None:
        return await _one(info, self, R.HAS_RIGHT_POLE, "out")

    @strawberry.field(description="role elements placed on it, from the left pole to the right")
    async def placements(self, info: Info) -> list[Placement]:
        found = await _many(info, self, R.ON_CONTINUUM, "in", L.Placement)
        return sorted(found, key=lambda p: (p.props.get("position", 0), p.props["id"]))


@strawberry.type
class Definition(Claim):
    _label = L.Definition

    @strawberry.field
    async def concept(self, info: Info) -> Concept | None:
        return await _one(info, self, R.DEFINES, "out")


@strawberry.type
class Method(Claim):
    _label = L.Method


@strawberry.type
class DiscussionPoint(Claim):
    _label = L.DiscussionPoint
    ordinal: int | None = prop("ordinal", int | None)

    @strawberry.field(description="the activity or event where it was raised")
    async def raised_in(self, info: Info) -> Occasion | None:
        return await _one(info, self, R.RAISED_IN, "out")

    @strawberry.field
    async def concerns(self, info: Info) -> list[ConceptLike]:
        return await _many(info, self, R.CONCERNS, "out")

    @strawberry.field
    async def affects(self, info: Info) -> list[Stakeholder]:
        return await _many(info, self, R.AFFECTS, "out")

    @strawberry.field
    async def about_elements(self, info: Info) -> list[RoleElement]:
        return await _many(info, self, R.ABOUT_ELEMENT, "out")

    @strawberry.field
    async def involves(self, info: Info) -> list[Actor]:
        return await _many(info, self, R.INVOLVES, "out")


@strawberry.type
class Consequence(Claim):
    _label = L.Consequence
    valence: str = prop("valence", str, "positive or negative")

    @strawberry.field
    async def concept(self, info: Info) -> ConceptLike | None:
        return await _one(info, self, R.OF_CONCEPT, "out")

    @strawberry.field
    async def stakeholder(self, info: Info) -> Stakeholder | None:
        return await _one(info, self, R.FOR_STAKEHOLDER, "out")

    @strawberry.field
    async def raised_in(self, info: Info) -> Occasion | None:
        return await _one(info, self, R.RAISED_IN, "out")


@strawberry.type
class Placement(Claim):
    _label = L.Placement
    position: float = prop("position", float, "0 = the left pole, 1 = the right pole")

    @strawberry.field
    async def element(self, info: Info) -> RoleElement | None:
        return await _one(info, self, R.PLACES, "out")

    @strawberry.field
    async def continuum(self, info: Info) -> Continuum | None:
        return await _one(info, self, R.ON_CONTINUUM, "out")

    @strawberry.field
    async def raised_in(self, info: Info) -> Occasion | None:
        return await _one(info, self, R.RAISED_IN, "out")


@strawberry.type
class Reflection(Claim):
    _label = L.Reflection

    @strawberry.field
    async def raised_in(self, info: Info) -> Occasion | None:
        return await _one(info, self, R.RAISED_IN, "out")


@strawberry.type
class Stakeholder(Entity):
    _label = L.Stakeholder

    @strawberry.field
    async def consequences(self, info: Info) -> list[Consequence]:
        return await _many(info, self, R.FOR_STAKEHOLDER, "in", L.Consequence)

    @strawberry.field
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]:
        return await _many(info, self, R.AFFECTS, "in", L.DiscussionPoint)

    @strawberry.field
    async def represented_by(self, info: Info) -> list[DelegateGroup]:
        return await _many(info, self, R.REPRESENTS, "in", L.DelegateGroup)

    @strawberry.field
    async def actors(self, info: Info) -> list[Actor]:
        return await _many(info, self, R.ACTOR_IN, "in", L.Actor)


@strawberry.type
class Actor(Entity):
    _label = L.Actor

    @strawberry.field
    async def actor_in(self, info: Info) -> list[Stakeholder]:
        return await _many(info, self, R.ACTOR_IN, "out")

    @strawberry.field
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]:
        return await _many(info, self, R.INVOLVES, "in", L.DiscussionPoint)


@strawberry.type
class Organisation(Entity):
    _label = L.Organisation

    @strawberry.field
    async def members(self, info: Info) -> list[Person]:
        return await _many(info, self, R.MEMBER_OF, "in", L.Person)


@strawberry.type
class Person(Entity):
    _label = L.Person

    @strawberry.field
    async def member_of(self, info: Info) -> list[Organisation]:
        return await _many(info, self, R.MEMBER_OF, "out")

    @strawberry.field
    async def presented(self, info: Info) -> list[Activity]:
        return await _many(info, self, R.PRESENTED_BY, "in", L.Activity)

    @strawberry.field
    async def documents(self, info: Info) -> list[SourceDocument]:
        return await _many(info, self, R.CREATED_BY, "in", L.SourceDocument)


@strawberry.type
class Place(Entity):
    _label = L.Place

    @strawberry.field
    async def events(self, info: Info) -> list[Event]:
        return await _many(info, self, R.AT_LOCATION, "in", L.Event)


@strawberry.type
class Event(Occasion):
    _label = L.Event
    date: str | None = prop("date", str | None, "ISO-8601 date or month")
    duration: str | None = prop("duration", str | None, "ISO-8601 duration")
    aims: list[str] = prop("aims", list[str] | None)

    @strawberry.field
    async def place(self, info: Info) -> Place | None:
        return await _one(info, self, R.AT_LOCATION, "out")

    @strawberry.field
    async def part_of(self, info: Info) -> Study | None:
        return await _one(info, self, R.PART_OF, "out", L.Study)

    @strawberry.field
    async def activities(self, info: Info) -> list[Activity]:
        return await _many(info, self, R.PART_OF, "in", L.Activity)

    @strawberry.field
    async def delegate_groups(self, info: Info) -> list[DelegateGroup]:
        return await _many(info, self, R.ATTENDED_BY, "out")

    @strawberry.field(description="people who presented in its activities")
    async def presenters(self, info: Info) -> list[Person]:
        return await _path(info, self, queries.EVENT_PRESENTERS)

    @strawberry.field(description="points raised at the event or in its activities")
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]:
        return await _path(info, self, queries.EVENT_DISCUSSION_POINTS)

    @strawberry.field(description="concepts its discussion points concern")
    async def concepts(self, info: Info) -> list[ConceptLike]:
        return await _path(info, self, queries.EVENT_CONCEPTS)

    @strawberry.field(description="stakeholders its discussion points affect")
    async def stakeholders(self, info: Info) -> list[Stakeholder]:
        return await _path(info, self, queries.EVENT_STAKEHOLDERS)

    @strawberry.field
    async def evidence(self, info: Info) -> list[EvidenceQuote]:
        return await _many(info, self, R.SUPPORTED_BY, "out", L.EvidenceQuote, order="start")


@strawberry.type
class Activity(Occasion):
    _label = L.Activity
    activity_kind: str | None = prop("kind", str | None, "presentation, round-table, ...")

    @strawberry.field
    async def event(self, info: Info) -> Event | None:
        return await _one(info, self, R.PART_OF, "out", L.Event)

    @strawberry.field
    async def presenters(self, info: Info) -> list[Person]:
        return await _many(info, self, R.PRESENTED_BY, "out")

    @strawberry.field
    async def presents(self, info: Info) -> list[ConceptLike]:
        return await _many(info, self, R.PRESENTS, "out")

    @strawberry.field
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]:
        return await _many(info, self, R.RAISED_IN, "in", L.DiscussionPoint)

    @strawberry.field
    async def evidence(self, info: Info) -> list[EvidenceQuote]:
        return await _many(info, self, R.SUPPORTED_BY, "out", L.EvidenceQuote, order="start")


@strawberry.type
class DelegateGroup(Entity):
    _label = L.DelegateGroup

    @strawberry.field
    async def represents(self, info: Info) -> list[Stakeholder]:
        return await _many(info, self, R.REPRESENTS, "out")

    @strawberry.field
    async def member_of(self, info: Info) -> list[Organisation]:
        return await _many(info, self, R.MEMBER_OF, "out")

    @strawberry.field
    async def events(self, info: Info) -> list[Event]:
        return await _many(info, self, R.ATTENDED_BY, "in", L.Event)


@strawberry.type
class RoleElement(Entity):
    _label = L.RoleElement

    @strawberry.field
    async def placements(self, info: Info) -> list[Placement]:
        return await _many(info, self, R.PLACES, "in", L.Placement)

    @strawberry.field
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]:
        return await _many(info, self, R.ABOUT_ELEMENT, "in", L.DiscussionPoint)


@strawberry.type
class SourceDocument(Entity):
    _label = L.SourceDocument
    title: str = prop("title", str)
    source: str | None = prop("sourceUrl", str | None, "where the text came from")
    language: str | None = prop("language", str | None)
    media_type: str | None = prop("mediaType", str | None)
    sha256: str = prop("sha256", str, "SHA-256 of the UTF-8 text")
    length: int = prop("length", int, "length in Unicode code points")
    text: str = prop("content", str, "the full text, exactly as captured: offsets refer to it")
    attributes: str | None = prop("attributes", str | None, "variables as a JSON object (from a QDA program)")

    @strawberry.field(description="its evidence quotes, in document order")
    async def quotes(self, info: Info) -> list[EvidenceQuote]:
        return await _many(info, self, R.IN_DOCUMENT, "in", L.EvidenceQuote, order="start")

    @strawberry.field
    async def creators(self, info: Info) -> list[Entity]:
        return await _many(info, self, R.CREATED_BY, "out")


@strawberry.type(description="Text around a quote in its document.")
class TextWindow:
    before: str
    exact: str
    after: str
    start: int
    end: int


@strawberry.type(description="An exact span of a source document (W3C Web Annotation selectors).")
class EvidenceQuote(Entity):
    _label = L.EvidenceQuote
    exact: str = prop("exact", str, "the exact text")
    start: int | None = prop("start", int | None, "offset of the first character (Unicode code points); "
                             "null when the quote is orphaned")
    end: int | None = prop("end", int | None, "offset after the last character (exclusive)")
    prefix: str = prop("prefix", str, "about 32 characters before")
    suffix: str = prop("suffix", str, "about 32 characters after")
    document_sha256: str = prop("documentSha256", str, "checksum of the text the offsets refer to")

    @strawberry.field(description="how it was placed when its document last changed; EXACT when it never moved")
    def anchor_status(self) -> AnchorStatus:
        return AnchorStatus(self.props.get("anchorStatus") or "exact")

    anchor_score: float | None = prop("anchorScore", float | None,
                                      "similarity (0-1) of the re-anchored text to the previous text")

    @strawberry.field(description="codings of this span (a coded project's codes)")
    async def codings(self, info: Info) -> list[Coding]:
        return await _many(info, self, R.CODES_TEXT, "in", L.Coding)

    @strawberry.field
    async def document(self, info: Info) -> SourceDocument | None:
        return await _one(info, self, R.IN_DOCUMENT, "out")

    @strawberry.field(description="the quote with up to `chars` characters either side (at most 2000)")
    async def window(self, info: Info, chars: int = 200) -> TextWindow | None:
        doc = await _one(info, self, R.IN_DOCUMENT, "out")
        if doc is None or self.props.get("start") is None:
            return None
        text, start, end = doc.props["content"], self.props["start"], self.props["end"]
        n = max(0, min(chars, 2000))
        return TextWindow(before=text[max(0, start - n):start], exact=text[start:end],
                          after=text[end:end + n], start=start, end=end)

    @strawberry.field(description="the quote inside its paragraph (the line of the document it is on)")
    async def paragraph(self, info: Info) -> TextWindow | None:
        doc = await _one(info, self, R.IN_DOCUMENT, "out")
        if doc is None or self.props.get("start") is None:
            return None
        text, start, end = doc.props["content"], self.props["start"], self.props["end"]
        first = text.rfind("\n", 0, start) + 1
        last = text.find("\n", end)
        last = len(text) if last == -1 else last
        return TextWindow(before=text[first:start], exact=text[start:end], after=text[end:last],
                          start=start, end=end)

    @strawberry.field(description="the claims it supports")
    async def supports(self, info: Info) -> list[Claim]:
        return [c for c in await _many(info, self, R.SUPPORTED_BY, "in") if isinstance(c, Claim)]


@strawberry.enum(description="How a quote was placed again after its document changed.")
class AnchorStatus(Enum):
    EXACT = "exact"
    MOVED = "moved"
    FUZZY = "fuzzy"
    ORPHANED = "orphaned"


@strawberry.type(description="A coder applied a code (concept) to a span of text.")
class Coding(Entity):
    _label = L.Coding
    guid: str | None = prop("guid", str | None, "its GUID in the QDA project")

    @strawberry.field
    async def concept(self, info: Info) -> ConceptLike | None:
        return await _one(info, self, R.APPLIES_CODE, "out")

    @strawberry.field
    async def quote(self, info: Info) -> EvidenceQuote | None:
        return await _one(info, self, R.CODES_TEXT, "out", L.EvidenceQuote)

    @strawberry.field(description="who coded it")
    async def coder(self, info: Info) -> Person | None:
        return await _one(info, self, R.CREATED_BY, "out", L.Person)


@strawberry.type(description="A memo or annotation.")
class Note(Entity):
    _label = L.Note
    text: str | None = prop("text", str | None)

    @strawberry.field(description="what it is written about")
    async def annotates(self, info: Info) -> list[Entity]:
        return await _many(info, self, R.ANNOTATES, "out")


@strawberry.type(description="A named set of codes, documents or notes.")
class Collection(Entity):
    _label = L.Collection

    @strawberry.field
    async def members(self, info: Info) -> list[Entity]:
        return await _many(info, self, R.HAS_MEMBER, "out")


@strawberry.type(description="A unit of analysis (a participant, a site) with its attributes.")
class Case(Entity):
    _label = L.Case
    attributes: str | None = prop("attributes", str | None, "variables as a JSON object")

    @strawberry.field(description="its documents, codes and quotes")
    async def members(self, info: Info) -> list[Entity]:
        return await _many(info, self, R.HAS_MEMBER, "out")


@strawberry.type
class Load(Entity):
    _label = L.Load


@strawberry.type
class Edit(Entity):
    _label = L.Edit
    operation: str | None = prop("operation", str | None)
    agent_name: str | None = prop("agentName", str | None)
    started_at: str | None = prop("startedAt", str | None)


TYPES: dict[L, type[Any]] = {
    L.Study: Study, L.ConceptScheme: ConceptScheme, L.Concept: Concept, L.Definition: Definition,
    L.Continuum: Continuum, L.Stakeholder: Stakeholder, L.Actor: Actor, L.Organisation: Organisation,
    L.Person: Person, L.Place: Place, L.Event: Event, L.Activity: Activity, L.DelegateGroup: DelegateGroup,
    L.Method: Method, L.DiscussionPoint: DiscussionPoint, L.Consequence: Consequence,
    L.RoleElement: RoleElement, L.Placement: Placement, L.Reflection: Reflection,
    L.SourceDocument: SourceDocument, L.EvidenceQuote: EvidenceQuote, L.Load: Load, L.Edit: Edit,
    L.Coding: Coding, L.Note: Note, L.Collection: Collection, L.Case: Case,
}
