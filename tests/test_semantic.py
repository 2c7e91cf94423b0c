"""Search by meaning (issue 20), on both stores: text embeddings made at load (reused when the text
is unchanged), the stores' own vector indexes, ``search(mode: MEANING | BOTH)`` and ``similar``; and
without the optional model, a clear message and everything else as before."""

from __future__ import annotations

from typing import Any

import pytest

from kxgraph.graph.store import Store
from kxgraph.loaders import embedding
from kxgraph.loaders.export import export_graph
from kxgraph.loaders.pipeline import load
from tests.helpers import BUNDLED, SECOND, ask, needs_meaning

pytestmark = pytest.mark.anyio

SEARCH = ("query($t: String!, $m: SearchMode!, $n: Int) { search(text: $t, mode: $m, limit: $n) "
          "{ score kind via { id } node { id ... on Claim { evidence { id } } } } }")
Q = "link-worker/quote/exeter-blog/"


@pytest.fixture(autouse=True)
def model() -> None:
    needs_meaning()


async def _search(store: Store, text: str, mode: str = "MEANING", limit: int = 3) -> list[dict[str, Any]]:
    data, errors, _ = await ask(store, SEARCH, {"t": text, "m": mode, "n": limit}, compiled=False)
    assert not errors and data is not None, errors
    return data["search"]


async def test_the_issues_examples_find_their_evidence_by_meaning(store: Store) -> None:
    """"Feeling safe and looked after" finds the quote "feel contained, reassured and emotionally
    supported" in its first three, and "patients relying too much on the link worker" the quote
    "the difference between secure attachment to and dependence on the link worker": through the
    claim it backs, which is what the query matches (``via``)."""
    await load(store, [BUNDLED, SECOND])
    safe = await _search(store, "feeling safe and looked after")
    assert Q + "3327-3419" in [h["node"]["id"] for h in safe], safe
    relying = await _search(store, "patients relying too much on the link worker")
    found = {h["node"]["id"]: h for h in relying}
    assert Q + "4444-4540" in found, relying
    via = found[Q + "4444-4540"]["via"]
    if via is not None:  # found through a claim: the claim is in the results, just before, and the quote backs it
        ids = [h["node"]["id"] for h in relying]
        assert ids.index(via["id"]) < ids.index(Q + "4444-4540")
        assert Q + "4444-4540" in {q["id"] for q in found[via["id"]]["node"]["evidence"]}
        assert found[Q + "4444-4540"]["score"] == found[via["id"]]["score"]
    scores = [h["score"] for h in relying]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)


async def test_a_quote_ranks_with_the_nearest_claim_it_backs(bundled: Store) -> None:
    """Each quote found through a claim comes after that claim, with its score, and backs it; no
    quote is given twice; the other hits keep the order of their own similarity."""
    for text in ("patients relying too much on the link worker", "stopping workers from burning out",
                 "poorer areas with sicker residents"):
        hits = await _search(bundled, text, limit=10)
        ids = [h["node"]["id"] for h in hits]
        assert len(ids) == len(set(ids)), ids
        for i, h in enumerate(hits):
            if h["via"] is None:
                continue
            assert h["kind"] == "EvidenceQuote"
            claim = ids.index(h["via"]["id"])
            assert claim < i and hits[claim]["score"] == h["score"]
            assert h["node"]["id"] in {q["id"] for q in hits[claim]["node"]["evidence"]}
        own = [h["node"]["id"] for h in hits if h["via"] is None]
        plain = await _plain_nearest(bundled, text, 10)  # the hits by their own texts keep their order
        assert own == [i for i in plain if i in own] and set(own) <= set(plain), (own, plain)


async def _plain_nearest(store: Store, text: str, n: int) -> list[str]:
    """The nearest nodes by their own embeddings, asked of the store directly."""
    rows = await store.nearest(embedding.embed([text])[0], n * 3 + 1)
    return [r["node"]["id"] for r in rows][:n]


async def test_a_study_loaded_beside_another_keeps_its_vectors_searchable(bundled: Store) -> None:
    """Loading a second study copies the first one's embeddings into the new graph (FalkorDB's
    staging copy): they must stay vectors that the index reads, not lists."""
    await load(bundled, [SECOND])
    ids = [h["node"]["id"] for h in await _search(bundled, "feeling safe and looked after")]
    assert Q + "3327-3419" in ids, ids
    garden = [h["node"]["id"] for h in await _search(bundled, "volunteers feel they belong", limit=5)]
    assert any(i.startswith("allotment/") for i in garden), garden


async def test_both_fuses_the_two_rankings(bundled: Store) -> None:
    text = "discretion for link workers"
    words = [h["node"]["id"] for h in await _search(bundled, text, "WORDS", 10)]
    meaning = [h["node"]["id"] for h in await _search(bundled, text, "MEANING", 10)]
    both = await _search(bundled, text, "BOTH", 10)
    # reciprocal rank fusion, computed here from the two rankings the API gives on their own
    fused: dict[str, float] = {}
    for ranking in (words, meaning):
        for rank, ident in enumerate(ranking, start=1):
            fused[ident] = fused.get(ident, 0.0) + 1 / (60 + rank)
    assert words and meaning and set(words) != set(meaning)
    assert [h["node"]["id"] for h in both] == sorted(fused, key=lambda k: (-fused[k], k))[:10]
    assert [h["score"] for h in both] == [round(fused[h["node"]["id"]], 6) for h in both]


async def test_similar_gives_the_nearest_evidence_in_the_study(store: Store) -> None:
    await load(store, [BUNDLED, SECOND])
    quote = Q + "3327-3419"
    data, errors, _ = await ask(store, "query($id: ID!) { similar(id: $id, limit: 5) { score kind node { id study } } }",
                                {"id": quote}, compiled=False)
    assert not errors and data is not None, errors
    hits = data["similar"]
    ids = [h["node"]["id"] for h in hits]
    assert quote not in ids and len(ids) == 5
    assert "link-worker/consequence/holding-contains-patients" in ids[:2]  # the claim in the quote's words
    assert {h["node"]["study"] for h in hits} == {"link-worker"}
    data, _, _ = await ask(store, 'query { similar(id: "link-worker/quote/no-such", limit: 5) { score } }',
                           compiled=False)
    assert data == {"similar": []}


async def test_an_unchanged_text_is_not_embedded_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded: list[int] = []
    real = embedding.embed

    def counted(texts: Any, *args: Any, **kwargs: Any) -> Any:
        embedded.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embedding, "embed", counted)
    await load(store, [BUNDLED])
    rows = await store.read("MATCH (e:Embedding)-[:EMBEDS]->(o) RETURN labels(o)[0] AS label, count(e) AS n")
    counts = {r["label"]: r["n"] for r in rows}
    quotes = await store.read("MATCH (q:EvidenceQuote) RETURN count(q) AS n")
    assert counts["EvidenceQuote"] == quotes[0]["n"] and set(counts) == {
        "EvidenceQuote", "DiscussionPoint", "Consequence", "Definition", "Concept"}
    assert 0 < sum(embedded) <= sum(counts.values())  # each distinct text once
    embedded.clear()
    await load(store, [BUNDLED], force=True)
    assert embedded == []  # every text was embedded before: the vectors are reused
    after = await store.read("MATCH (e:Embedding) RETURN count(e) AS n")
    assert after[0]["n"] == sum(counts.values())
    turtle = (await export_graph(store)).serialize(format="turtle")
    assert "Embedding" not in turtle and "vector" not in turtle  # derived data, never exported


async def test_without_the_model_meaning_is_off_and_says_how_to_get_it(store: Store,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "unavailable", lambda: "search by meaning needs the optional model: "
                                                          + embedding.INSTALL)
    await load(store, [BUNDLED])
    assert (await store.read("MATCH (e:Embedding) RETURN count(e) AS n"))[0]["n"] == 0
    data, errors, _ = await ask(store, SEARCH, {"t": "feeling safe", "m": "MEANING", "n": 3}, compiled=False)
    assert data is None and errors[0].extensions["code"] == "NOT_INSTALLED"
    assert "pip install 'kxgraph[semantic]'" in errors[0].message and "kxgraph model install" in errors[0].message
    assert await _search(store, "holding", "WORDS")  # words as before


async def test_suggested_concepts_come_from_the_nearest_evidence(store: Store) -> None:
    await load(store, [BUNDLED, SECOND])
    quote = Q + "3327-3419"  # "... feel contained, reassured and emotionally supported": holding's evidence
    data, errors, _ = await ask(store, "query($q: ID!) { suggestedConcepts(quote: $q, limit: 3) { score alreadyLinked "
                                       "concept { id name } because { score node { id } } } }", {"q": quote},
                                compiled=False)
    assert not errors and data is not None, errors
    suggestions = data["suggestedConcepts"]
    assert suggestions[0]["concept"]["name"] == "Holding" and suggestions[0]["alreadyLinked"]
    assert [s["score"] for s in suggestions] == sorted((s["score"] for s in suggestions), reverse=True)
    for s in suggestions:  # each reason is evidence that does bear on the concept, and not the quote itself
        assert s["because"] and s["score"] == s["because"][0]["score"]
        for hit in s["because"]:
            assert hit["node"]["id"] != quote
            rows = await store.read(
                "MATCH (n {id: $id}) OPTIONAL MATCH (n)<-[:SUPPORTED_BY]-()-[:CONCERNS|OF_CONCEPT|DEFINES]->(a) "
                "OPTIONAL MATCH (n)-[:CONCERNS|OF_CONCEPT|DEFINES]->(b) RETURN collect(a.id) + collect(b.id) AS ks",
                {"id": hit["node"]["id"]})
            assert s["concept"]["id"] in rows[0]["ks"], (s["concept"], hit)


def test_the_model_loads_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model and its tokenizer are read from their files: no network connection is ever
    opened while it loads and embeds. (Only network sockets are refused: the suite's embedded
    store, in another thread of this process, talks over a Unix socket meanwhile.)"""
    import socket

    connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"the model tried to connect: {address}")
        return connect(self, address)

    def refuse_any(address: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the model tried to connect: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_any)
    embedding._model.cache_clear()
    try:
        vectors = embedding.embed(["feeling safe and looked after", "feel contained and reassured", "x" * 5000])
    finally:
        embedding._model.cache_clear()
    assert len(vectors) == 3 and all(len(v) == embedding.DIMENSIONS for v in vectors)
    assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-3  # unit vectors: cosine is the dot product
    near = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
    far = sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True))
    assert near > far  # the paraphrase is nearer than noise


@pytest.mark.model
def test_a_batch_gives_each_text_its_own_vector() -> None:
    """Texts are batched by length: each vector must still be its own text's, as if embedded alone
    (to within the quantised model's rounding, which depends a little on the batch)."""
    texts = ["a much longer text about link workers holding patients through a difficult time", "holding", "GPs"]
    together = embedding.embed(texts, batch=2)
    alone = [embedding.embed([t])[0] for t in texts]
    for a, b in zip(together, alone, strict=True):
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.99


async def test_embeddings_stay_out_of_the_graph_people_see(bundled: Store) -> None:
    """The neighbourhood of a quote (and so its pictures) shows its claims and document, not its
    embedding."""
    data, errors, _ = await ask(bundled, 'query($id: ID!) { neighbourhood(id: $id, depth: 2) { nodes { id kind } } }',
                                {"id": Q + "3327-3419"}, compiled=False)
    assert not errors and data is not None, errors
    kinds = {n["kind"] for n in data["neighbourhood"]["nodes"]}
    assert "Embedding" not in kinds and {"Consequence", "SourceDocument"} <= kinds, kinds


async def test_meaning_can_be_left_out_of_a_load(store: Store) -> None:
    """``KXGRAPH_MEANING=false``: the load writes no embeddings (and search by meaning finds nothing)."""
    await load(store, [BUNDLED], meaning=False)
    assert (await store.read("MATCH (e:Embedding) RETURN count(e) AS n"))[0]["n"] == 0
    assert await _search(store, "feeling safe and looked after") == []
    await load(store, [BUNDLED], force=True)
    assert (await store.read("MATCH (e:Embedding) RETURN count(e) AS n"))[0]["n"] > 0


async def test_a_quote_added_through_the_api_is_found_by_meaning_and_stays_found(store: Store) -> None:
    from tests.test_graphql import client

    await load(store, [BUNDLED])
    async with client(store, api_tokens="alice:s3cret", token="s3cret") as c:
        added = await c.ok('mutation { addEvidenceQuote(claim: "link-worker/discussion-point/dip-in-and-out", '
                           'quote: {text: "This yielded rich discussion"}) { id } }')
    quote = added["addEvidenceQuote"]["id"]
    rows = await store.read("MATCH (e:Embedding)-[:EMBEDS]->(:EvidenceQuote {id: $id}) RETURN e.key AS key",
                            {"id": quote})
    assert len(rows) == 1 and rows[0]["key"].startswith(embedding.model_name() + ":")  # embedded as it was added
    assert quote in [h["node"]["id"] for h in await _search(store, "a fruitful conversation", limit=5)]
    await load(store, [BUNDLED], force=True)  # the study again: the added quote and its embedding stay
    assert quote in [h["node"]["id"] for h in await _search(store, "a fruitful conversation", limit=5)]


async def test_a_load_says_how_far_its_embedding_is(store: Store) -> None:
    said: list[str] = []
    await load(store, [BUNDLED], progress=said.append)
    steps = [m for m in said if m.startswith("embedding texts for search by meaning:")]
    assert steps, said
    done = [int(m.split(": ")[1].split(" of ")[0].replace(",", "")) for m in steps]
    total = int(steps[-1].split(" of ")[1].replace(",", ""))
    assert done == sorted(done) and done[-1] == total > 0
