"""An edit made through the API is a small load (loaders/edits.py), on both stores: recorded as an
entry of the study format on its Edit node, written the loader's way (the same ids, nodes and links
as the same entry in a study file), applied again by every load of its study — left out, saying
so, while it does not fit, and back when it does; an edit made while a load writes is not lost; edits
an older kxgraph recorded are given their entry and kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kxgraph.graph.store import Store
from kxgraph.loaders import pipeline
from kxgraph.loaders.edits import Edit, apply_to_store, record_legacy_edits
from kxgraph.loaders.pipeline import load
from tests.helpers import SECOND, fingerprint
from tests.test_graphql import client

pytestmark = pytest.mark.anyio

POINT = """mutation($p: DiscussionPointInput!) { addDiscussionPoint(point: $p) { id evidence { id exact } } }"""
ROTA = {"study": "allotment", "slug": "rota-tires", "text": "A rigid rota tires volunteers.",
        "raisedIn": "allotment/event/interviews", "concerns": ["allotment/concept/ownership"],
        "affects": ["allotment/stakeholder/volunteers"], "evidence": [{"text": "some found the rota rigid"}]}


@pytest.fixture
def garden(tmp_path: Path) -> Path:
    target = tmp_path / "garden"
    shutil.copytree(SECOND, target)
    return target


async def _node(store: Store, ident: str) -> dict[str, Any] | None:
    nodes, _ = await fingerprint(store)
    return next((n for n in nodes if n["id"] == ident), None)


async def _links(store: Store, ident: str) -> set[tuple[str, str, str]]:
    """The node's links, but what generated it (an edit, or nothing: a load generates the study)."""
    _, rels = await fingerprint(store)
    return {(r["src"], r["type"], r["dst"]) for r in rels if ident in (r["src"], r["dst"]) and r["type"] != "GENERATED"}


async def test_an_edit_is_what_the_same_entry_in_the_study_file_gives(store: Store, garden: Path) -> None:
    """The point added through the API and the same point written in study.yaml are the same nodes,
    properties and links; the edit keeps its entry (the study format's) and what it generated."""
    await load(store, [garden])
    async with client(store, api_tokens="alice:s3cret", token="s3cret") as c:
        added = (await c.ok(POINT, {"p": ROTA}))["addDiscussionPoint"]
    ident = "allotment/discussion-point/rota-tires"
    assert added["id"] == ident
    [quote] = added["evidence"]
    assert quote["id"].startswith("allotment/quote/notes/") and quote["exact"] == "some found the rota rigid"
    by_api = (await _node(store, ident), await _node(store, quote["id"]), await _links(store, ident))
    [edit] = await pipeline.study_edits(store, ["allotment"])
    assert edit.operation == "addDiscussionPoint" and edit.agent == "alice"
    assert edit.entry["entry"] == {"id": "rota-tires", "text": "A rigid rota tires volunteers.", "raised_in": "interviews",
                                   "concerns": ["ownership"], "affects": ["volunteers"]}
    assert edit.entry["evidence"][0]["anchored"]["exact"] == "some found the rota rigid"
    generated = {(r["src"], r["dst"]) for r in (await fingerprint(store))[1] if r["type"] == "GENERATED"
                 and r["src"] == edit.id}
    assert generated == {(edit.id, ident), (edit.id, quote["id"])}
    # the same entry, written in the study file by hand, on another store state
    study = garden / "study.yaml"
    study.write_text(study.read_text(encoding="utf-8").replace("consequences:", (
        "  - id: rota-tires\n    text: A rigid rota tires volunteers.\n    raised_in: interviews\n"
        "    concerns: [ownership]\n    affects: [volunteers]\n    evidence: [\"some found the rota rigid\"]\n"
        "consequences:"), 1), encoding="utf-8")
    await store.drop_graph()
    await load(store, [garden])
    by_file = (await _node(store, ident), await _node(store, quote["id"]), await _links(store, ident))
    assert by_api == by_file


async def test_a_load_applies_edits_again_and_says_when_one_no_longer_fits(store: Store, garden: Path) -> None:
    """The concept the point concerns is taken out of the study file: the point is left out of that
    version, and the load says why; the edit stays recorded, and the point is back once the concept is."""
    await load(store, [garden])
    async with client(store, api_tokens="alice:s3cret", token="s3cret") as c:
        await c.ok(POINT, {"p": ROTA})
    ident = "allotment/discussion-point/rota-tires"
    before = await _node(store, ident)
    study = garden / "study.yaml"
    original = study.read_text(encoding="utf-8")
    report = await load(store, [garden], force=True)
    assert report.warnings == [] and await _node(store, ident) == before  # applied again, the same
    study.write_text(original.replace("  - id: ownership\n    name: Ownership of plots\n", "").replace(
        "    concerns: [ownership]\n", "    concerns: [belonging]\n").replace(
        "    concept: ownership\n", "    concept: belonging\n"), encoding="utf-8")
    report = await load(store, [garden])
    [said] = [w for w in report.warnings if "addDiscussionPoint by alice" in w]
    assert "left out of this version of allotment" in said and "'ownership' is not an id in concepts" in said
    assert "stays recorded" in said
    assert await _node(store, ident) is None
    assert len(await pipeline.study_edits(store, ["allotment"])) == 1
    study.write_text(original, encoding="utf-8")
    report = await load(store, [garden])
    assert report.warnings == [] and await _node(store, ident) == before
    # an entry broken by hand on the Edit node: said, and the load goes on without it
    await store.execute("MATCH (e:Edit) SET e.editEntry = '{not json'")
    report = await load(store, [garden], force=True)
    assert any("its entry cannot be read" in w for w in report.warnings) and await _node(store, ident) is None


async def test_an_edit_made_while_a_load_writes_is_not_lost(store: Store, garden: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The load read the study's edits before it wrote; an edit acknowledged meanwhile is made again
    in the new graph once the load has swapped it in."""
    await load(store, [garden])
    real = type(store).replace_graph

    async def with_an_edit_meanwhile(self: Store, *args: Any, **kwargs: Any) -> None:
        edit = Edit.new("addDiscussionPoint", "allotment", "bob", {
            "section": "discussion_points",
            "entry": {"id": "meanwhile", "text": "Written during the load.", "raised_in": "interviews",
                      "concerns": ["belonging"], "affects": []},
            "evidence": [{"text": "some found the rota rigid", "document": None}]})
        await apply_to_store(self, edit, meaning=False)  # acknowledged before the swap
        await real(self, *args, **kwargs)

    monkeypatch.setattr(type(store), "replace_graph", with_an_edit_meanwhile)
    await load(store, [garden], force=True, meaning=False)
    monkeypatch.setattr(type(store), "replace_graph", real)
    point = await _node(store, "allotment/discussion-point/meanwhile")
    assert point is not None and point["props"]["text"] == "Written during the load."
    assert any(t == "SUPPORTED_BY" for _, t, _ in await _links(store, "allotment/discussion-point/meanwhile"))


async def test_edits_an_older_kxgraph_recorded_are_kept(store: Store, garden: Path) -> None:
    """Before edits kept their entry, the API wrote nodes marked origin 'api' with their links as id
    lists. They are given their entry from what they generated, and the next load applies them: the
    point and its quote stay, now with the loader's ids."""
    await load(store, [garden])
    doc = (await store.read("MATCH (d:SourceDocument {id: 'allotment/document/notes'}) RETURN d.content AS t, "
                            "d.sha256 AS sha"))[0]
    start = doc["t"].index("some found the rota rigid")
    end = start + len("some found the rota rigid")
    old_quote = f"allotment/quote/notes/{start}-{end}/0a1b2c3d"
    point = {"id": "allotment/discussion-point/old-point", "study": "allotment", "origin": "api",
             "text": "An older point.", "raisedInIds": ["allotment/event/interviews"],
             "concernsIds": ["allotment/concept/ownership"], "affectsIds": ["allotment/stakeholder/newcomers"],
             "evidenceIds": [old_quote]}
    quote = {"id": old_quote, "study": "allotment", "origin": "api", "exact": "some found the rota rigid",
             "start": start, "end": end, "prefix": doc["t"][max(0, start - 32):start], "suffix": doc["t"][end:end + 32],
             "documentSha256": doc["sha"], "documentIds": ["allotment/document/notes"],
             "claimIds": ["allotment/discussion-point/old-point"]}
    await store.execute(  # what the API of an older kxgraph wrote
        "CREATE (e:Edit {id: 'edit/2026-01-01T000000-00000000', study: '', startedAt: '2026-01-01T00:00:00+00:00', "
        "agentName: 'carol', operation: 'addDiscussionPoint'}) CREATE (d:DiscussionPoint) SET d += $point "
        "CREATE (q:EvidenceQuote) SET q += $quote CREATE (e)-[:GENERATED]->(d) CREATE (e)-[:GENERATED]->(q) "
        "CREATE (d)-[:SUPPORTED_BY]->(q)", {"point": point, "quote": quote})
    assert await record_legacy_edits(store) == 1
    assert await record_legacy_edits(store) == 0  # once
    [edit] = await pipeline.study_edits(store, ["allotment"])
    assert edit.agent == "carol" and edit.entry["entry"]["concerns"] == ["ownership"]
    assert json.loads(json.dumps(edit.entry["evidence"][0]["anchored"]))["start"] == start
    report = await load(store, [garden], force=True)
    assert report.warnings == []
    node = await _node(store, "allotment/discussion-point/old-point")
    assert node is not None and "origin" not in node["props"] and "raisedInIds" not in node["props"]
    links = await _links(store, "allotment/discussion-point/old-point")
    assert ("allotment/discussion-point/old-point", "SUPPORTED_BY", f"allotment/quote/notes/{start}-{end}") in links
    assert ("allotment/discussion-point/old-point", "CONCERNS", "allotment/concept/ownership") in links
    assert await _node(store, old_quote) is None
