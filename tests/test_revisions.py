"""Documents that change: quotes placed again (exact, moved, fuzzy) or orphaned and said so, never
attached to other words; new documents and tables of claims added to a study's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.reanchor import KINDS, run
from kxgraph.errors import InputError, KxError
from kxgraph.graph.store import Store
from kxgraph.loaders.anchoring import CONTEXT
from kxgraph.loaders.authoring import add_document
from kxgraph.loaders.documents import convert
from kxgraph.loaders.pipeline import load, prepare
from kxgraph.loaders.reanchoring import OldQuote, reanchor
from kxgraph.loaders.revisions import replace_document
from tests.helpers import BUNDLED, SECOND

TEXT = (BUNDLED / "documents" / "exeter-knowledge-exchange-blog.txt").read_text(encoding="utf-8")


def quote_at(text: str, words: str) -> OldQuote:
    start = text.index(words)
    end = start + len(words)
    return OldQuote(words, text[max(0, start - CONTEXT):start], text[end:end + CONTEXT], start, end)


HOLDING = "We defined holding as an active process carried out by link workers"


def test_exact_moved_fuzzy_orphaned() -> None:
    q = quote_at(TEXT, HOLDING)
    assert reanchor(q, TEXT, old_text=TEXT).status == "exact"
    moved = "A new opening paragraph.\n\n" + TEXT
    p = reanchor(q, moved, old_text=TEXT)
    assert (p.status, moved[p.start:p.end]) == ("moved", HOLDING)
    typo = TEXT.replace("carried out by link", "carried out by the link")
    p = reanchor(q, typo, old_text=TEXT)
    assert p.status == "fuzzy" and typo[p.start:p.end] == "We defined holding as an active process carried out by the link workers"
    gone = TEXT.replace(HOLDING, "")
    p = reanchor(q, gone, old_text=TEXT)
    assert (p.status, p.start, p.end) == ("orphaned", None, None)


def test_a_short_repeated_quote_is_told_apart_by_its_context() -> None:
    text = "Alpha said holding matters. Beta said discretion matters. Gamma said holding matters too."
    q = quote_at(text, "Beta said discretion matters.")
    q2 = OldQuote("said", q.prefix, " discretion matters. Gamma said", text.index("Beta") + 5, text.index("Beta") + 9)
    edited = "Intro. " + text
    p = reanchor(q2, edited, old_text=text)
    assert edited[p.start - 5:p.end] == "Beta said"
    # the words that told it apart are deleted: orphaned, not attached to another 'said'
    p = reanchor(q2, "Alpha said holding matters. Gamma said holding matters too.", old_text=text)
    assert p.status == "orphaned"


def test_generated_edits_never_anchor_to_wrong_text() -> None:
    """A small run of the re-anchoring benchmark (bench/reanchor.py runs the full one) on the
    bundled study's source alone: the same corpus, so the same figures, in every clone."""
    results = run(versions=3, seed=11, real_exports=False)
    for kind in KINDS:
        c = results["kinds"][kind]
        assert c.get("wrong", 0) == 0, (kind, c)
        assert c["reanchored_share"] >= 0.85, (kind, c)


def test_generated_edits_on_real_transcripts_never_anchor_to_wrong_text() -> None:
    """The same on the qc demo's interview transcripts and their 158 coded selections (../shared)."""
    from bench.reanchor import QC_DEMO

    if not QC_DEMO.is_file():
        pytest.skip(f"{QC_DEMO} is not here (the real exports are in ../shared)")
    results = run(versions=1, seed=11)
    assert any("qc demo" in d for d in results["documents"])
    for kind in KINDS:
        c = results["kinds"][kind]
        assert c.get("wrong", 0) == 0, (kind, c)
        assert c["reanchored_share"] >= 0.85, (kind, c)




@pytest.mark.anyio
async def test_replace_document_in_the_store(bundled: Store, tmp_path: Path) -> None:
    rows = await bundled.read("MATCH (d:SourceDocument) RETURN d.id AS id")
    doc = rows[0]["id"]
    new = tmp_path / "v2.txt"
    edited = ("Editor's note: corrected version.\n\n" + TEXT).replace("carried out by link", "carried out by the link")
    quotes = await bundled.read("MATCH (q:EvidenceQuote)-[:IN_DOCUMENT]->(d {id: $d}) "
                              "RETURN q.exact AS e, q.start AS s, q.end AS t ORDER BY q.start, q.end", {"d": doc})

    def alone(q: dict) -> bool:  # deleting its words orphans this quote and no other
        return not any(o is not q and o["s"] < q["t"] and q["s"] < o["t"] for o in quotes)

    victim = next(q["e"] for q in quotes
                  if len(q["e"]) > 20 and TEXT.count(q["e"]) == 1 and HOLDING not in q["e"] and alone(q))
    edited = edited.replace(victim, "")
    new.write_text(edited, encoding="utf-8")
    rev = await replace_document(bundled, doc, new)
    assert rev.changed and rev.counts.get("orphaned") == 1 and rev.counts.get("fuzzy", 0) >= 1
    assert rev.counts.get("moved", 0) > 30
    after = await bundled.read(
        "MATCH (q:EvidenceQuote)-[:IN_DOCUMENT]->(d {id: $d}) RETURN q.exact AS exact, q.start AS start, q.end AS end, "
        "q.anchorStatus AS status, d.content AS text, d.sha256 AS sha, q.documentSha256 AS qsha", {"d": doc})
    assert len(after) == len(quotes)
    for q in after:
        if q["status"] == "orphaned":
            assert q["start"] is None and q["exact"] == victim  # keeps its words, loses its place
        else:
            assert q["text"][q["start"]:q["end"]] == q["exact"] and q["qsha"] == q["sha"]
    from tests.test_graphql import client

    async with client(bundled) as gql:
        data = await gql.ok("query($d: ID!) { document(id: $d) { quotes { anchorStatus anchorScore start exact } } }",
                            {"d": doc})
    statuses = {q["anchorStatus"] for q in data["document"]["quotes"]}
    assert {"MOVED", "FUZZY", "ORPHANED"} <= statuses
    with pytest.raises(InputError, match="no document"):
        await replace_document(bundled, "link-worker/document/nope", new)


@pytest.fixture
def garden(tmp_path: Path) -> Path:
    target = tmp_path / "garden"
    shutil.copytree(SECOND, target)
    return target


@pytest.mark.anyio
async def test_api_quotes_follow_their_document_on_reload(store: Store, garden: Path) -> None:
    from tests.test_graphql import client

    await load(store, [garden])
    mutation = ('mutation { addEvidenceQuote(claim: "allotment/discussion-point/ownership-excludes", '
                'quote: {text: "some found the rota rigid"}) { id start end exact } }')
    async with client(store, api_tokens="alice:s3cret", token="s3cret") as c:
        added = (await c.ok(mutation))["addEvidenceQuote"]
    notes = garden / "documents" / "interview-notes.md"
    notes.write_text("# Interview notes\n\nA new first line.\n" + notes.read_text(encoding="utf-8"), encoding="utf-8")
    report = await load(store, [garden])  # the edit is applied again: its quote placed in the new text
    [said] = [w for w in report.warnings if "addEvidenceQuote by alice" in w]
    assert "'some found the rota rigid' was placed again (moved" in said, said
    row = await store.read("MATCH (:DiscussionPoint {id: 'allotment/discussion-point/ownership-excludes'})"
                           "-[:SUPPORTED_BY]->(q:EvidenceQuote {exact: 'some found the rota rigid'})-[:IN_DOCUMENT]->(d) "
                           "RETURN q.id AS id, q.start AS s, q.end AS e, d.content AS text, q.anchorStatus AS status")
    assert len(row) == 1 and row[0]["status"] == "moved"
    assert row[0]["text"][row[0]["s"]:row[0]["e"]] == "some found the rota rigid"
    assert row[0]["s"] > added["start"] and row[0]["id"].endswith(f"/{row[0]['s']}-{row[0]['e']}")
    # the quote's words gone from the document: left out of this version, said, and kept by the edit
    notes.write_text(notes.read_text(encoding="utf-8").replace("some found the rota rigid", "a few said little"),
                     encoding="utf-8")
    report = await load(store, [garden])
    assert any("addEvidenceQuote by alice" in w and "left out of this version" in w for w in report.warnings)
    assert not await store.read("MATCH (q:EvidenceQuote {exact: 'some found the rota rigid'}) RETURN q.id AS id")
    assert (await store.read("MATCH (e:Edit {operation: 'addEvidenceQuote'}) RETURN count(e) AS n"))[0]["n"] == 1


def test_markdown_and_html_become_normalised_text() -> None:
    md = "# Title\n\nSome *emphasis* and a [link](http://x).\r\n\r\n\r\n- one\n- two   \n"
    assert convert(md, "text/markdown") == "Title\n\nSome emphasis and a link.\n\n- one\n\n- two\n"
    html = ("<html><head><title>t</title><style>p{}</style><script>alert(1)</script></head><body>"
            "<h1>Title</h1><p>First   para,\n wrapped.</p><p>Caf\u0065\u0301 &amp; more</p></body></html>")
    assert convert(html, "text/html") == "Title\n\nFirst para, wrapped.\n\nCaf\u00e9 & more\n"


def test_add_document_keeps_the_study_file_and_rolls_back_on_error(garden: Path, tmp_path: Path) -> None:
    study = garden / "study.yaml"
    page = tmp_path / "Site visit.html"
    page.write_text("<h1>Site visit</h1><p>The rota was rigid, said three volunteers.</p>", encoding="utf-8")
    added = add_document(study, page, source_url="https://example.org/visit", date="2024-06-01")
    assert added.doc_id == "site-visit" and added.text_path.read_text(encoding="utf-8").startswith("Site visit\n")
    text = study.read_text(encoding="utf-8")
    assert text.startswith("# A small second study")  # comments kept
    assert "id: site-visit" in text and "https://example.org/visit" in text
    # quote the new document by its words from a table of claims
    (garden / "tables").mkdir()
    (garden / "tables" / "visit.csv").write_text(
        "kind,id,text,raised_in,concepts,stakeholders,valence,quote,document,hint,occurrence\n"
        "discussion_point,rota-rigid,The rota felt rigid.,interviews,ownership,volunteers,,"
        "\"The rota was rigid, said three volunteers.\",site-visit,,\n"
        "consequence,rota-for-volunteers,A rigid rota tires volunteers.,interviews,ownership,volunteers,negative,"
        "The rota was rigid,site-visit,,\n"
        "consequence,rota-for-volunteers,,,,,,some found the rota rigid,notes,,\n", encoding="utf-8")
    study.write_text(study.read_text(encoding="utf-8") + "tables: [tables/visit.csv]\n", encoding="utf-8")
    prep = prepare([garden])
    texts = {r["props"]["exact"] for label, rows in prep.projected.nodes.items() if label.value == "EvidenceQuote"
             for r in rows}
    assert {"The rota was rigid, said three volunteers.", "The rota was rigid", "some found the rota rigid"} <= texts
    # a table row naming a concept that does not exist: the CSV file and row are named
    bad = (garden / "tables" / "visit.csv").read_text(encoding="utf-8").replace(",ownership,volunteers,negative",
                                                                               ",owner,volunteers,negative")
    (garden / "tables" / "visit.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(KxError) as err:
        prepare([garden])
    assert "visit.csv row 3" in err.value.render() and "'owner'" in err.value.render()
    # adding a document to a study that does not validate changes nothing
    before = study.read_bytes()
    other = tmp_path / "more.txt"
    other.write_text("More notes.\n", encoding="utf-8")
    with pytest.raises(KxError):
        add_document(study, other)
    assert study.read_bytes() == before and not (garden / "documents" / "more.txt").exists()


@given(text=st.text(alphabet="ab .\n\u00e9\U0001f642", min_size=1, max_size=300), data=st.data())
@settings(max_examples=300, deadline=None)
def test_reanchor_never_fails_and_never_points_outside(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    q = OldQuote(text[start:end], text[max(0, start - CONTEXT):start], text[end:end + CONTEXT], start, end)
    new = data.draw(st.text(alphabet="ab .\n\u00e9\U0001f642", max_size=300))
    p = reanchor(q, new, old_text=text)
    if p.status == "orphaned":
        assert p.start is None and p.end is None
    else:
        assert p.start is not None and p.end is not None and 0 <= p.start < p.end <= len(new)
        if p.status in ("exact", "moved"):
            assert new[p.start:p.end] == q.exact
