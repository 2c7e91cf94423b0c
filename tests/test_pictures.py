"""The pictures and the explorer pages, over HTTP (no browser): content, safety headers, offline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kxgraph.api.app import create_app
from kxgraph.api.viz.picture import LAYOUT_ON_SERVER_ABOVE, Picture
from kxgraph.graph.store import Store
from kxgraph.loaders.pipeline import load
from kxgraph.settings import Settings
from tests.helpers import BUNDLED, ROOT, shared_load

pytestmark = pytest.mark.anyio
HOSTILE = ROOT / "tests" / "data" / "hostile-study"
PAGES = ["/", "/search?q=holding", "/concept/link-worker/concept/holding",
         "/stakeholder/link-worker/stakeholder/gps-and-hcps", "/event/link-worker/event/exeter-event",
         "/document/link-worker/document/exeter-blog", "/matrix", "/viz/concept-map",
         "/viz/consequence-map", "/viz/evidence-trail?focus=link-worker/concept/holding",
         "/viz/event-map?focus=link-worker/event/exeter-event",
         "/viz/neighbourhood?focus=link-worker/concept/holding&depth=2",
         "/concept/hostile/concept/tricky", "/document/hostile/document/notes"]
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
async def both_studies(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Store]:
    """The bundled and the hostile study in a store of each backend (``tests.helpers.shared_load``)."""
    async with shared_load(request, [BUNDLED, HOSTILE]) as s:
        yield s


@pytest.fixture
async def http(both_studies: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(load_bundled_study=False), store=both_studies)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def picture(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    r = await http.get(path + ("&" if "?" in path else "?") + "format=json")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


@pytest.mark.sweep(neo4j=3)
@pytest.mark.parametrize("path", PAGES)
async def test_pages_load_with_csp_and_refer_to_nothing_outside(http: httpx.AsyncClient, path: str) -> None:
    r = await http.get(path)
    assert r.status_code == 200, r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert not EXTERNAL.search(r.text), EXTERNAL.search(r.text)
    # no inline script: only external files from this app and JSON data blocks
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag


async def test_markup_in_the_data_is_text_everywhere(http: httpx.AsyncClient) -> None:
    for path in ("/concept/hostile/concept/tricky", "/document/hostile/document/notes", "/",
                 "/search?q=pasted", "/stakeholder/hostile/stakeholder/mallory"):
        body = (await http.get(path)).text
        assert "<script>alert(" not in body and "<img src=x" not in body and "<b onmouseover" not in body
    body = (await http.get("/concept/hostile/concept/tricky")).text
    assert "&lt;script&gt;alert(&#39;concept&#39;)&lt;/script&gt;Tricky holding" in body
    data = await picture(http, "/viz/neighbourhood?focus=hostile/concept/tricky&depth=2")
    labels = {n["name"] for n in data["nodes"]}
    assert "<script>alert('concept')</script>Tricky holding" in labels  # kept as data, drawn as text


async def test_each_picture_has_its_nodes_legend_and_click_through(http: httpx.AsyncClient) -> None:
    cmap = await picture(http, "/viz/concept-map?study=link-worker")
    names = {n["name"] for n in cmap["nodes"]}
    assert {"Holding", "Discretion", "Boundaries", "Belonging", "Fitting in", "Patient readiness",
            "Discretion to boundaries", "Belonging versus fitting in"} <= names
    assert {e["label"] for e in cmap["edges"]} >= {"left pole", "right pole"}
    assert {item["kind"] for item in cmap["legend"]} == {"Concept", "Continuum"}
    cons = await picture(http, "/viz/consequence-map?study=link-worker")
    colours = {e["color"] for e in cons["edges"]}
    assert len(colours) == 2 and all(e["width"] > 1 for e in cons["edges"])
    assert "positive consequence" in {item["kind"] for item in cons["legend"]}
    trail = await picture(http, "/viz/evidence-trail?focus=link-worker/concept/holding")
    kinds = {n["kind"] for n in trail["nodes"]}
    assert kinds == {"Concept", "Definition", "DiscussionPoint", "Consequence", "EvidenceQuote", "SourceDocument"}
    event = await picture(http, "/viz/event-map?focus=link-worker/event/exeter-event")
    assert sum(n["kind"] == "DiscussionPoint" for n in event["nodes"]) == 9
    for data in (cmap, cons, trail, event):
        for n in data["nodes"]:
            assert n["url"].startswith("/") and n["title"].startswith(n["kind"])


async def test_big_pictures_are_laid_out_on_the_server() -> None:
    pic = Picture("neighbourhood", "big", focus="n0")
    for i in range(LAYOUT_ON_SERVER_ABOVE + 50):
        pic.node(f"n{i}", "Concept", f"<b>node {i}</b>")
        if i:
            pic.edge(f"n{(i - 1) // 3}", f"n{i}")
    data = pic.network_data()
    assert data["options"]["physics"]["enabled"] is False
    assert all("x" in n and "y" in n for n in data["nodes"])
    assert len({(n["x"], n["y"]) for n in data["nodes"]}) == len(data["nodes"])
    small = Picture("neighbourhood", "small")
    small.node("a", "Concept", "a")
    assert small.network_data()["options"]["physics"]["enabled"] is True


async def test_standalone_files_inline_everything(http: httpx.AsyncClient) -> None:
    r = await http.get("/viz/concept-map", params={"format": "html"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    html = r.text
    assert "vis.Network" in html and "kxNetworks" in html
    assert not EXTERNAL.search(html)
    assert "<script src=" not in html and "<link" not in html
    pic = Picture("concept-map", "t")
    pic.node("x", "Concept", "</script><script>alert(1)</script>")
    out = pic.standalone_html()
    assert "</script><script>alert(1)" not in out  # data goes through tojson: '<' escaped
    assert pic._repr_html_().startswith("<iframe srcdoc=")


async def test_unknown_pictures_and_pages_say_so(http: httpx.AsyncClient) -> None:
    assert (await http.get("/viz/pie-chart")).status_code == 404
    r = await http.get("/viz/evidence-trail")
    assert r.status_code == 400 and "focus" in r.text
    assert (await http.get("/concept/link-worker/concept/nothing")).status_code == 404
    r = await http.get("/node/link-worker/concept/holding", follow_redirects=False)
    assert r.headers["location"] == "/concept/link-worker/concept/holding"


async def test_the_concept_map_draws_the_codebook_nesting_and_says_what_it_leaves_out(store: Store) -> None:
    import tempfile
    from pathlib import Path

    from tests.test_refi_qda import FIXTURE, make_qdpx

    await load(store, [BUNDLED])
    with tempfile.TemporaryDirectory() as tmp:
        await load(store, [make_qdpx(FIXTURE, Path(tmp) / "interviews.qdpx")], study_id="interviews")
    app = create_app(Settings(load_bundled_study=False), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        data = await picture(http, "/viz/concept-map?study=interviews")
        names = {n["id"]: n["label"] for n in data["nodes"]}
        broader = {(names[e["from"]], names[e["to"]]) for e in data["edges"] if e["label"] == "broader"}
        assert broader == {("Holding", "Relationships"), ("Time pressure", "Relationships")}
        assert "showing" not in data["title"]
        few = await picture(http, "/viz/concept-map?limit=3")
        total = (await store.read("MATCH (c:Concept) RETURN count(c) AS n"))[0]["n"]
        assert len([n for n in few["nodes"] if n["kind"] == "Concept"]) == 3
        assert f"showing 3 of {total}" in few["title"]
        page = (await http.get("/viz/concept-map?limit=3")).text
        assert '<a href="/viz/concept-map?limit=500">show up to 500</a>' in page  # a way to see the rest
        assert "show up to 500" not in (await http.get("/viz/concept-map?study=interviews")).text
        hood = await picture(http, "/viz/neighbourhood?focus=link-worker/concept/holding&depth=2")
        titles = [n["title"] for n in hood["nodes"]]
        for detail in ("the focus", " 1 step from the focus", " 2 steps from the focus"):
            assert any(t.endswith(detail) for t in titles), detail
        assert not any("step(s)" in t for t in titles)


async def test_no_silent_caps_a_codebook_of_70_codes(store: Store, tmp_path: Any) -> None:
    codes = "".join(f'<Code guid="c0000000-0000-4000-8000-{i:012d}" name="Code {i:02d}" isCodable="true"/>'
                    for i in range(70))
    qdc = tmp_path / "book.qdc"
    qdc.write_text(f'<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes>'
                   "</CodeBook>", encoding="utf-8")
    await load(store, [qdc], study_id="book")
    app = create_app(Settings(load_bundled_study=False), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        home = (await http.get("/")).text
        assert home.count('href="/concept/book/concept/') == 60
        assert 'href="/viz/concept-map?study=book&amp;limit=500">and 10 more</a>' in home
        everything = await picture(http, "/viz/concept-map?study=book&limit=500")
        assert len(everything["nodes"]) == 70 and "showing" not in everything["title"]
        some = await picture(http, "/viz/concept-map?study=book")
        assert len(some["nodes"]) == 70  # under the default limit of 150: all of them


def test_every_label_drawn_inside_a_shape_reads_at_wcag_aa() -> None:
    """Labels inside their shape (boxes, ellipses) get the text colour with the more contrast,
    4.5:1 at least (WCAG AA); kinds that share a colour are told apart by their shape."""
    from kxgraph.api.viz.picture import LABEL_INSIDE, contrast
    from kxgraph.api.viz.style import STYLE

    pic = Picture("t", "t")
    for kind in STYLE:
        pic.node(kind, kind, kind)
    for n in pic.nodes:
        if n["shape"] in LABEL_INSIDE:
            assert contrast(n["color"], n["font"]["color"]) >= 4.5, n["kind"]
    styles = list(STYLE.values())
    assert len(set(styles)) == len(styles) - 1  # the study and its scheme alone look alike


async def test_the_codebook_is_a_tree_and_the_evidence_trail_a_trail(store: Store, tmp_path: Any) -> None:
    from tests.test_refi_qda import FIXTURE, make_qdpx

    await load(store, [BUNDLED])
    await load(store, [make_qdpx(FIXTURE, tmp_path / "interviews.qdpx")], study_id="interviews")
    app = create_app(Settings(load_bundled_study=False), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        tree = (await http.get("/codebook?study=interviews")).text
        # Relationships holds Holding and Time pressure; Discretion stands alone at the top
        branch = tree.split(">Relationships</a>", 1)[1].split("</details>", 1)[0]
        assert ">Holding</a>" in branch and ">Time pressure</a>" in branch and ">Discretion</a>" not in branch
        assert ">Discretion</a>" in tree and "4 concepts," in tree
        assert (await http.get("/codebook?study=nope")).status_code == 404
        trail = await picture(http, "/viz/evidence-trail?focus=link-worker/concept/holding")
        levels = {n["kind"]: n["level"] for n in trail["nodes"]}
        assert levels["Concept"] == 0 and levels["EvidenceQuote"] == 2 and levels["SourceDocument"] == 3
        assert levels["Definition"] == levels["DiscussionPoint"] == levels["Consequence"] == 1
        assert trail["options"]["layout"]["hierarchical"]["enabled"] is True
        assert trail["options"]["physics"]["enabled"] is False
        gps = (await http.get("/stakeholder/link-worker/stakeholder/gps-and-hcps")).text
        assert gps.count('class="kx-quote"') >= 3 and "/brief/link-worker/stakeholder/gps-and-hcps" in gps


def test_past_a_few_hundred_nodes_alike_nodes_are_grouped_and_no_link_is_lost() -> None:
    """Nodes of one kind with exactly the same links (other end, label, direction) form a group;
    the focus is never grouped; a small picture has none; a group's members sit side by side."""
    from kxgraph.api.viz.picture import GROUP_ABOVE

    def build(claims: int) -> Picture:
        pic = Picture("t", "t", focus="c")
        pic.node("c", "Concept", "concept")
        pic.node("d", "SourceDocument", "doc")
        for k in range(claims):
            pic.node(f"k{k}", "Consequence", f"claim {k}")
            pic.edge("c", f"k{k}", "consequence")
            for i in range(12):
                pic.node(f"q{k}-{i}", "EvidenceQuote", f"quote {k}-{i}")
                pic.edge(f"k{k}", f"q{k}-{i}", "supported by")
                pic.edge(f"q{k}-{i}", "d", "in" if i < 10 else "cited in")  # another link: not alike
        return pic
    small = build(2).network_data()
    assert len(small["nodes"]) <= GROUP_ABOVE and small["groups"] == []
    pic = build(40)
    data = pic.network_data()
    groups = {g["id"]: g for g in data["groups"]}
    assert sorted(g["count"] for g in groups.values()) == [10] * 40  # two alike are too few for a group
    assert all(g["label"] == "10 evidence quotes" and g["kind"] == "EvidenceQuote" for g in groups.values())
    links: dict[str, set[tuple[str, str, str]]] = {}
    for e in pic.edges:
        links.setdefault(e["from"], set()).add(("to", e["to"], e["label"]))
        links.setdefault(e["to"], set()).add(("from", e["from"], e["label"]))
    members: dict[str, list[dict[str, Any]]] = {}
    for n in data["nodes"]:
        if "kxGroup" in n:
            members.setdefault(n["kxGroup"], []).append(n)
    assert members.keys() == groups.keys()
    for ident, nodes in members.items():
        assert len({frozenset(links[n["id"]]) for n in nodes}) == 1, ident  # the same links, every one
        assert len({n["kind"] for n in nodes}) == 1
    assert "kxGroup" not in next(n for n in data["nodes"] if n["id"] == "c")
    assert {n["id"] for n in data["nodes"] if n["kind"] == "EvidenceQuote" and "kxGroup" not in n} == \
        {f"q{k}-{i}" for k in range(40) for i in (10, 11)}
