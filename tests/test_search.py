"""Search as people expect it, the same on both stores: words next to line breaks, plurals and
stems (GP / GPs, wait / waited), any of several words (the more, the higher), "quoted phrases"."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kxgraph.graph.search_query import parse_search
from kxgraph.graph.store import Store
from kxgraph.loaders.pipeline import load
from tests.helpers import ROOT, GraphQLClient
from tests.test_graphql import client

pytestmark = pytest.mark.anyio

#: a transcript hard-wrapped as they are: CRLF, LF and a tab inside the quoted passages
WRAPPED = ("\nA GP told us the patients they\nwaited for weeks;\r\nthe link\tworker saw them sooner.\n"
           "Another said GPs welcome the link worker's discretion.\n")
EXTRA = """
  - id: waiting-for-patients
    concept: ownership
    stakeholder: newcomers
    valence: negative
    text: "Patients\\nwaited for weeks before the link worker saw them."
    evidence: ["they\\nwaited for weeks;\\r\\nthe link\\tworker saw them sooner", "GPs welcome the link worker's"]
"""


@pytest.fixture
async def garden(store: Store, tmp_path: Path) -> AsyncIterator[GraphQLClient]:
    folder = tmp_path / "garden"
    shutil.copytree(ROOT / "tests" / "data" / "garden-study", folder)
    doc = folder / "documents" / "interview-notes.md"
    doc.write_bytes(doc.read_bytes() + WRAPPED.encode("utf-8"))
    study = folder / "study.yaml"
    study.write_text(study.read_text(encoding="utf-8") + EXTRA, encoding="utf-8")
    await load(store, [folder])
    async with client(store) as c:
        yield c


async def hits(gql: GraphQLClient, text: str) -> list[dict[str, Any]]:
    data = await gql.ok("query($t: String!) { search(text: $t, limit: 50) { kind score snippet node { id } } }",
                        {"t": text})
    out: list[dict[str, Any]] = data["search"]
    return out


def ids(found: list[dict[str, Any]]) -> set[str]:
    return {h["node"]["id"] for h in found}


async def test_words_next_to_line_breaks_and_tabs_are_found(garden: GraphQLClient) -> None:
    for word in ("waited", "weeks", "worker", "sooner"):
        found = await hits(garden, word)
        quotes = [h for h in found if h["kind"] == "EvidenceQuote"]
        assert any("waited for weeks" in h["snippet"] for h in quotes), (word, found)
    # the consequence's own text has a line break too
    assert "allotment/consequence/waiting-for-patients" in ids(await hits(garden, "Patients"))


async def test_plural_and_singular_and_stems(garden: GraphQLClient) -> None:
    gps = [h for h in await hits(garden, "GP") if h["kind"] == "EvidenceQuote"]
    assert any("GPs welcome" in h["snippet"] for h in gps)
    assert any("waited" in h["snippet"] for h in await hits(garden, "wait"))
    assert "allotment/consequence/waiting-for-patients" in ids(await hits(garden, "patient"))
    newcomer = await hits(garden, "newcomer")
    assert "allotment/consequence/ownership-for-newcomers" in ids(newcomer)


async def test_any_word_matches_and_both_words_rank_first(garden: GraphQLClient) -> None:
    found = await hits(garden, "belonging newcomers")
    got = ids(found)
    # neither consequence holds both words, and each is found by one of them
    assert {"allotment/consequence/belonging-for-volunteers", "allotment/consequence/ownership-for-newcomers"} <= got
    both = await hits(garden, "shut newcomers")
    top = next(h for h in both if h["kind"] == "EvidenceQuote")
    assert "shut newcomers" in top["snippet"]


async def test_a_quoted_phrase_must_match_as_written(garden: GraphQLClient) -> None:
    found = [h for h in await hits(garden, '"shut newcomers out"') if h["kind"] == "EvidenceQuote"]
    assert found and all("shut newcomers out" in h["snippet"] for h in found)
    assert [h for h in await hits(garden, '"newcomers shut"') if h["kind"] == "EvidenceQuote"] == []


def test_the_query_is_words_only_whatever_was_typed() -> None:
    q = parse_search('GPs "shut  newcomers out" hold* AND ( @x:{y} -z \\ "')
    assert q.phrases == (("shut", "newcomers", "out"),)
    assert q.words[0] == ("GPs", "GP")
    assert q.lucene().startswith('"shut newcomers out" (GPs OR GP)') and "(and OR ANDs)" in q.lucene()
    assert "@" not in q.redisearch() and "*" not in q.redisearch() and "\\" not in q.redisearch()
    assert not parse_search('" - ( ) *')


async def test_search_as_you_type_matches_the_start_of_the_last_word(garden: GraphQLClient) -> None:
    data = await garden.ok('{ search(text: "belo", prefix: true) { kind node { id } } }')
    assert "allotment/concept/belonging" in {h["node"]["id"] for h in data["search"]}
    assert (await garden.ok('{ search(text: "belo") { kind } }'))["search"] == []  # not without prefix
    assert parse_search("shut newc", prefix_last=True).prefix == "newc"
    assert parse_search('"shut newcomers"', prefix_last=True).prefix is None  # a closed phrase is whole
    assert parse_search("a", prefix_last=True).prefix is None  # one letter matches too much
