"""REFI-QDA import and export against real stores: the project's own fixture always, the real exports
of ATLAS.ti, NVivo and qc from ../shared when that folder is there."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from kxgraph.graph.store import Store
from kxgraph.loaders.export import export_graph
from kxgraph.loaders.pipeline import load, prepare
from kxgraph.loaders.refi_archive import open_refi
from kxgraph.loaders.refi_export import to_qdpx
from kxgraph.loaders.refi_xml import schema_errors
from tests.helpers import BUNDLED, ROOT, fingerprint

pytestmark = pytest.mark.anyio

FIXTURE = ROOT / "tests" / "data" / "refi" / "interviews"
REAL = ROOT.parent / "shared" / "fixtures" / "refi-qda"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is not there (the real REFI-QDA exports)")


def make_qdpx(folder: Path, target: Path) -> Path:
    """Zip a project folder (its .qde and sources/) as a program would."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(folder).as_posix())
    return target


def as_other_programs_write_it(path: Path, target: Path, edit: Any = None) -> Path:
    """The .qdpx without the copy kxgraph keeps beside the project (what a program that rewrites
    the project leaves), or with the project edited (``edit``: bytes -> bytes) and the copy kept."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if edit is None and info.filename.startswith("kxgraph/"):
                continue
            if edit is not None and info.filename == "project.qde":
                data = edit(data)
            dst.writestr(info, data)
    return target


@pytest.fixture
def fixture_qdpx(tmp_path: Path) -> Path:
    return make_qdpx(FIXTURE, tmp_path / "interviews.qdpx")


async def content_graph(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The graph without the loads' own provenance (which differs from load to load by design)."""
    nodes, rels = await fingerprint(store)
    return ([n for n in nodes if "Load" not in n["labels"]],
            [r for r in rels if not r["src"].startswith("load/")])


def assert_follows_the_xsd(data: bytes) -> None:
    """The project inside an exported .qdpx, checked against the standard's XSD by xmlschema itself
    (not by the exporter's own check)."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(ROOT / "ontology" / "refi-qda" / "Project.xsd"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        (qde,) = [n for n in z.namelist() if n.endswith(".qde")]
        errors = list(schema.iter_errors(z.read(qde).decode("utf-8")))
    assert not errors, [str(e)[:300] for e in errors[:3]]


async def quotes_of(store: Store, study: str) -> list[dict[str, Any]]:
    return await store.read(
        "MATCH (q:EvidenceQuote {study: $s})-[:IN_DOCUMENT]->(d:SourceDocument) "
        "RETURN q.id AS id, q.exact AS exact, q.start AS start, q.end AS end, q.prefix AS prefix, "
        "q.suffix AS suffix, d.content AS text, d.guid AS doc ORDER BY id", {"s": study})


def selections_in(path: Path) -> dict[tuple[str, int, int], str]:
    """Every selection of a .qdpx read straight from the zip, independently of kxgraph's importer:
    (source guid, start, end) -> the text at those positions of the source file."""
    found = {}
    with zipfile.ZipFile(path) as z:
        qde = next(n for n in z.namelist() if n.endswith(".qde"))
        xml = z.read(qde).decode("utf-8")
        for src in re.finditer(r"<TextSource\b([^>]*)>(.*?)</TextSource>", xml, re.S):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', src.group(1)))
            member = attrs["plainTextPath"].replace("internal://", "")
            name = member if member in z.namelist() else f"sources/{member}"
            text = z.read(name).decode("utf-8")
            for sel in re.finditer(r"<PlainTextSelection\b([^>]*)>", src.group(2)):
                s_attrs = dict(re.findall(r'(\w+)="([^"]*)"', sel.group(1)))
                start, end = int(s_attrs["startPosition"]), int(s_attrs["endPosition"])
                found[(attrs["guid"].lower(), start, end)] = text[start:end]
    return found


# --- the project's own fixture (always runs) ---------------------------------------------------------
async def test_fixture_imports_every_kind(store: Store, fixture_qdpx: Path) -> None:
    report = await load(store, [fixture_qdpx], study_id="interviews")
    assert report.changed and report.studies == ["interviews"]
    # what was left out is said, with the element
    assert any("PlainTextSelection[5]" in w and "300-400" in w for w in report.warnings)
    assert any("0000000000ff" in w and "no code" in w for w in report.warnings)
    assert any("PDFSource" in w for w in report.warnings)

    codes = await store.read("MATCH (c:Concept {study: 'interviews'}) OPTIONAL MATCH (c)-[:BROADER]->(p) "
                             "RETURN c.name AS name, p.name AS parent, c.color AS color, c.codable AS codable, "
                             "c.definition AS definition ORDER BY name")
    assert [(c["name"], c["parent"]) for c in codes] == [
        ("Discretion", None), ("Holding", "Relationships"), ("Relationships", None),
        ("Time pressure", "Relationships")]
    holding = next(c for c in codes if c["name"] == "Holding")
    assert holding["color"] == "#FF8800" and holding["codable"] is True
    assert holding["definition"].startswith("Keeping a patient supported")
    assert next(c for c in codes if c["name"] == "Relationships")["codable"] is False

    quotes = await quotes_of(store, "interviews")
    assert len(quotes) == 7
    for q in quotes:  # every quote is its document's text at its positions
        assert q["text"][q["start"]:q["end"]] == q["exact"]
        assert q["text"][max(0, q["start"] - len(q["prefix"])):q["start"]] == q["prefix"]
    emoji = next(q for q in quotes if q["exact"].startswith("\U0001f642"))
    assert emoji["exact"] == "\U0001f642 The GP expects six sessions"  # positions count code points

    codings = await store.read(
        "MATCH (k:Coding {study: 'interviews'})-[:APPLIES_CODE]->(c:Concept), (k)-[:CODES_TEXT]->(q) "
        "OPTIONAL MATCH (k)-[:CREATED_BY]->(p:Person) RETURN c.name AS code, q.exact AS exact, p.name AS coder")
    assert len(codings) == 7
    assert {"code": "Holding", "exact": emoji["exact"], "coder": None} in codings
    assert any(c["code"] == "Time pressure" and c["coder"] == "JS" for c in codings)  # a user with an id only

    notes = await store.read("MATCH (n:Note {study: 'interviews'})-[:ANNOTATES]->(x) "
                             "RETURN n.name AS note, labels(x)[0] AS kind, coalesce(x.name, x.exact) AS what "
                             "ORDER BY note")
    assert notes == [
        {"note": "Annotation", "kind": "EvidenceQuote", "what": "manager decides"},  # NVivo: Link + Note
        {"note": "GP view", "kind": "EvidenceQuote", "what": "could not hold"},
        {"note": "Memo on holding", "kind": "Concept", "what": "Holding"},
    ]
    related = await store.read("MATCH (a:Concept {study: 'interviews'})-[:RELATED_TO]->(b) "
                               "RETURN a.name AS a, b.name AS b")
    # symmetric: each pair once, whichever way the project wrote it
    assert sorted(tuple(sorted(r.values())) for r in related) == [
        ("Discretion", "Holding"), ("Discretion", "Time pressure"), ("Holding", "Time pressure")]
    # the links themselves keep their name, direction, colour and GUID
    links = await store.read(
        "MATCH (l:CodeLink {study: 'interviews'})-[:LINK_FROM]->(a), (l)-[:LINK_TO]->(b) "
        "RETURN l.name AS name, l.direction AS direction, l.color AS color, l.guid AS guid, "
        "a.name AS origin, b.name AS target ORDER BY l.guid")
    assert links == [
        {"name": "tension", "direction": "Associative", "color": None, "guid": "30000000-0000-4000-8000-000000000001",
         "origin": "Holding", "target": "Time pressure"},
        {"name": "leads to", "direction": "OneWay", "color": "#AA0000", "guid": "30000000-0000-4000-8000-000000000003",
         "origin": "Time pressure", "target": "Discretion"},
        {"name": "shapes", "direction": "Bidirectional", "color": None,
         "guid": "30000000-0000-4000-8000-000000000004", "origin": "Discretion", "target": "Holding"}]
    # dates and who modified, as written; a date that is no date is said and left out
    dated = await store.read(
        "MATCH (x {study: 'interviews'}) WHERE x.created IS NOT NULL OR x.modified IS NOT NULL "
        "OPTIONAL MATCH (x)-[:MODIFIED_BY]->(p:Person) "
        "RETURN labels(x)[0] AS kind, x.guid AS guid, x.created AS created, x.modified AS modified, "
        "p.identifier AS modifier ORDER BY kind, guid")
    assert dated == [
        {"kind": "Coding", "guid": "20000000-0000-4000-8000-000000000001", "created": "2024-03-03T11:00:05Z",
         "modified": None, "modifier": None},
        {"kind": "EvidenceQuote", "guid": "10000000-0000-4000-8000-000000000001",
         "created": "2024-03-03T11:00:00.250Z", "modified": None, "modifier": None},
        {"kind": "Note", "guid": "d0000000-0000-4000-8000-000000000001", "created": "2024-03-04T16:30:00Z",
         "modified": None, "modifier": None},
        {"kind": "SourceDocument", "guid": "a1b2c3d4-0000-4000-8000-000000000001",
         "created": "2024-03-02T10:15:00Z", "modified": "2024-03-05T08:00:00+01:00", "modifier": "JS"},
        {"kind": "Study", "guid": None, "created": "2024-03-01T09:00:00Z", "modified": "2024-03-20T17:45:10Z",
         "modifier": None}]
    assert any("PlainTextSelection[4]" in w and "'yesterday' is not a date" in w for w in report.warnings)
    cases = await store.read("MATCH (c:Case {study: 'interviews'})-[:HAS_MEMBER]->(d:SourceDocument) "
                             "RETURN c.name AS name, c.attributes AS attrs, d.title AS doc ORDER BY name")
    assert [(c["name"], json.loads(c["attrs"]), c["doc"]) for c in cases] == [
        ("Ana", {"role": "link worker", "years in post": 3}, "Interview 1 (Ana)"),
        ("Ben", {"role": "GP"}, "Interview 2 (Ben)")]
    members = await store.read("MATCH (s:Collection {study: 'interviews'})-[:HAS_MEMBER]->(m) "
                               "RETURN coalesce(m.name, m.title) AS m ORDER BY m")
    assert [m["m"] for m in members] == ["Discretion", "Holding", "Interview 1 (Ana)"]
    study = await store.read("MATCH (s:Study {study: 'interviews'}) RETURN s.name AS name, s.software AS sw")
    assert study == [{"name": "Link worker interviews", "sw": "Hand-written fixture 1.0"}]
    users = await store.read("MATCH (p:Person {study: 'interviews'}) RETURN p.name AS name, p.identifier AS id "
                             "ORDER BY name")
    assert users == [{"name": "JS", "id": "JS"}, {"name": "Rosa Coder", "id": None}]


async def test_reimport_is_a_no_op_and_replaces_whole(store: Store, fixture_qdpx: Path) -> None:
    await load(store, [fixture_qdpx], study_id="interviews")
    before = await fingerprint(store)
    again = await load(store, [fixture_qdpx], study_id="interviews")
    assert not again.changed
    assert await fingerprint(store) == before


async def test_round_trip_through_qdpx_is_identical(store: Store, fixture_qdpx: Path, tmp_path: Path) -> None:
    await load(store, [fixture_qdpx], study_id="interviews")
    first = await content_graph(store)
    exported = to_qdpx(await export_graph(store, ["interviews"]), "interviews")
    assert_follows_the_xsd(exported.data)
    out = tmp_path / "out.qdpx"
    out.write_bytes(exported.data)
    refi = open_refi(out)
    try:
        assert schema_errors(refi.root, "project") == []
    finally:
        refi.close()
    assert exported.counts["codings"] == 7 and exported.counts["selections"] == 7
    # the same graph again: exporting twice writes the same bytes
    assert to_qdpx(await export_graph(store, ["interviews"]), "interviews").data == exported.data
    await load(store, [out], study_id="interviews")
    assert await content_graph(store) == first  # kxgraph's own copy: exactly the graph it wrote
    # as another program would hand it back (no kxgraph/ copy): the same graph from REFI-QDA alone
    await load(store, [as_other_programs_write_it(out, tmp_path / "refi-only.qdpx")], study_id="interviews")
    nodes, rels = await content_graph(store)
    # the one change: notes with no date of their own come back with the study's (QualCoder needs one)
    undated = {n["id"] for n in first[0] if "Note" in n["labels"] and "created" not in n["props"]}
    assert len(undated) == 2 and exported.warnings[0].startswith("2 note(s) have no creation date")
    for n in nodes:
        if n["id"] in undated:
            assert n["props"].pop("created") == "2024-03-01T09:00:00Z"
    assert (nodes, rels) == first


async def test_bundled_study_exports_as_a_valid_coded_project(bundled: Store, tmp_path: Path) -> None:

    exported = to_qdpx(await export_graph(bundled, ["link-worker"]), "link-worker")
    assert_follows_the_xsd(exported.data)
    out = tmp_path / "lw.qdpx"
    out.write_bytes(exported.data)
    assert exported.counts["codes"] == 8 and exported.counts["selections"] == 44  # 6 concepts + 2 continua
    assert exported.counts["codings"] > 0
    # what REFI-QDA has no element for is named, with the counts the store holds, and how it travels
    [said] = [w for w in exported.warnings if w.startswith("REFI-QDA has no element for")]
    assert "each is a code under 'kxgraph analysis'" in said
    for label, word in (("Stakeholder", "stakeholders"), ("Consequence", "consequences"),
                        ("DiscussionPoint", "discussion points"), ("Event", "events")):
        n = (await bundled.read(f"MATCH (x:{label} {{study: 'link-worker'}}) RETURN count(x) AS n"))[0]["n"]
        assert n > 0 and f"{n} {word}" in said
    prep = prepare([out], study_id="lw-again")
    assert prep.warnings == []
    assert prep.quote_count == 44
    holding = [r for r in prep.projected.nodes[next(k for k in prep.projected.nodes if k.value == "Concept")]
               if r["props"]["name"] == "Holding"]
    loaded = await bundled.read("MATCH (c:Concept {id: 'link-worker/concept/holding'}) RETURN c.definition AS d")
    assert holding and holding[0]["props"]["definition"] == loaded[0]["d"]


async def test_a_study_of_kxgraph_s_own_format_comes_back_whole_through_qdpx(bundled: Store, tmp_path: Path) -> None:
    """Stakeholders, consequences and valence, discussion points, events, continua and placements
    have no REFI-QDA element: they travel as codes and memos (tests/test_refi_analysis.py) and, while
    the project is unchanged, in kxgraph's copy beside it too, and come back, the same graph. Once the
    project is edited in another program, the copy is no longer read (the import says so): the edit
    and the analysis come from the project."""
    first = await content_graph(bundled)
    exported = to_qdpx(await export_graph(bundled, ["link-worker"]), "link-worker")
    assert_follows_the_xsd(exported.data)
    out = tmp_path / "lw.qdpx"
    out.write_bytes(exported.data)
    report = await load(bundled, [out])
    assert report.studies == ["link-worker"] and report.warnings == []
    assert await content_graph(bundled) == first
    moved = await load(bundled, [out], study_id="lw-copy")  # under another id: the same study, moved
    assert moved.studies == ["lw-copy"]
    copy = await bundled.read("MATCH (k:Consequence {study: 'lw-copy'})-[:FOR_STAKEHOLDER]->(s:Stakeholder) "
                            "RETURN count(k) AS n, count(DISTINCT s) AS s")
    original = await bundled.read("MATCH (k:Consequence {study: 'link-worker'})-[:FOR_STAKEHOLDER]->(s:Stakeholder) "
                                "RETURN count(k) AS n, count(DISTINCT s) AS s")
    assert copy == original and copy[0]["n"] > 0
    edited = as_other_programs_write_it(out, tmp_path / "edited.qdpx",
                                        edit=lambda b: b.replace(b"Holding", b"Holding (edited)", 1))
    report = await load(bundled, [edited], study_id="lw-edited")
    assert any("changed since kxgraph exported it" in w and "from its codes and memos" in w for w in report.warnings)
    edited_copy = await bundled.read("MATCH (k:Consequence {study: 'lw-edited'})-[:FOR_STAKEHOLDER]->(s:Stakeholder) "
                                     "RETURN count(k) AS n, count(DISTINCT s) AS s")
    assert edited_copy == original
    assert await bundled.read("MATCH (c:Concept {id: 'lw-edited/concept/holding'}) RETURN c.name AS name") == [
        {"name": "Holding (edited)"}]


# --- the real exports (../shared) ----------------------------------------------------------------------
@needs_real
async def test_qc_demo_imports_every_selection_and_coding(store: Store) -> None:
    path = REAL / "qc-demo.qdpx"
    report = await load(store, [path], study_id="qc-demo")
    assert report.warnings == []
    assert report.quotes == 158
    counts = await store.read(
        "MATCH (k:Coding {study: 'qc-demo'})-[:APPLIES_CODE]->(:Concept), (k)-[:CODES_TEXT]->(q:EvidenceQuote) "
        "RETURN count(k) AS codings, count(DISTINCT q) AS quotes")
    assert counts == [{"codings": 205, "quotes": 158}]
    assert (await store.read("MATCH (c:Concept {study: 'qc-demo'}) RETURN count(c) AS n"))[0]["n"] == 262
    independent = selections_in(path)
    quotes = await quotes_of(store, "qc-demo")
    assert len(quotes) == len(independent) == 158
    for q in quotes:
        assert q["text"][q["start"]:q["end"]] == q["exact"] == independent[(q["doc"], q["start"], q["end"])]


@pytest.mark.sweep(neo4j=2)
@needs_real
@pytest.mark.parametrize("name", ["qc-demo", "qualcoder-linkworker", "nvivo15-codebook", "atlasti23-codes"])
async def test_real_project_round_trip(store: Store, tmp_path: Path, name: str) -> None:
    """A real program's project -> kxgraph -> .qdpx -> kxgraph: the same graph, dates and users
    included (a note with no date of its own comes back with the study's, which QualCoder needs)."""
    await load(store, [REAL / f"{name}.qdpx"], study_id=name)
    first = await content_graph(store)
    if name == "qualcoder-linkworker":  # QualCoder dates what it writes (qc writes no dates)
        assert sum("created" in n["props"] for n in first[0]) == 46
    exported = to_qdpx(await export_graph(store, [name]), name)
    assert_follows_the_xsd(exported.data)
    out = tmp_path / "again.qdpx"
    out.write_bytes(exported.data)
    await load(store, [out], study_id=name)
    assert await content_graph(store) == first
    await load(store, [as_other_programs_write_it(out, tmp_path / "refi-only.qdpx")], study_id=name)
    nodes, rels = await content_graph(store)
    undated = {n["id"] for n in first[0] if "Note" in n["labels"] and "created" not in n["props"]}
    for n in nodes:
        if n["id"] in undated:
            n["props"].pop("created")
    assert (nodes, rels) == first


@needs_real
@pytest.mark.parametrize(("name", "codes", "sources", "warnings"), [
    ("nvivo15-codebook.qdpx", 262, 2, 2),   # .docx sources with empty .txt twins: said, not hidden
    ("atlasti23-codes.qdpx", 3, 0, 0),      # upper-case GUIDs, no sources
])
def test_other_programs(name: str, codes: int, sources: int, warnings: int) -> None:
    prep = prepare([REAL / name], study_id="other")
    counts = prep.sources[0].counts
    assert counts.get("codes") == codes and counts.get("sources", 0) == sources
    assert len(prep.warnings) == warnings
    assert all("rich-text" in w for w in prep.warnings)


def test_vendored_schemas_are_the_standard() -> None:
    for name in ("Project.xsd", "Codebook.xsd"):
        ours = (ROOT / "ontology" / "refi-qda" / name).read_bytes()
        if REAL.is_dir():
            assert ours == (REAL / "schema" / name).read_bytes()
        assert b"urn:QDA-XML" in ours


# --- hostile files: refused with the file and the element named, the graph untouched --------------------
GOOD_QDE = (FIXTURE / "Trial.qde").read_bytes()
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
          b'<Project xmlns="urn:QDA-XML:project:1.0" name="&lol2;"/>')


def _zip(target: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name == symlink:
                info.external_attr = (0o120777 << 16)
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


HOSTILE: dict[str, tuple[dict[str, bytes], str | None, str]] = {
    "zip-slip": ({"project.qde": GOOD_QDE, "../../evil.txt": b"x"}, None, "'..'"),
    "absolute-member": ({"project.qde": GOOD_QDE, "/etc/cron.d/evil": b"x"}, None, "absolute"),
    "symlink-member": ({"project.qde": GOOD_QDE, "sources/link.txt": b"/etc/passwd"}, "sources/link.txt",
                       "symbolic link"),
    "zip-bomb": ({"project.qde": GOOD_QDE, "sources/a1b2c3d4-0000-4000-8000-000000000001.txt": b"0" * (80 << 20)},
                 None, "more than"),
    "billion-laughs": ({"project.qde": LAUGHS}, None, "DTD"),
    "two-projects": ({"a.qde": GOOD_QDE, "b.qde": GOOD_QDE}, None, "2 .qde files"),
    "no-project": ({"sources/x.txt": b"hello"}, None, "no .qde"),
    "broken-xml": ({"project.qde": GOOD_QDE[:500]}, None, "not well-formed"),
    "not-refi-xml": ({"project.qde": b"<html><body>hi</body></html>"}, None, "not a REFI-QDA"),
}


@pytest.mark.sweep(neo4j=3)
@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_archives_are_refused(store: Store, tmp_path: Path, fixture_qdpx: Path, case: str) -> None:
    from kxgraph.errors import InputError

    await load(store, [fixture_qdpx], study_id="interviews")
    before = await fingerprint(store)
    members, symlink, expected = HOSTILE[case]
    bad = _zip(tmp_path / f"{case}.qdpx", members, symlink)
    with pytest.raises(InputError) as err:
        await load(store, [bad], study_id="interviews")
    message = err.value.render()
    assert str(bad) in message and expected in message, message
    assert await fingerprint(store) == before
    assert not (tmp_path.parent / "evil.txt").exists()


def test_not_a_zip(tmp_path: Path) -> None:
    from kxgraph.errors import InputError

    bad = tmp_path / "x.qdpx"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match="not a zip"):
        prepare([bad])


def test_bare_qde_and_codebook(tmp_path: Path) -> None:
    qde = tmp_path / "Trial.qde"
    qde.write_bytes(GOOD_QDE)
    prep = prepare([qde], study_id="bare")
    counts = prep.sources[0].counts
    # a bare .qde has no sources/ beside it: the inline text source is read, the others are said missing
    assert counts["codes"] == 4 and counts["sources"] == 1
    assert sum("the archive has no" in w for w in prep.warnings) == 2
    qdc = tmp_path / "book.qdc"
    qdc.write_text('<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA 24"><Codes>'
                   '<Code guid="c0000000-0000-4000-8000-000000000001" name="Trust" isCodable="true">'
                   '<Code guid="c0000000-0000-4000-8000-000000000002" name="Distrust" isCodable="true"/></Code>'
                   '</Codes></CodeBook>', encoding="utf-8")
    prep = prepare([qdc], study_id="book")
    assert prep.warnings == [] and prep.sources[0].counts == {"codes": 2}


async def test_imported_project_through_graphql(store: Store, fixture_qdpx: Path) -> None:
    from tests.test_graphql import client

    await load(store, [fixture_qdpx], study_id="interviews")
    query = """query($id: ID!) { concept(id: $id) { name color definitionText
        broader { name } narrower { name }
        notes { name text }
        codedQuotes { exact start end anchorStatus document { title text }
                      codings { concept { name } coder { name } } } } }"""
    async with client(store) as gql:
        data = await gql.ok(query, {"id": "interviews/concept/c0000000-0000-4000-8000-000000000002"})
        parent = await gql.ok(query, {"id": "interviews/concept/c0000000-0000-4000-8000-000000000001"})
    holding = data["concept"]
    assert holding["name"] == "Holding" and holding["color"] == "#FF8800"
    assert holding["definitionText"].startswith("Keeping a patient supported")
    assert holding["broader"] == [{"name": "Relationships"}] and holding["narrower"] == []
    assert holding["notes"][0]["name"] == "Memo on holding"
    quotes = holding["codedQuotes"]
    assert len(quotes) == 3
    for q in quotes:
        assert q["document"]["text"][q["start"]:q["end"]] == q["exact"]
        assert q["anchorStatus"] == "EXACT"
        assert "Holding" in {c["concept"]["name"] for c in q["codings"]}
    assert [n["name"] for n in parent["concept"]["narrower"]] == ["Holding", "Time pressure"]


async def test_explorer_shows_an_imported_code(store: Store, fixture_qdpx: Path) -> None:
    import httpx

    from kxgraph.api.app import create_app
    from kxgraph.settings import Settings

    await load(store, [fixture_qdpx], study_id="interviews")
    app = create_app(Settings(load_bundled_study=False), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        r = await http.get("/concept/interviews/concept/c0000000-0000-4000-8000-000000000002")
    assert r.status_code == 200
    assert "Coded quotes (3)" in r.text and "Relationships" in r.text
    assert "the link worker could not hold them any longer." in r.text


# --- a byte-order mark: positions as the writer meant them ---------------------------------------------
def _bom_project(tmp_path: Path, counted_with_mark: bool) -> Path:
    text = "Intro. The link worker held the patient. End.\n"
    start = text.index("The link worker") + (1 if counted_with_mark else 0)
    words = "The link worker held the patient."
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="Bom" origin="t">'
           '<CodeBook><Codes><Code guid="11111111-1111-4111-8111-111111111111" name="Holding" isCodable="true"/>'
           '</Codes></CodeBook><Sources><TextSource guid="22222222-2222-4222-8222-222222222222" name="s" '
           'plainTextPath="internal://s.txt"><PlainTextSelection guid="33333333-3333-4333-8333-333333333333" '
           f'startPosition="{start}" endPosition="{start + len(words)}" name="{words}"><Coding '
           'guid="44444444-4444-4444-8444-444444444444"><CodeRef targetGUID="11111111-1111-4111-8111-111111111111"/>'
           '</Coding></PlainTextSelection></TextSource></Sources></Project>')
    out = tmp_path / f"bom-{counted_with_mark}.qdpx"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/s.txt", "\ufeff" + text)
    return out


@pytest.mark.parametrize("counted_with_mark", [False, True])
def test_a_byte_order_mark_never_shifts_a_quote(tmp_path: Path, counted_with_mark: bool) -> None:
    prep = prepare([_bom_project(tmp_path, counted_with_mark)], study_id="bom")
    (quote,) = [r["props"] for label, rows in prep.projected.nodes.items() if label.value == "EvidenceQuote"
                for r in rows]
    assert quote["exact"] == "The link worker held the patient."
    said = [w for w in prep.warnings if "byte-order mark" in w]
    assert bool(said) is counted_with_mark  # the usual case is silent; keeping the mark is said


@needs_real
def test_qualcoder_s_export_comes_back_with_no_shifted_quote() -> None:
    """QualCoder writes its texts with a byte-order mark and counts positions without it: every
    selection must come back as the words QualCoder selected (its ``name``), and each of them is one
    of the bundled study's own quotes (the project was made from kxgraph's export of it)."""
    import html
    import re as _re

    path = REAL / "qualcoder-linkworker.qdpx"
    prep = prepare([path], study_id="qualcoder")
    quotes = [r["props"] for label, rows in prep.projected.nodes.items() if label.value == "EvidenceQuote"
              for r in rows]
    with zipfile.ZipFile(path) as z:
        qde = z.read("project.qde").decode("utf-8")
    names = {(int(a), int(b)): html.unescape(n)
             for a, b, n in _re.findall(r'startPosition="(\d+)" endPosition="(\d+)" name="([^"]*)"', qde)}
    bundled = {r["props"]["exact"] for label, rows in prepare([BUNDLED]).projected.nodes.items()
               if label.value == "EvidenceQuote" for r in rows}
    assert quotes and len(quotes) == len(names)
    shifted = [q["exact"] for q in quotes if q["exact"] != names[(q["start"], q["end"])]]
    assert shifted == [], f"{len(shifted)} shifted quotes, e.g. {shifted[:2]}"
    assert {q["exact"] for q in quotes} <= bundled
    assert not any("byte-order mark" in w for w in prep.warnings)


@pytest.mark.parametrize("loaded_at", ["2026-11-30T08:00:00+00:00", None])
def test_every_exported_note_has_a_date_or_says_why_not(tmp_path: Path, loaded_at: str | None) -> None:
    """QualCoder's importer stops at a Note without creationDateTime: an undated note is dated with
    the study's load time, and where there is none the export says what QualCoder will do."""
    qde = tmp_path / "Notes.qde"
    qde.write_text('<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="Memos">'
                   '<CodeBook><Codes><Code guid="c0000000-0000-4000-8000-000000000001" name="Trust" '
                   'isCodable="true"/></Codes></CodeBook><Notes>'
                   '<Note guid="d0000000-0000-4000-8000-000000000001" name="dated" '
                   'creationDateTime="2024-01-02T03:04:05Z"><PlainTextContent>one</PlainTextContent></Note>'
                   '<Note guid="d0000000-0000-4000-8000-000000000002" name="undated">'
                   '<PlainTextContent>two</PlainTextContent></Note></Notes></Project>', encoding="utf-8")
    prep = prepare([qde], study_id="memos")
    exported = to_qdpx(prep.rdf(), "memos", loaded_at=loaded_at)
    with zipfile.ZipFile(io.BytesIO(exported.data)) as z:
        root = ElementTree.fromstring(z.read("project.qde"))
    notes = root.iter("{urn:QDA-XML:project:1.0}Note")
    dates = {n.get("name"): n.get("creationDateTime") for n in notes if n.get("creationDateTime")}
    assert dates.get("dated") == "2024-01-02T03:04:05Z"
    if loaded_at:
        assert dates.get("undated") == loaded_at
        assert exported.warnings == [f"1 note(s) have no creation date: written with the study's date ({loaded_at}), "
                                     "as QualCoder's importer needs one"]
    else:
        assert "undated" not in dates
        assert "QualCoder's importer will refuse them" in exported.warnings[0]


def test_a_copy_that_speaks_for_another_study_is_not_read(tmp_path: Path) -> None:
    exported = to_qdpx(prepare([BUNDLED]).rdf(), "link-worker")
    out = tmp_path / "lw.qdpx"
    out.write_bytes(exported.data)
    forged = tmp_path / "forged.qdpx"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "kxgraph/study.ttl":
                data += b"\n<https://w3id.org/kxgraph/id/victim/study/victim> a <https://w3id.org/kxgraph/ns#Study> .\n"
            dst.writestr(info, data)
    prep = prepare([forged], study_id="lw-copy")
    assert any("holds entities of another study" in w for w in prep.warnings)
    assert prep.sources[0].study_ids == ["lw-copy"]
    studies = {r["id"] for label, rows in prep.projected.nodes.items() if label.value == "Study" for r in rows}
    assert studies == {"lw-copy/study/lw-copy"}
