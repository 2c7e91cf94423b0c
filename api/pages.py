"""The explorer: server-rendered pages (autoescaped Jinja) over the GraphQL API, the pictures at
``/viz/...``, and the static files they need (vis-network from the pyvis package, our script).
HTML responses carry a Content-Security-Policy that forbids inline script."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from kxgraph.api.graphql.execute import GraphQLRunner
from kxgraph.api.viz.builders import KINDS, build_picture
from kxgraph.api.viz.picture import vis_asset
from kxgraph.loaders import embedding
from kxgraph.ontology.vocabulary import NodeLabel, label_of_id

__all__ = ["CSP", "render_standalone", "router"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'")
STATIC = {"kxviz.js": "application/javascript", "kxdoc.js": "application/javascript",
          "kxprint.js": "application/javascript", "kxsuggest.js": "application/javascript", "kx.css": "text/css"}

router = APIRouter()


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``3, "quote"`` -> "3 quotes", ``1, "quote"`` -> "1 quote" (no "quote(s)")."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    folder = resources.files("kxgraph.api") / "templates"
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)),
                                     autoescape=jinja2.select_autoescape(default=True, default_for_string=True))
    environment.filters["counted"] = counted
    return environment


def _static_path(name: str) -> Path:
    return Path(str(resources.files("kxgraph.api") / "static" / name))


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = env().get_template(template).render(q=context.pop("q", None), **context)
    return HTMLResponse(body, status_code=status, headers={"Content-Security-Policy": CSP,
                                                           "X-Content-Type-Options": "nosniff",
                                                           "Referrer-Policy": "same-origin"})


def not_found(what: str) -> HTMLResponse:
    return page("error.html", 404, title="Not found", message=f"There is no {what}.")


def render_standalone(picture: dict[str, Any]) -> str:
    return env().get_template("standalone.html").render(
        picture=picture, vis_js=vis_asset("vis-network.min.js").read_text(encoding="utf-8"),
        vis_css=vis_asset("vis-network.css").read_text(encoding="utf-8"),
        kx_js=_static_path("kxviz.js").read_text(encoding="utf-8"),
        kx_css=_static_path("kx.css").read_text(encoding="utf-8"))


def runner(request: Request) -> GraphQLRunner:
    run: GraphQLRunner = request.app.state.graphql_runner
    return run


async def every_node(run: GraphQLRunner, query: str, field: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of the connection ``field`` of ``query`` (which takes ``$after``), page by page."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        conn = (await run(query, {**variables, "after": after}))[field]
        nodes += conn["nodes"]
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes
        after = conn["pageInfo"]["endCursor"]


STUDIES = "{ studies(first: 100) { nodes { study } } }"


async def unknown_study(run: GraphQLRunner, study: str | None) -> HTMLResponse | None:
    """A page naming the studies there are, when ``study`` is given and is none of them."""
    if study is None:
        return None
    known = [s["study"] for s in (await run(STUDIES))["studies"]["nodes"]]
    if study in known:
        return None
    return page("error.html", 404, title="No such study",
                message=f"There is no study {study!r}. Studies: {', '.join(known) or 'none loaded'}.")


# --- static -------------------------------------------------------------------------------------------
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="5" cy="8" r="3" fill="#1565c0"/>'
           '<circle cx="12" cy="4" r="2.5" fill="#ef6c00"/><circle cx="12" cy="12" r="2.5" fill="#f9a825"/></svg>')


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


GRAPHIQL_TYPES = {".js": "application/javascript", ".css": "text/css"}


@router.get("/static/graphiql/{name}", include_in_schema=False)
async def graphiql_static(name: str) -> Response:
    path = _static_path("graphiql") / name
    if "/" in name or name.startswith(".") or path.suffix not in GRAPHIQL_TYPES or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, media_type=GRAPHIQL_TYPES[path.suffix],
                        headers={"Cache-Control": "max-age=86400"})


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    if name in STATIC:
        return FileResponse(_static_path(name), media_type=STATIC[name])
    if name in ("vis-network.min.js", "vis-network.css"):
        media = "application/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(vis_asset(name), media_type=media)
    return Response(status_code=404)


# --- pages -------------------------------------------------------------------------------------------
INDEX = "{ studies(first: 100) { nodes { id study name description } } }"
#: what the home page lists of each study: the first few of each kind, and how many there are
STUDY_LISTS = """query($s: String) {
  concepts(first: 60, filter: {study: $s}) { totalCount nodes { id name } }
  stakeholders(first: 60, filter: {study: $s}) { totalCount nodes { id name } }
  events(first: 60, filter: {study: $s}) { totalCount nodes { id name date } }
  documents(first: 60, filter: {study: $s}) { totalCount nodes { id title } } }"""

Q_FIELDS = "fragment Q on EvidenceQuote { exact start end window: paragraph { before after } document { id title } }"


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request) -> HTMLResponse:
    run = runner(request)
    studies = []
    for s in (await run(INDEX))["studies"]["nodes"]:
        lists = await run(STUDY_LISTS, {"s": s["study"]})
        studies.append({**s, **{k: v["nodes"] for k, v in lists.items()},
                        "more": {k: v["totalCount"] - len(v["nodes"]) for k, v in lists.items()}})
    return page("index.html", title="Studies", studies=studies)


PAGE_OF = {NodeLabel.Concept: "concept", NodeLabel.Stakeholder: "stakeholder", NodeLabel.Event: "event",
           NodeLabel.SourceDocument: "document", NodeLabel.DiscussionPoint: "claim",
           NodeLabel.Consequence: "claim", NodeLabel.Definition: "claim", NodeLabel.Placement: "claim",
           NodeLabel.Reflection: "claim", NodeLabel.Method: "claim"}


def url_of(ident: str, kind: str | None = None) -> str:
    label = NodeLabel(kind) if kind in NodeLabel.__members__ else label_of_id(ident)
    if label in PAGE_OF:
        return f"/{PAGE_OF[label]}/{ident}"
    return f"/viz/neighbourhood?focus={ident}"


SEARCH_MODES = {"words": "WORDS", "meaning": "MEANING", "both": "BOTH"}


def quote_url(ident: str) -> str:
    """A quote in its document (``<study>/quote/<document>/<start>-<end>``: the document page, scrolled
    to the quote)."""
    study, rest = ident.split("/quote/", 1)
    document, span = rest.split("/", 1)
    return f"/document/{study}/document/{document}#q-{span}"


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
async def search(request: Request, q: str = Query("", max_length=500),
                 by: str = Query("words", pattern="^(words|meaning|both)$")) -> HTMLResponse:
    hits = []
    off = embedding.unavailable()
    if off:  # the switch says how to turn meaning on
        by = "words"
    if q.strip():
        data = await runner(request)("""query($t: String!, $m: SearchMode!) { search(text: $t, limit: 50, mode: $m) {
            kind snippet via { text }
            node { id study name ... on EvidenceQuote { supports { id kind name text } } } } }""",
                                     {"t": q, "m": SEARCH_MODES[by]})
        for h in data["search"]:
            node = h["node"]
            if h["kind"] == "EvidenceQuote":
                # found by meaning through the claim it backs: say which
                why = f"evidence for: {h['via']['text']}" if h.get("via") else ""
                hits.append({"kind": "Quote", "title": h["snippet"], "snippet": why, "study": node["study"],
                             "url": quote_url(node["id"])})
            else:
                hits.append({"kind": h["kind"], "title": node.get("name") or h["snippet"], "snippet": h["snippet"],
                             "study": node["study"], "url": url_of(node["id"], h["kind"])})
    return page("search.html", title=f"Search {q}", q=q, hits=hits, by=by, meaning_off=off)


SUGGEST = """query($t: String!) { search(text: $t, limit: 12, prefix: true) { kind node { id name study } } }"""


@router.get("/suggest", include_in_schema=False)
async def suggest(request: Request, q: str = Query("", max_length=100)) -> JSONResponse:
    """What the search box offers as you type: names of concepts, stakeholders and claims whose
    words start like the last word typed (the words before it must match as they are)."""
    words = q.split()
    if not words or len(words[-1]) < 2:
        return JSONResponse([])
    data = await runner(request)(SUGGEST, {"t": q})
    seen: dict[str, dict[str, str]] = {}
    for h in data["search"]:
        name = h["node"].get("name")
        if name and name not in seen and h["kind"] != "EvidenceQuote":
            seen[name] = {"name": name, "kind": h["kind"], "study": h["node"]["study"],
                          "url": url_of(h["node"]["id"], h["kind"])}
    return JSONResponse(list(seen.values())[:8])


CONCEPT = """query($id: ID!) { concept(id: $id) { id name study definitionText
  definition { text evidence { ...Q } }
  broader { id name } narrower { id name } codedQuotes { ...Q }
  continua { name stops { concept { id name } } }
  discussionPoints { text raisedIn { name ... on Activity { event { name } } } affects { id name } evidence { ...Q } }
  consequences { valence text stakeholder { id name } evidence { ...Q } }
  placements { position text element { name } continuum { name } evidence { ...Q } } } } """ + Q_FIELDS


@router.get("/concept/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
async def concept(request: Request, ident: str) -> HTMLResponse:
    run = runner(request)
    data = await run(CONCEPT, {"id": ident})
    if data["concept"] is None:
        return not_found(f"concept {ident!r}")
    picture = (await build_picture(run, "evidence-trail", focus=ident)).network_data()
    return page("concept.html", title=data["concept"]["name"], c=data["concept"], picture=picture)


STAKEHOLDER = """query($id: ID!) { stakeholder(id: $id) { id name study description
    discussionPoints { id text concerns { id name } raisedIn { name ... on Activity { event { id name } } }
      evidence { ...Q } } }
  stakeholderConsequences(stakeholder: $id) { concept { id name } valence count
    consequences { text evidence { ...Q } } } } """ + Q_FIELDS


@router.get("/stakeholder/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
async def stakeholder(request: Request, ident: str) -> HTMLResponse:
    data = await runner(request)(STAKEHOLDER, {"id": ident})
    if data["stakeholder"] is None:
        return not_found(f"stakeholder {ident!r}")
    return page("stakeholder.html", title=data["stakeholder"]["name"], s=data["stakeholder"],
                groups=data["stakeholderConsequences"])


EVENT = """query($id: ID!) { event(id: $id) { id name date duration aims place { name }
  delegateGroups { name } activities { name activityKind presenters { name }
  discussionPoints { text concerns { id name } } } } }"""


@router.get("/event/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
async def event(request: Request, ident: str) -> HTMLResponse:
    run = runner(request)
    data = await run(EVENT, {"id": ident})
    if data["event"] is None:
        return not_found(f"event {ident!r}")
    picture = (await build_picture(run, "event-map", focus=ident)).network_data()
    return page("event.html", title=data["event"]["name"], e=data["event"], picture=picture)


DOCUMENT = """query($id: ID!) { document(id: $id) { id title study length sha256 source text
  quotes { id start end exact supports { id kind name text } } } }"""


def segments(text: str, quotes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text cut at every quote boundary; each piece knows the quotes that cover it."""
    cuts = sorted({0, len(text), *(q["start"] for q in quotes), *(q["end"] for q in quotes)})
    out = []
    for a, b in pairwise(cuts):
        covering = [q for q in quotes if q["start"] <= a and b <= q["end"]]
        first = next((q for q in covering if q["start"] == a), None)
        title = "; ".join(f"{s['kind']}: {s.get('text') or s.get('name') or ''}"[:160]
                          for q in covering for s in q["supports"])
        claims = [s["id"] for q in covering for s in q["supports"]]
        out.append({"text": text[a:b], "quotes": [q["id"] for q in covering], "title": title,
                    "spans": " ".join(f"q-{q['start']}-{q['end']}" for q in covering),
                    "anchor": f"q-{first['start']}-{first['end']}" if first else "",
                    "claim": f"/claim/{claims[0]}" if claims else ""})
    return out


@router.get("/document/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
async def document(request: Request, ident: str) -> HTMLResponse:
    data = await runner(request)(DOCUMENT, {"id": ident})
    d = data["document"]
    if d is None:
        return not_found(f"document {ident!r}")
    return page("document.html", title=d["title"], d=d, quotes=len(d["quotes"]),
                segments=segments(d["text"], d["quotes"]))


MATRIX = """query($study: String) { consequenceMatrix(study: $study) { concepts { id name }
  stakeholders { id name } cells { concept { id } stakeholder { id } positive negative total } } }"""


@router.get("/matrix", response_class=HTMLResponse, include_in_schema=False)
async def matrix(request: Request, study: str | None = None) -> HTMLResponse:
    run = runner(request)
    missing = await unknown_study(run, study)
    if missing is not None:
        return missing
    m = (await run(MATRIX, {"study": study}))["consequenceMatrix"]
    cells = {(c["concept"]["id"], c["stakeholder"]["id"]): c for c in m["cells"]}
    points, named = await discussion_point_counts(run, study)
    for key, kind in (("concepts", 0), ("stakeholders", 1)):  # rows and columns with discussion points only
        have = {x["id"] for x in m[key]}
        extra = {pair[kind]: named[pair[kind]] for pair in points if pair[kind] not in have}
        m[key] = sorted([*m[key], *({"id": i, "name": n} for i, n in extra.items())], key=lambda x: x["name"])
    picture = (await build_picture(run, "consequence-map", study=study)).network_data()
    return page("matrix.html", title="Consequence matrix", m=m, cells=cells, points=points, picture=picture,
                study=study)


POINTS = """query($study: String, $after: String) {
  discussionPoints(first: 100, after: $after, filter: {study: $study}) {
    nodes { concerns { id name } affects { id name } } pageInfo { hasNextPage endCursor } } }"""


async def discussion_point_counts(run: GraphQLRunner,
                                  study: str | None) -> tuple[dict[tuple[str, str], int], dict[str, str]]:
    """(concept, stakeholder) -> how many discussion points concern the one and affect the other;
    and the names of those concepts and stakeholders."""
    counts: dict[tuple[str, str], int] = {}
    names: dict[str, str] = {}
    for d in await every_node(run, POINTS, "discussionPoints", {"study": study}):
        names.update({x["id"]: x["name"] for x in d["concerns"] + d["affects"]})
        for c in d["concerns"]:
            for s in d["affects"]:
                counts[(c["id"], s["id"])] = counts.get((c["id"], s["id"]), 0) + 1
    return counts, names


WHERE = "fragment Where on Occasion { name ... on Activity { event { id name } } ... on Event { id } }"
CELL = """query($s: ID!) { stakeholder(id: $s) { id name study
    discussionPoints { id text concerns { id } raisedIn { ...Where } evidence { ...Q } } }
  stakeholderConsequences(stakeholder: $s) { concept { id name } valence
    consequences { id text raisedIn { ...Where } evidence { ...Q } } } } """ + Q_FIELDS + WHERE


@router.get("/consequences", response_class=HTMLResponse, include_in_schema=False)
async def consequences(request: Request, concept: str = Query(..., max_length=500),
                       stakeholder: str = Query(..., max_length=500)) -> HTMLResponse:
    """One cell of the matrix: a concept's consequences for a stakeholder, good and bad, each with
    its quotes in context and where it was raised."""
    data = await runner(request)(CELL, {"s": stakeholder})
    s = data["stakeholder"]
    if s is None:
        return not_found(f"stakeholder {stakeholder!r}")
    groups = [g for g in data["stakeholderConsequences"] if g["concept"]["id"] == concept]
    named = next((g["concept"] for g in groups), None)
    if named is None:
        found = await runner(request)("query($id: ID!) { node(id: $id) { id name } }", {"id": concept})
        if found["node"] is None:
            return not_found(f"concept {concept!r}")
        named = found["node"]
    by = {v: [k for g in groups if g["valence"] == v for k in g["consequences"]] for v in ("positive", "negative")}
    points = [d for d in s["discussionPoints"] if any(c["id"] == concept for c in d["concerns"])]
    return page("consequences.html", title=f"{named['name']} for {s['name']}", s=s, concept=named,
                positive=by["positive"], negative=by["negative"], points=points)


CLAIM = """query($id: ID!) { node(id: $id) { id study kind
  ... on Claim { text evidence { ...Q } }
  ... on DiscussionPoint { raisedIn { ...Where } concerns { id name } affects { id name } }
  ... on Consequence { valence raisedIn { ...Where } concept { id name } stakeholder { id name } }
  ... on Placement { position raisedIn { ...Where } element { name } continuum { id name } }
  ... on Reflection { raisedIn { ...Where } }
  ... on Definition { concept { id name } } } } """ + Q_FIELDS + WHERE


@router.get("/claim/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
async def claim(request: Request, ident: str) -> HTMLResponse:
    """Any claim (discussion point, consequence, definition, placement, reflection) with its evidence."""
    data = await runner(request)(CLAIM, {"id": ident})
    k = data["node"]
    if k is None or "text" not in k:
        return not_found(f"claim {ident!r}")
    similar = []
    if embedding.unavailable() is None:  # evidence elsewhere that says the same in other words
        found = await runner(request)("""query($id: ID!) { similar(id: $id, limit: 5) { kind snippet score
            node { id } } }""", {"id": ident})
        similar = [{"kind": h["kind"], "snippet": h["snippet"], "score": h["score"],
                    "url": quote_url(h["node"]["id"]) if h["kind"] == "EvidenceQuote" and "/quote/" in h["node"]["id"]
                    else url_of(h["node"]["id"], h["kind"])} for h in found["similar"]]
    return page("claim.html", title=k["text"][:80], k=k, similar=similar)


BRIEF = """query($s: ID!) { stakeholder(id: $s) { id name study description
    discussionPoints { id text concerns { id name } raisedIn { ...Where } evidence { ...Q } } }
  stakeholderConsequences(stakeholder: $s) { valence
    concept { id name ... on Concept { definition { text evidence { ...Q } } } }
    consequences { id text raisedIn { ...Where } evidence { ...Q } } } } """ + Q_FIELDS + WHERE
STUDY_NAME = "query($id: ID!) { study(id: $id) { name } }"


@router.get("/brief/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
async def brief(request: Request, ident: str, download: bool = False) -> Response:
    """One stakeholder's brief, to print or send on: for every concept that matters to them, the
    consequences good and bad and the discussion points about it, each claim followed by its
    quotes with document, position and where it was raised. Every sentence is cited."""
    run = runner(request)
    data = await run(BRIEF, {"s": ident})
    s = data["stakeholder"]
    if s is None:
        return not_found(f"stakeholder {ident!r}")
    concepts: dict[str, dict[str, Any]] = {}

    def of(concept: dict[str, Any]) -> dict[str, Any]:
        return concepts.setdefault(concept["id"], {"id": concept["id"], "name": concept["name"],
                                                   "definition": concept.get("definition"),
                                                   "positive": [], "negative": [], "points": []})
    for g in data["stakeholderConsequences"]:
        of(g["concept"])[g["valence"]].extend(g["consequences"])
    for d in s["discussionPoints"]:
        for c in d["concerns"]:
            of(c)["points"].append(d)
    study = (await run(STUDY_NAME, {"id": f"{s['study']}/study/{s['study']}"}))["study"]
    body = page("brief.html", title=f"Brief: {s['name']}", s=s, study=study["name"] if study else s["study"],
                concepts=sorted(concepts.values(), key=lambda c: c["name"]), standalone=download,
                css=_static_path("kx.css").read_text(encoding="utf-8") if download else "")
    if download:
        body.headers["Content-Disposition"] = f'attachment; filename="brief-{ident.rsplit("/", 1)[-1]}.html"'
    return body


CODEBOOK = """query($study: String, $after: String) {
  concepts(first: 100, after: $after, filter: {study: $study}) { pageInfo { hasNextPage endCursor }
    nodes { id name study definitionText broader { id } } } }"""


@router.get("/codebook", response_class=HTMLResponse, include_in_schema=False)
async def codebook(request: Request, study: str | None = None) -> HTMLResponse:
    """The concepts as the tree their nesting (``broader``) makes, each branch folding away: an
    imported codebook as its program showed it. Every concept, no cap."""
    run = runner(request)
    missing = await unknown_study(run, study)
    if missing is not None:
        return missing
    concepts = await every_node(run, CODEBOOK, "concepts", {"study": study})
    known = {c["id"] for c in concepts}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for c in concepts:
        parents = [b["id"] for b in c["broader"] if b["id"] in known]
        children.setdefault(sorted(parents)[0] if parents else None, []).append(c)
    for items in children.values():
        items.sort(key=lambda c: c["name"].lower())
    return page("codebook.html", title="Codebook", children=children, total=len(concepts), study=study)


@router.get("/node/{ident:path}", include_in_schema=False)
async def node(ident: str) -> RedirectResponse:
    return RedirectResponse(url_of(ident), status_code=307)


# --- pictures ------------------------------------------------------------------------------------
@router.get("/viz/{kind}", include_in_schema=False)
async def viz(request: Request, kind: str, focus: str | None = None, study: str | None = None,
              depth: int = Query(1, ge=1, le=3), limit: int = Query(150, ge=1, le=500),
              format: str = Query("page", pattern="^(page|json|html)$")) -> Response:
    if kind not in KINDS:
        return not_found(f"picture {kind!r} (pictures: {', '.join(KINDS)})")
    if kind in ("evidence-trail", "event-map", "neighbourhood") and not focus:
        return page("error.html", 400, title="Which one?",
                    message=f"The {kind} picture needs ?focus=<id>, e.g. link-worker/concept/holding.")
    missing = await unknown_study(runner(request), study)
    if missing is not None:
        return missing
    picture = await build_picture(runner(request), kind, focus=focus, study=study, depth=depth, limit=limit)
    data = picture.network_data()
    if format == "json":
        return JSONResponse(data)
    if format == "html":
        return HTMLResponse(picture.standalone_html(), headers={
            "Content-Disposition": f'attachment; filename="{kind}.html"', "Content-Security-Policy":
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"})
    with_format = request.url.include_query_params(format="html")
    download = f"{with_format.path}?{with_format.query}"  # relative: pages name no host
    more = None
    if picture.cut and limit < 500:
        bigger = request.url.include_query_params(limit=500)
        more = f"{bigger.path}?{bigger.query}"
    return page("viz.html", title=picture.title, picture=data, download=download, more=more, depth=depth)
