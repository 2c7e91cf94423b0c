"""GraphQL types, one per ontology class, built from the store's property maps. Links between
nodes are fields in both directions where users navigate, each declared as a walk along the
ontology's relationships (``reads.py``): its resolver reads it through a per-request DataLoader (one
round trip per field per level), and the compiler reads the same declaration to answer a whole
request in one statement."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from kxgraph.api.graphql.connections import with_connections
from kxgraph.api.graphql.reads import build, build_many, computed, hop, link, prop
from kxgraph.graph.read_tree import DOCUMENT_WALK, WINDOW_MAX_CHARS, window_chars
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.ontology.vocabulary import RelType as R

__all__ = ["TYPES", "build", "build_many"]


#: the labels of claims, which evidence quotes support
CLAIM_LABELS = (L.Definition, L.DiscussionPoint, L.Consequence, L.Placement, L.Reflection, L.Method)
#: from a concept to the continua it is a stop of
_ON_CONTINUA = (hop(R.AT_CONCEPT, "in", L.ContinuumStop), hop(R.HAS_STOP, "in", L.Continuum))
#: an event, or any of its activities
_AT_EVENT = hop(R.PART_OF, "in", or_self=True)


def text_window(content: str | None, props: dict[str, Any], chars: int) -> dict[str, Any] | None:
    """The quote with up to ``chars`` (at most ``WINDOW_MAX_CHARS``) characters of its document
    either side."""
    if content is None or props.get("start") is None:
        return None
    start, end = props["start"], props["end"]
    n = window_chars(chars)
    return {"before": content[max(0, start - n):start], "exact": content[start:end],
            "after": content[end:end + n], "start": start, "end": end}


def text_paragraph(content: str | None, props: dict[str, Any]) -> dict[str, Any] | None:
    """The quote inside the line of its document it is on."""
    if content is None or props.get("start") is None:
        return None
    start, end = props["start"], props["end"]
    first = content.rfind("\n", 0, start) + 1
    last = content.find("\n", end)
    last = len(content) if last == -1 else last
    return {"before": content[first:start], "exact": content[start:end], "after": content[end:last],
            "start": start, "end": end}


# --- interfaces --------------------------------------------------------------------------------------
@strawberry.interface(description="Any entity of the graph.")
@with_connections
class Entity:
    props: strawberry.Private[dict[str, Any]]
    _label = L.Study

    id: strawberry.ID = prop("id", strawberry.ID, "stable id: <study>/<kind>/<slug>")
    iri: str = prop("iri", str, "the entity's IRI in RDF")
    study: str = prop("study", str, "the id of the study it belongs to")
    name: str | None = prop("name", str | None)
    description: str | None = prop("description", str | None)

    @computed("label", "the entity's class (node label)")
    def kind(self) -> str:
        return self._label.value

    @link(hop(R.ANNOTATES, "in", L.Note), description="notes and memos written about it (imported from a QDA program)")
    async def notes(self, info: Info) -> list[Note]: ...


@strawberry.interface(description="A claim of the study, backed by evidence quotes.")
@with_connections
class Claim(Entity):
    text: str = prop("text", str, "the claim in the study's words")

    @link(hop(R.SUPPORTED_BY, "out", L.EvidenceQuote), order="start",
          description="the exact sentences of the source that support the claim")
    async def evidence(self, info: Info) -> list[EvidenceQuote]: ...


@strawberry.interface(description="Where something was raised: an event or one of its activities.")
@with_connections
class Occasion(Entity):
    ordinal: int | None = prop("ordinal", int | None)

    @link(hop(R.RAISED_IN, "in", L.Reflection))
    async def reflections(self, info: Info) -> list[Reflection]: ...


@strawberry.interface(description="A concept or a continuum (both SKOS concepts).")
@with_connections
class ConceptLike(Entity):
    pref_label: str | None = prop("prefLabel", str | None)

    @link(hop(R.CONCERNS, "in", L.DiscussionPoint))
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]: ...

    @link(hop(R.OF_CONCEPT, "in", L.Consequence))
    async def consequences(self, info: Info) -> list[Consequence]: ...

    @link(hop(R.PRESENTS, "in", L.Activity), description="the activities that presented it")
    async def presented_in(self, info: Info) -> list[Activity]: ...

    @link(hop(R.APPLIES_CODE, "in", L.Coding),
          description="codings that apply it to quotes (a coded project's evidence)")
    async def codings(self, info: Info) -> list[Coding]: ...

    @link(hop(R.APPLIES_CODE, "in", L.Coding), hop(R.CODES_TEXT, "out", L.EvidenceQuote), order="start",
          description="the quotes coded with it, in document order")
    async def coded_quotes(self, info: Info) -> list[EvidenceQuote]: ...

    @link(hop(R.BROADER, "out"), description="the broader code it sits under")
    async def broader(self, info: Info) -> list[ConceptLike]: ...

    @link(hop(R.BROADER, "in"), description="the codes nested under it")
    async def narrower(self, info: Info) -> list[ConceptLike]: ...

    color: str | None = prop("color", str | None, "the code's colour, #RRGGBB")
    definition_text: str | None = prop("definition", str | None,
                                       "the definition as plain text (a code's description, for imported codes)")

    @link(hop(R.RELATED_TO, "both"), description="related concepts (the link is symmetric)")
    async def related(self, info: Info) -> list[ConceptLike]: ...


# --- types ---------------------------------------------------------------------------------------------
@strawberry.type
@with_connections
class Study(Entity):
    _label = L.Study
    status: str | None = prop("status", str | None)
    grant_number: str | None = prop("grantNumber", str | None)
    software: str | None = prop("software", str | None, "the program a coded project came from")

    @link(hop(R.CONDUCTED_BY, "out"))
    async def conducted_by(self, info: Info) -> list[Organisation]: ...

    @link(hop(R.FUNDED_BY, "out"))
    async def funded_by(self, info: Info) -> list[Organisation]: ...

    @link(hop(R.USES_METHOD, "out"))
    async def methods(self, info: Info) -> list[Method]: ...

    @link(hop(R.PART_OF, "in", L.Event))
    async def events(self, info: Info) -> list[Event]: ...

    @link(hop(R.WORKS_ON, "in", L.Person))
    async def people(self, info: Info) -> list[Person]: ...


@strawberry.type
@with_connections
class ConceptScheme(Entity):
    _label = L.ConceptScheme

    @link(hop(R.IN_SCHEME, "in"))
    async def concepts(self, info: Info) -> list[ConceptLike]: ...


@strawberry.type
@with_connections
class Concept(ConceptLike):
    _label = L.Concept

    @link(hop(R.DEFINES, "in", L.Definition), description="the study's definition, with its evidence")
    async def definition(self, info: Info) -> Definition | None: ...

    @link(*_ON_CONTINUA, description="continua this concept is a stop of (a pole, or a stop between)")
    async def continua(self, info: Info) -> list[Continuum]: ...

    @link(*_ON_CONTINUA, hop(R.ON_CONTINUUM, "in", L.Placement),
          description="role elements placed on continua this concept is a stop of")
    async def placements(self, info: Info) -> list[Placement]: ...


@strawberry.type
@with_connections
class Continuum(ConceptLike):
    _label = L.Continuum

    @link(hop(R.HAS_LEFT_POLE, "out"), description="the pole at position 0")
    async def left(self, info: Info) -> Concept | None: ...

    @link(hop(R.HAS_RIGHT_POLE, "out"), description="the pole at position 1")
    async def right(self, info: Info) -> Concept | None: ...

    @link(hop(R.ON_CONTINUUM, "in", L.Placement), order="position",
          description="role elements placed on it, from the left pole to the right")
    async def placements(self, info: Info) -> list[Placement]: ...

    @link(hop(R.HAS_STOP, "out", L.ContinuumStop), order="ordinal",
          description="its stops in order, from the left pole to the right (two for a continuum of poles only)")
    async def stops(self, info: Info) -> list[ContinuumStop]: ...


@strawberry.type(description="One of a continuum's ordered stops: a concept at a position on it.")
@with_connections
class ContinuumStop(Entity):
    _label = L.ContinuumStop
    ordinal: int = prop("ordinal", int, "its place in the order, from 0 (the left pole)")
    position: float = prop("position", float, "0 = the first stop (the left pole), 1 = the last (the right pole)")

    @link(hop(R.AT_CONCEPT, "out"))
    async def concept(self, info: Info) -> Concept | None: ...

    @link(hop(R.HAS_STOP, "in"))
    async def continuum(self, info: Info) -> Continuum | None: ...


@strawberry.type
@with_connections
class Definition(Claim):
    _label = L.Definition

    @link(hop(R.DEFINES, "out"))
    async def concept(self, info: Info) -> Concept | None: ...


@strawberry.type
@with_connections
class Method(Claim):
    _label = L.Method


@strawberry.type
@with_connections
class DiscussionPoint(Claim):
    _label = L.DiscussionPoint
    ordinal: int | None = prop("ordinal", int | None)

    @link(hop(R.RAISED_IN, "out"), description="the activity or event where it was raised")
    async def raised_in(self, info: Info) -> Occasion | None: ...

    @link(hop(R.CONCERNS, "out"))
    async def concerns(self, info: Info) -> list[ConceptLike]: ...

    @link(hop(R.AFFECTS, "out"))
    async def affects(self, info: Info) -> list[Stakeholder]: ...

    @link(hop(R.ABOUT_ELEMENT, "out"))
    async def about_elements(self, info: Info) -> list[RoleElement]: ...

    @link(hop(R.INVOLVES, "out"))
    async def involves(self, info: Info) -> list[Actor]: ...


@strawberry.type
@with_connections
class Consequence(Claim):
    _label = L.Consequence
    valence: str = prop("valence", str, "positive or negative")

    @link(hop(R.OF_CONCEPT, "out"))
    async def concept(self, info: Info) -> ConceptLike | None: ...

    @link(hop(R.FOR_STAKEHOLDER, "out"))
    async def stakeholder(self, info: Info) -> Stakeholder | None: ...

    @link(hop(R.RAISED_IN, "out"))
    async def raised_in(self, info: Info) -> Occasion | None: ...


@strawberry.type
@with_connections
class Placement(Claim):
    _label = L.Placement
    position: float = prop("position", float, "0 = the left pole, 1 = the right pole")

    @link(hop(R.PLACES, "out"))
    async def element(self, info: Info) -> RoleElement | None: ...

    @link(hop(R.ON_CONTINUUM, "out"))
    async def continuum(self, info: Info) -> Continuum | None: ...

    @link(hop(R.RAISED_IN, "out"))
    async def raised_in(self, info: Info) -> Occasion | None: ...


@strawberry.type
@with_connections
class Reflection(Claim):
    _label = L.Reflection

    @link(hop(R.RAISED_IN, "out"))
    async def raised_in(self, info: Info) -> Occasion | None: ...


@strawberry.type
@with_connections
class Stakeholder(Entity):
    _label = L.Stakeholder

    @link(hop(R.FOR_STAKEHOLDER, "in", L.Consequence))
    async def consequences(self, info: Info) -> list[Consequence]: ...

    @link(hop(R.AFFECTS, "in", L.DiscussionPoint))
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]: ...

    @link(hop(R.REPRESENTS, "in", L.DelegateGroup))
    async def represented_by(self, info: Info) -> list[DelegateGroup]: ...

    @link(hop(R.ACTOR_IN, "in", L.Actor))
    async def actors(self, info: Info) -> list[Actor]: ...


@strawberry.type
@with_connections
class Actor(Entity):
    _label = L.Actor

    @link(hop(R.ACTOR_IN, "out"))
    async def actor_in(self, info: Info) -> list[Stakeholder]: ...

    @link(hop(R.INVOLVES, "in", L.DiscussionPoint))
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]: ...


@strawberry.type
@with_connections
class Organisation(Entity):
    _label = L.Organisation

    @link(hop(R.MEMBER_OF, "in", L.Person))
    async def members(self, info: Info) -> list[Person]: ...


@strawberry.type
@with_connections
class Person(Entity):
    _label = L.Person

    @link(hop(R.MEMBER_OF, "out"))
    async def member_of(self, info: Info) -> list[Organisation]: ...

    @link(hop(R.PRESENTED_BY, "in", L.Activity))
    async def presented(self, info: Info) -> list[Activity]: ...

    @link(hop(R.CREATED_BY, "in", L.SourceDocument))
    async def documents(self, info: Info) -> list[SourceDocument]: ...


@strawberry.type
@with_connections
class Place(Entity):
    _label = L.Place

    @link(hop(R.AT_LOCATION, "in", L.Event))
    async def events(self, info: Info) -> list[Event]: ...


@strawberry.type
@with_connections
class Event(Occasion):
    _label = L.Event
    date: str | None = prop("date", str | None, "ISO-8601 date or month")
    duration: str | None = prop("duration", str | None, "ISO-8601 duration")
    aims: list[str] = prop("aims", list[str] | None)

    @link(hop(R.AT_LOCATION, "out"))
    async def place(self, info: Info) -> Place | None: ...

    @link(hop(R.PART_OF, "out", L.Study))
    async def part_of(self, info: Info) -> Study | None: ...

    @link(hop(R.PART_OF, "in", L.Activity))
    async def activities(self, info: Info) -> list[Activity]: ...

    @link(hop(R.ATTENDED_BY, "out"))
    async def delegate_groups(self, info: Info) -> list[DelegateGroup]: ...

    @link(hop(R.PART_OF, "in", L.Activity), hop(R.PRESENTED_BY, "out", L.Person),
          description="people who presented in its activities")
    async def presenters(self, info: Info) -> list[Person]: ...

    @link(_AT_EVENT, hop(R.RAISED_IN, "in", L.DiscussionPoint),
          description="points raised at the event or in its activities")
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]: ...

    @link(_AT_EVENT, hop(R.RAISED_IN, "in", L.DiscussionPoint), hop(R.CONCERNS, "out"),
          description="concepts its discussion points concern")
    async def concepts(self, info: Info) -> list[ConceptLike]: ...

    @link(_AT_EVENT, hop(R.RAISED_IN, "in", L.DiscussionPoint), hop(R.AFFECTS, "out", L.Stakeholder),
          description="stakeholders its discussion points affect")
    async def stakeholders(self, info: Info) -> list[Stakeholder]: ...

    @link(hop(R.SUPPORTED_BY, "out", L.EvidenceQuote), order="start")
    async def evidence(self, info: Info) -> list[EvidenceQuote]: ...


@strawberry.type
@with_connections
class Activity(Occasion):
    _label = L.Activity
    activity_kind: str | None = prop("kind", str | None, "presentation, round-table, ...")

    @link(hop(R.PART_OF, "out", L.Event))
    async def event(self, info: Info) -> Event | None: ...

    @link(hop(R.PRESENTED_BY, "out"))
    async def presenters(self, info: Info) -> list[Person]: ...

    @link(hop(R.PRESENTS, "out"))
    async def presents(self, info: Info) -> list[ConceptLike]: ...

    @link(hop(R.RAISED_IN, "in", L.DiscussionPoint))
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]: ...

    @link(hop(R.SUPPORTED_BY, "out", L.EvidenceQuote), order="start")
    async def evidence(self, info: Info) -> list[EvidenceQuote]: ...


@strawberry.type
@with_connections
class DelegateGroup(Entity):
    _label = L.DelegateGroup

    @link(hop(R.REPRESENTS, "out"))
    async def represents(self, info: Info) -> list[Stakeholder]: ...

    @link(hop(R.MEMBER_OF, "out"))
    async def member_of(self, info: Info) -> list[Organisation]: ...

    @link(hop(R.ATTENDED_BY, "in", L.Event))
    async def events(self, info: Info) -> list[Event]: ...


@strawberry.type
@with_connections
class RoleElement(Entity):
    _label = L.RoleElement

    @link(hop(R.PLACES, "in", L.Placement))
    async def placements(self, info: Info) -> list[Placement]: ...

    @link(hop(R.ABOUT_ELEMENT, "in", L.DiscussionPoint))
    async def discussion_points(self, info: Info) -> list[DiscussionPoint]: ...


@strawberry.type
@with_connections
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

    @link(hop(R.IN_DOCUMENT, "in", L.EvidenceQuote), order="start",
          description="its evidence quotes, in document order")
    async def quotes(self, info: Info) -> list[EvidenceQuote]: ...

    @link(hop(R.CREATED_BY, "out"))
    async def creators(self, info: Info) -> list[Entity]: ...


@strawberry.type(description="Text around a quote in its document.")
class TextWindow:
    before: str
    exact: str
    after: str
    start: int
    end: int


@strawberry.type(description="An exact span of a source document (W3C Web Annotation selectors).")
@with_connections
class EvidenceQuote(Entity):
    _label = L.EvidenceQuote
    exact: str = prop("exact", str, "the exact text")
    start: int | None = prop("start", int | None, "offset of the first character (Unicode code points); "
                             "null when the quote is orphaned")
    end: int | None = prop("end", int | None, "offset after the last character (exclusive)")
    prefix: str = prop("prefix", str, "about 32 characters before")
    suffix: str = prop("suffix", str, "about 32 characters after")
    document_sha256: str = prop("documentSha256", str, "checksum of the text the offsets refer to")

    @computed("anchor_status", "how it was placed when its document last changed; EXACT when it never moved")
    def anchor_status(self) -> AnchorStatus:
        return AnchorStatus(self.props.get("anchorStatus") or "exact")

    anchor_score: float | None = prop("anchorScore", float | None,
                                      "similarity (0-1) of the re-anchored text to the previous text")

    @link(hop(R.CODES_TEXT, "in", L.Coding), description="codings of this span (a coded project's codes)")
    async def codings(self, info: Info) -> list[Coding]: ...

    @link(*DOCUMENT_WALK.hops)  # the walk a compiled window is cut on (``read_tree.DocumentPart``)
    async def document(self, info: Info) -> SourceDocument | None: ...

    @computed("window", f"the quote with up to `chars` characters either side (at most {WINDOW_MAX_CHARS})")
    async def window(self, info: Info, chars: int = 200) -> TextWindow | None:
        content = await info.context.loaders.document_text().load(self.props["id"])
        parts = text_window(content, self.props, chars)
        return TextWindow(**parts) if parts else None

    @computed("paragraph", "the quote inside its paragraph (the line of the document it is on)")
    async def paragraph(self, info: Info) -> TextWindow | None:
        content = await info.context.loaders.document_text().load(self.props["id"])
        parts = text_paragraph(content, self.props)
        return TextWindow(**parts) if parts else None

    @link(hop(R.SUPPORTED_BY, "in", *CLAIM_LABELS), description="the claims it supports")
    async def supports(self, info: Info) -> list[Claim]: ...


@strawberry.enum(description="How a quote was placed again after its document changed.")
class AnchorStatus(Enum):
    EXACT = "exact"
    MOVED = "moved"
    FUZZY = "fuzzy"
    ORPHANED = "orphaned"


@strawberry.type(description="A coder applied a code (concept) to a span of text.")
@with_connections
class Coding(Entity):
    _label = L.Coding
    guid: str | None = prop("guid", str | None, "its GUID in the QDA project")

    @link(hop(R.APPLIES_CODE, "out"))
    async def concept(self, info: Info) -> ConceptLike | None: ...

    @link(hop(R.CODES_TEXT, "out", L.EvidenceQuote))
    async def quote(self, info: Info) -> EvidenceQuote | None: ...

    @link(hop(R.CREATED_BY, "out", L.Person), description="who coded it")
    async def coder(self, info: Info) -> Person | None: ...


@strawberry.type(description="A memo or annotation.")
@with_connections
class Note(Entity):
    _label = L.Note
    text: str | None = prop("text", str | None)

    @link(hop(R.ANNOTATES, "out"), description="what it is written about")
    async def annotates(self, info: Info) -> list[Entity]: ...


@strawberry.type(description="A named set of codes, documents or notes.")
@with_connections
class Collection(Entity):
    _label = L.Collection

    @link(hop(R.HAS_MEMBER, "out"))
    async def members(self, info: Info) -> list[Entity]: ...


@strawberry.type(description="A unit of analysis (a participant, a site) with its attributes.")
@with_connections
class Case(Entity):
    _label = L.Case
    attributes: str | None = prop("attributes", str | None, "variables as a JSON object")

    @link(hop(R.HAS_MEMBER, "out"), description="its documents, codes and quotes")
    async def members(self, info: Info) -> list[Entity]: ...


@strawberry.type
@with_connections
class Load(Entity):
    _label = L.Load


@strawberry.type
@with_connections
class Edit(Entity):
    _label = L.Edit
    operation: str | None = prop("operation", str | None)
    agent_name: str | None = prop("agentName", str | None)
    started_at: str | None = prop("startedAt", str | None)


TYPES: dict[L, type[Any]] = {
    L.Study: Study, L.ConceptScheme: ConceptScheme, L.Concept: Concept, L.Definition: Definition,
    L.Continuum: Continuum, L.ContinuumStop: ContinuumStop, L.Stakeholder: Stakeholder, L.Actor: Actor,
    L.Organisation: Organisation,
    L.Person: Person, L.Place: Place, L.Event: Event, L.Activity: Activity, L.DelegateGroup: DelegateGroup,
    L.Method: Method, L.DiscussionPoint: DiscussionPoint, L.Consequence: Consequence,
    L.RoleElement: RoleElement, L.Placement: Placement, L.Reflection: Reflection,
    L.SourceDocument: SourceDocument, L.EvidenceQuote: EvidenceQuote, L.Load: Load, L.Edit: Edit,
    L.Coding: Coding, L.Note: Note, L.Collection: Collection, L.Case: Case,
}
