"""The pictures, each built from a GraphQL query of the API (the same questions users ask)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kxgraph.api.viz.picture import Picture
from kxgraph.api.viz.style import NEGATIVE, POSITIVE

__all__ = ["KINDS", "build_picture"]

Run = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def _quote_label(q: dict[str, Any]) -> str:
    return f"“{q['exact']}”"


#: concepts per request: each brings its continua and their stops, within the request's cost budget
PAGE = 50
CONCEPT_PAGE = """query($study: String, $after: String, $first: Int!) {
  concepts(first: $first, after: $after, filter: {study: $study}) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id name definitionText study broader { id }
      related { id } continua { id name description stops { concept { id } } } } } }"""


async def concept_map(run: Run, study: str | None, limit: int = 150, **_: Any) -> Picture:
    """Every concept (up to ``limit``, saying so when there are more), with the codebook's nesting
    (``broader``), related concepts and continua."""
    concepts: list[dict[str, Any]] = []
    after, total = None, 0
    while len(concepts) < limit:
        page = (await run(CONCEPT_PAGE, {"study": study, "after": after,
                                         "first": min(PAGE, limit - len(concepts))}))["concepts"]
        concepts += page["nodes"]
        total = page["totalCount"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    title = f"Concepts{' of ' + study if study else ''}"
    if total > len(concepts):
        title += f" - showing {len(concepts)} of {total}"
    pic = Picture("concept-map", title, cut=total > len(concepts))
    shown = {c["id"] for c in concepts}
    for c in concepts:
        pic.node(c["id"], "Concept", c["name"], c.get("definitionText") or "", url=f"/concept/{c['id']}")
    for c in concepts:
        for k in c["continua"]:
            pic.node(k["id"], "Continuum", k["name"], k.get("description") or "", url=f"/node/{k['id']}")
            stops, last = k["stops"], len(k["stops"]) - 1
            for i, stop in enumerate(stops):
                where = "left pole" if i == 0 else "right pole" if i == last else f"stop {i + 1} of {last + 1}"
                pic.edge(k["id"], stop["concept"]["id"], where)
        for r in c["related"]:
            if r["id"] in shown:
                pic.edge(c["id"], r["id"], "related")
        for b in c["broader"]:
            if b["id"] in shown:
                pic.edge(c["id"], b["id"], "broader")
    return pic


async def consequence_map(run: Run, study: str | None, **_: Any) -> Picture:
    data = await run("""query($study: String) { consequenceMatrix(study: $study) {
      cells { concept { id name } stakeholder { id name } positive negative total } } }""", {"study": study})
    pic = Picture("consequence-map", "Consequences of concepts for stakeholders",
                  edge_legend=[("positive consequence", POSITIVE), ("negative consequence", NEGATIVE)])
    for cell in data["consequenceMatrix"]["cells"]:
        c, s = cell["concept"], cell["stakeholder"]
        pic.node(c["id"], "Concept", c["name"], url=f"/concept/{c['id']}")
        pic.node(s["id"], "Stakeholder", s["name"], url=f"/stakeholder/{s['id']}")
        for valence, colour in (("positive", POSITIVE), ("negative", NEGATIVE)):
            n = cell[valence]
            if n:
                pic.edge(c["id"], s["id"], f"{n} {valence}", colour=colour, width=1 + 2 * n,
                         dashed=valence == "negative",
                         title=f"{n} {valence} consequence{'' if n == 1 else 's'} of {c['name']} for {s['name']}")
    return pic


async def evidence_trail(run: Run, focus: str | None, **_: Any) -> Picture:
    data = await run("""query($id: ID!) { concept(id: $id) { id name definitionText
      definition { id text evidence { ...Q } }
      discussionPoints { id text evidence { ...Q } }
      consequences { id text valence evidence { ...Q } } } }
      fragment Q on EvidenceQuote { id exact start end document { id title } }""", {"id": focus})
    concept = data["concept"]
    pic = Picture("evidence-trail", f"Evidence for {concept['name'] if concept else focus}", focus=focus)
    if concept is None:
        return pic
    # a trail, in layers from left to right: the concept, its claims, their quotes, the documents
    pic.node(concept["id"], "Concept", concept["name"], concept.get("definitionText") or "",
             url=f"/concept/{concept['id']}", level=0)
    claims: list[tuple[str, dict[str, Any]]] = []
    if concept["definition"]:
        claims.append(("Definition", concept["definition"]))
    claims += [("DiscussionPoint", d) for d in concept["discussionPoints"]]
    claims += [("Consequence", c) for c in concept["consequences"]]
    for kind, claim in claims:
        pic.node(claim["id"], kind, claim["text"], claim.get("valence") or "", url=f"/claim/{claim['id']}", level=1)
        pic.edge(concept["id"], claim["id"], kind.lower() if kind == "Definition" else "")
        for q in claim["evidence"]:
            doc = q["document"]
            pic.node(q["id"], "EvidenceQuote", _quote_label(q), f"characters {q['start']}-{q['end']}",
                     url=f"/document/{doc['id']}#q-{q['start']}-{q['end']}", level=2)
            pic.edge(claim["id"], q["id"], "supported by")
            pic.node(doc["id"], "SourceDocument", doc["title"], url=f"/document/{doc['id']}", level=3)
            pic.edge(q["id"], doc["id"], "in")
    return pic


async def event_map(run: Run, focus: str | None, **_: Any) -> Picture:
    data = await run("""query($id: ID!) { event(id: $id) { id name date
      activities { id name activityKind discussionPoints { id text concerns { id name kind }
        affects { id name } } } } }""", {"id": focus})
    event = data["event"]
    pic = Picture("event-map", event["name"] if event else str(focus), focus=focus)
    if event is None:
        return pic
    pic.node(event["id"], "Event", event["name"], event.get("date") or "", url=f"/event/{event['id']}")
    for a in event["activities"]:
        pic.node(a["id"], "Activity", a["name"], a.get("activityKind") or "")
        pic.edge(event["id"], a["id"], "")
        for d in a["discussionPoints"]:
            pic.node(d["id"], "DiscussionPoint", d["text"])
            pic.edge(a["id"], d["id"], "raised")
            for c in d["concerns"]:
                pic.node(c["id"], c["kind"], c["name"], url=f"/concept/{c['id']}")
                pic.edge(d["id"], c["id"], "concerns")
            for s in d["affects"]:
                pic.node(s["id"], "Stakeholder", s["name"], url=f"/stakeholder/{s['id']}")
                pic.edge(d["id"], s["id"], "affects")
    return pic


async def neighbourhood(run: Run, focus: str | None, depth: int = 1, limit: int = 150, **_: Any) -> Picture:
    data = await run("""query($id: ID!, $depth: Int!, $limit: Int!) {
      neighbourhood(id: $id, depth: $depth, limit: $limit) { truncated
        nodes { id kind name depth } edges { source target type } } }""",
                     {"id": focus, "depth": depth, "limit": limit})
    hood = data["neighbourhood"]
    steps = f"{depth} step{'' if depth == 1 else 's'}"
    pic = Picture("neighbourhood", f"Around {focus} ({steps})", focus=focus)
    if hood is None:
        return pic
    pic.title = next((f"Around {n['name']} ({steps})" for n in hood["nodes"] if n["depth"] == 0), pic.title)
    for n in hood["nodes"]:
        steps = "the focus" if n["depth"] == 0 else f"{n['depth']} step{'' if n['depth'] == 1 else 's'} from the focus"
        pic.node(n["id"], n["kind"], n["name"], steps,
                 size=30 if n["depth"] == 0 else None)
    for e in hood["edges"]:
        pic.edge(e["source"], e["target"], e["type"].lower().replace("_", " "))
    if hood["truncated"]:
        pic.title += f" - first {limit} nodes"
        pic.cut = True
    return pic


KINDS: dict[str, Callable[..., Awaitable[Picture]]] = {
    "concept-map": concept_map,
    "consequence-map": consequence_map,
    "evidence-trail": evidence_trail,
    "event-map": event_map,
    "neighbourhood": neighbourhood,
}


async def build_picture(run: Run, kind: str, *, focus: str | None = None, study: str | None = None,
                        depth: int = 1, limit: int = 150) -> Picture:
    return await KINDS[kind](run, focus=focus, study=study, depth=depth, limit=limit)
