"""kxgraph's analysis through a REFI-QDA project in the standard's own terms (codes, codings, memos):
it comes back the same — exactly, as RDF and in the store — from the project alone, after another
program has rewritten the project as QualCoder does, and with the edits a researcher makes there."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from rdflib import Graph, URIRef

from kxgraph.errors import DataFormatError, InputError
from kxgraph.graph.store import Store
from kxgraph.loaders.export import export_graph
from kxgraph.loaders.pipeline import load, prepare
from kxgraph.loaders.refi_analysis import ANALYSIS_ROOT, MARK, read_memo, write_memo
from kxgraph.loaders.refi_export import to_qdpx
from kxgraph.ontology.terms import DATA, KX
from tests.helpers import BUNDLED, ROOT
from tests.test_refi_qda import as_other_programs_write_it, assert_follows_the_xsd, content_graph, selections_in

pytestmark = pytest.mark.anyio

NS = "urn:QDA-XML:project:1.0"
STUDIES = [BUNDLED, ROOT / "tests" / "data" / "garden-study", ROOT / "tests" / "data" / "hostile-study"]


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def exported(study: Path, tmp_path: Path) -> tuple[Graph, Path]:
    """A study of kxgraph's own format as RDF, and exported as a .qdpx without kxgraph's own copy
    beside the project: only what the project says in REFI-QDA's terms."""
    prep = prepare([study])
    (sid,) = prep.study_ids
    out = tmp_path / f"{sid}.qdpx"
    out.write_bytes(to_qdpx(prep.rdf(), sid).data)
    return prep.rdf(), as_other_programs_write_it(out, tmp_path / f"{sid}-project-only.qdpx")


def as_qualcoder_writes_it(path: Path, target: Path) -> Path:
    """The project as QualCoder's REFI-QDA exporter writes it back after importing it, as its real
    export of the bundled study shows (../shared/fixtures/refi-qda/qualcoder-linkworker.qdpx, made
    with QualCoder's own refi.py): every GUID new, users named by the coder, the source texts with a
    byte-order mark (positions counted without it), one selection per coding named by its words and
    dated, codes coloured, no links and no sets, kxgraph's own copy gone."""
    new: dict[str, str] = {}

    def fresh(guid: str) -> str:
        return new.setdefault(guid.lower(), str(uuid.uuid4()))

    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
        texts = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/")}
    ET.register_namespace("", NS)
    root.set("name", "lw.qda")
    root.set("origin", "QualCoder")
    for el in root.iter():
        for attr in ("guid", "targetGUID", "originGUID", "creatingUser", "modifyingUser"):
            if el.get(attr):
                el.set(attr, fresh(el.get(attr, "")))
    for parent in (root,):
        for tag in ("Links", "Sets"):
            for block in parent.findall(_q(tag)):
                parent.remove(block)
    coder = str(uuid.uuid4())
    users = root.find(_q("Users"))
    if users is None:
        users = ET.Element(_q("Users"))
        root.insert(0, users)
    ET.SubElement(users, _q("User"), {"guid": coder, "name": "default"})
    for i, code in enumerate(root.iter(_q("Code"))):
        if code.get("isCodable") != "false":
            code.set("color", f"#{(i * 2654435761) % 0xFFFFFF:06X}")
    files: dict[str, bytes] = {}
    for src in root.iter(_q("TextSource")):
        member = src.get("plainTextPath", "").replace("internal://", "")
        text = texts[f"sources/{member}"]
        name = f"{uuid.uuid4()}.txt"
        src.set("plainTextPath", f"internal://{name}")
        files[f"sources/{name}"] = ("\ufeff" + text).encode("utf-8")
        for sel in list(src.findall(_q("PlainTextSelection"))):
            codings = sel.findall(_q("Coding"))
            start, end = int(sel.get("startPosition", "0")), int(sel.get("endPosition", "0"))
            at = list(src).index(sel)
            src.remove(sel)
            for k, coding in enumerate(codings or [None]):
                copy = ET.Element(_q("PlainTextSelection"), {
                    "guid": str(uuid.uuid4()), "startPosition": str(start), "endPosition": str(end),
                    "name": text[start:end], "creatingUser": coder, "creationDateTime": "2026-12-01T18:00:11Z"})
                if coding is not None:
                    coding.set("creatingUser", coder)
                    coding.set("creationDateTime", "2026-12-01T18:00:11Z")
                    copy.append(coding)
                src.insert(at + k, copy)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", ET.tostring(root, encoding="utf-8", xml_declaration=True))
        for name, data in files.items():
            z.writestr(name, data)
    target.write_bytes(buf.getvalue())
    return target


def analysis_of(g: Graph, study: str) -> set[tuple[Any, ...]]:
    """The analysis of a study: every triple of its entries (not of its quotes, which other programs
    date and name) and which quotes back which entry (by document and position)."""
    prefix = f"{DATA}{study}/"
    quotes = {s for s in g.subjects(None, KX.EvidenceQuote)}
    quotes |= set(g.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), KX.EvidenceQuote))
    out: set[tuple[Any, ...]] = set()
    for s, p, o in g:
        if not str(s).startswith(prefix) or s in quotes or p in (KX.guid, KX.colour, KX.software):
            continue
        if o in quotes:
            o = ("quote", str(g.value(o, URIRef("http://www.w3.org/ns/oa#hasSource"))),
                 int(g.value(o, URIRef("http://www.w3.org/ns/oa#start"))),
                 int(g.value(o, URIRef("http://www.w3.org/ns/oa#end"))))
        if p == KX.content:  # the text, as the reader sees it
            o = str(o)
        out.add((s, p, o))
    return out


def test_memos_say_an_entry_and_read_back() -> None:
    memo = write_memo("Holding can make patients rely on their link worker.\n\nkxgraph: is not an entry here",
                      "consequence", "holding-risks", {"concept": "holding", "valence": "negative",
                                                       "aims": ["one: two", "three"], "position": 0.5,
                                                       "raised_in": None, "description": "two\nlines"})
    body, entry = read_memo(memo)
    assert body == "Holding can make patients rely on their link worker.\n\nkxgraph: is not an entry here"
    assert entry is not None and (entry.kind, entry.ident, entry.section) == (
        "consequence", "holding-risks", "consequences")
    assert entry.fields == {"concept": "holding", "valence": "negative", "aims": ["one: two", "three"],
                            "position": 0.5, "description": "two\nlines"}
    assert read_memo("A plain memo.\nkxgraph:\n  concept: x\nthen more words") == (
        "A plain memo.\nkxgraph:\n  concept: x\nthen more words", None)
    with pytest.raises(ValueError, match="'stakehold' is not a kind of entry"):
        read_memo("kxgraph:\n  stakehold: patients")


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_a_study_comes_back_exactly_from_the_project_alone(study: Path, tmp_path: Path) -> None:
    """No copy of kxgraph's beside the project: the codes, codings and memos give back the very same
    RDF, triple for triple, and the project follows the XSD."""
    first, project_only = exported(study, tmp_path)
    with zipfile.ZipFile(project_only) as z:
        assert not [n for n in z.namelist() if n.startswith("kxgraph/")]
        assert_follows_the_xsd(project_only.read_bytes())
    again = prepare([project_only])
    assert again.warnings == []
    assert set(again.rdf()) == set(first)


def test_the_analysis_shows_as_codes_in_any_program(tmp_path: Path) -> None:
    """What a QDA program shows: the analysis as a category of codes; a consequence's code holds
    its text and its entry, and codes every quote behind it (beside the concept, as before)."""
    graph, project_only = exported(BUNDLED, tmp_path)
    with zipfile.ZipFile(project_only) as z:
        root = ET.fromstring(z.read("project.qde"))
    [top] = [c for c in root.iter(_q("Code")) if c.get("name") == ANALYSIS_ROOT]
    assert top.get("isCodable") == "false"
    kinds = {c.get("name"): c for c in top.findall(_q("Code"))}
    assert {"Stakeholders", "Consequences", "Discussion points", "Events", "Definitions"} <= set(kinds)
    assert all(c.get("isCodable") == "false" for c in kinds.values())
    names = [c.get("name") for c in root.iter(_q("Code"))]
    assert len(names) == len(set(names))  # QualCoder merges codes of one name
    consequence = DATA["link-worker/consequence/holding-risks-dependence"]
    text = str(graph.value(consequence, KX.text))
    [code] = [c for c in kinds["Consequences"].findall(_q("Code"))
              if (c.findtext(_q("Description")) or "").startswith(text)]
    body, entry = read_memo(code.findtext(_q("Description")))
    assert body == text and entry is not None
    # the entry is the study file's own (docs/data-format.md): references by id, as written there
    assert entry.fields == {"concept": "holding", "stakeholder": "link-workers", "valence": "negative",
                            "raised_in": "holding-round-table"}
    behind = {(int(str(graph.value(q, URIRef("http://www.w3.org/ns/oa#start")))),
               int(str(graph.value(q, URIRef("http://www.w3.org/ns/oa#end")))))
              for q in graph.objects(consequence, KX.supportedBy)}
    coded = {(int(sel.get("startPosition", "")), int(sel.get("endPosition", "")))
             for sel in root.iter(_q("PlainTextSelection"))
             if any(r.get("targetGUID") == code.get("guid") for r in sel.iter(_q("CodeRef")))}
    assert behind and coded == behind
    independent = selections_in(project_only)  # and every coded span is the quote's own words
    for (_source, start, end), words in independent.items():
        assert words == str(graph.value(DATA[f"link-worker/quote/exeter-blog/{start}-{end}"],
                                        URIRef("http://www.w3.org/ns/oa#exact")))


def test_the_analysis_comes_back_after_qualcoder_rewrote_the_project(tmp_path: Path) -> None:
    """New GUIDs everywhere, a byte-order mark, a selection per coding, no links: the analysis — every
    entry, every reference, every quote behind every claim at its place — is the study's own."""
    first, project_only = exported(BUNDLED, tmp_path)
    rewritten = as_qualcoder_writes_it(project_only, tmp_path / "qualcoder.qdpx")
    again = prepare([rewritten])
    assert again.study_ids == ["link-worker"]
    assert again.warnings == []
    before, after = analysis_of(first, "link-worker"), analysis_of(again.rdf(), "link-worker")
    assert before <= after
    # and one thing more: QualCoder's coder, a user of the project, is a person who coded
    coder = {s for s, _, _ in after - before}
    assert len(coder) == 1 and {(p, str(o)) for s, p, o in after - before} == {
        (URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), str(KX.Person)),
        (URIRef("http://www.w3.org/2000/01/rdf-schema#label"), "default")}
    counts = again.sources[0].counts
    assert counts["analysis codes"] == 63 and counts["evidence codings"] == 44 and counts["selections"] == 44


def test_qualcoder_s_own_round_trip_keeps_the_analysis() -> None:
    """The real thing: kxgraph's export through QualCoder's own importer and exporter
    (tests/data/refi/qualcoder/README.md). Every entry of the study and every quote behind it comes
    back; what QualCoder adds is its own: its coder and the dates it wrote."""
    again = prepare([ROOT / "tests" / "data" / "refi" / "qualcoder" / "link-worker-analysis.qdpx"])
    assert again.study_ids == ["link-worker"] and again.warnings == []
    before = analysis_of(prepare([BUNDLED]).rdf(), "link-worker")
    after = analysis_of(again.rdf(), "link-worker")
    assert before <= after
    added = after - before
    created = URIRef("http://purl.org/dc/terms/created")
    assert {s for s, p, _ in added if p == created} == {DATA["link-worker/study/link-worker"],
                                                          DATA["link-worker/document/exeter-blog"]}
    [coder] = {s for s, p, _ in added if p != created}
    assert str(again.rdf().value(coder, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))) == "default"
    assert again.sources[0].counts["evidence codings"] == 44


def test_edits_made_in_another_program_come_back(tmp_path: Path) -> None:
    """A researcher renames a stakeholder, codes one more quote with a consequence, rewrites a claim's
    text and adds a code of their own under the analysis: each edit is in the graph; the code with no
    entry is a plain code, and the import says so."""
    first, project_only = exported(BUNDLED, tmp_path)
    with zipfile.ZipFile(project_only) as z:
        xml = z.read("project.qde").decode("utf-8")
    root = ET.fromstring(xml)
    codes = {c.get("name"): c for c in root.iter(_q("Code"))}
    codes["Patients"].set("name", "Patients and carers")
    consequence = DATA["link-worker/consequence/holding-risks-dependence"]
    old_text = str(first.value(consequence, KX.text))
    [dependence] = [c for c in codes.values() if (c.findtext(_q("Description")) or "").startswith(old_text)]
    memo = dependence.find(_q("Description"))
    assert memo is not None and memo.text is not None
    memo.text = memo.text.replace(old_text, "Holding may make some patients dependent on their link worker.")
    category = next(c for c in root.iter(_q("Code")) if c.get("name") == "Stakeholders")
    ET.SubElement(category, _q("Code"), {"guid": str(uuid.uuid4()), "name": "Carers", "isCodable": "true"})
    # one more quote coded with the consequence: a selection no claim had
    src = next(root.iter(_q("TextSource")))
    sel = ET.SubElement(src, _q("PlainTextSelection"), {"guid": str(uuid.uuid4()), "startPosition": "3182",
                                                        "endPosition": "3200"})
    ET.SubElement(ET.SubElement(sel, _q("Coding"), {"guid": str(uuid.uuid4())}), _q("CodeRef"),
                  {"targetGUID": dependence.get("guid", "")})
    edited = _rezip(project_only, tmp_path / "edited.qdpx", ET.tostring(root, encoding="utf-8"))
    again = prepare([edited])
    g = again.rdf()
    patients = DATA["link-worker/stakeholder/patients"]
    assert str(g.value(patients, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))) == "Patients and carers"
    assert str(g.value(consequence, KX.text)) == "Holding may make some patients dependent on their link worker."
    new_quote = DATA["link-worker/quote/exeter-blog/3182-3200"]
    assert (consequence, KX.supportedBy, new_quote) in g
    assert set(first.objects(consequence, KX.supportedBy)) < set(g.objects(consequence, KX.supportedBy))
    [said] = [w for w in again.warnings if "'Carers'" in w]
    assert "under 'Stakeholders'" in said and "read as a plain code" in said
    assert any(str(o) == "Carers" for o in g.objects(None, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")))


def test_a_memo_whose_entry_is_broken_is_named_with_its_fix(tmp_path: Path) -> None:
    _, project_only = exported(BUNDLED, tmp_path)
    with zipfile.ZipFile(project_only) as z:
        xml = z.read("project.qde").decode("utf-8")
    broken = re.sub(r"(kxgraph:\n\s+stakeholder: patients)", r"kxgraph:\n  stakeholder: [patients", xml, count=1)
    assert broken != xml
    with pytest.raises(DataFormatError) as caught:
        prepare([_rezip(project_only, tmp_path / "broken.qdpx", broken.encode("utf-8"))])
    err = caught.value
    assert "'Patients'" in (err.place or "") and "Code[" in (err.place or "")
    assert MARK in err.message and "back as kxgraph wrote them" in (err.fix or "")
    # an entry that names what is not there: the study format's own message, at the code
    gone = re.sub(r"(kxgraph:\n\s+)stakeholder: patients", r"\1stakeholder: patient", xml, count=1)
    with pytest.raises(InputError) as refused:  # the stakeholder's own entry now says 'patient'
        prepare([_rezip(project_only, tmp_path / "gone.qdpx", gone.encode("utf-8"))])
    said = str(refused.value)
    assert "('Consequences')/Code[" in said and "(id 'holding-contains-patients').stakeholder: 'patients' is not " \
        "an id in stakeholders" in said and "did you mean 'patient'?" in said


async def test_through_the_store_under_its_own_id_and_another(bundled: Store, tmp_path: Path) -> None:
    """Exported from the store, read back from the project alone: the served graph is the same, node
    for node; under another study id, the same analysis moved."""
    before = await content_graph(bundled)
    data = to_qdpx(await export_graph(bundled, ["link-worker"]), "link-worker").data
    full = tmp_path / "lw.qdpx"
    full.write_bytes(data)
    project_only = as_other_programs_write_it(full, tmp_path / "lw-project-only.qdpx")
    report = await load(bundled, [project_only])
    assert report.studies == ["link-worker"] and report.warnings == []
    assert await content_graph(bundled) == before
    moved = await load(bundled, [as_qualcoder_writes_it(project_only, tmp_path / "qc.qdpx")], study_id="lw-qc")
    assert moved.studies == ["lw-qc"]
    question = ("MATCH (k:Consequence {study: $s})-[:FOR_STAKEHOLDER]->(p:Stakeholder), (k)-[:OF_CONCEPT]->(c), "
                "(k)-[:SUPPORTED_BY]->(q:EvidenceQuote) RETURN split(k.id, '/')[2] AS k, k.valence AS v, "
                "p.name AS p, c.name AS c, q.start AS start, q.exact AS exact ORDER BY k, start")
    original = await bundled.read(question, {"s": "link-worker"})
    assert original and await bundled.read(question, {"s": "lw-qc"}) == original


def _rezip(path: Path, target: Path, project: bytes) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, project if info.filename == "project.qde" else src.read(info))
    return target
