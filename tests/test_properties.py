"""Property tests (hypothesis): anchoring always stores the document's own text; loading is
idempotent; export -> import gives the same graph."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.compare import isomorphic

from bench.generate import generate_study
from kxgraph.errors import QuoteError
from kxgraph.graph.falkordb_backend import FalkorStore
from kxgraph.graph.falkordb_server import EmbeddedFalkorDB
from kxgraph.loaders.anchoring import CONTEXT, DocumentIndex, anchor_quote, check_anchor, occurrences, sha256_text
from kxgraph.loaders.export import export_graph, serialize
from kxgraph.loaders.pipeline import load, prepare
from tests.helpers import fingerprint

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=400)


@given(text=TEXT, data=st.data())
def test_an_anchored_quote_is_always_the_document_text_at_its_offsets(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    exact = text[start:end]
    if not exact.strip():  # white space alone is no evidence: refused, never anchored
        try:
            anchor_quote(text, exact, file="f", place="p")
        except QuoteError:
            return
        raise AssertionError("a blank quote was anchored")
    count = text.count(exact)  # non-overlapping count is a lower bound; we ask by occurrence below
    occurrences = [i for i in range(len(text)) if text.startswith(exact, i)]
    occurrence = occurrences.index(start) + 1
    a = anchor_quote(text, exact, occurrence=occurrence if len(occurrences) > 1 else None, file="f", place="p")
    assert text[a.start:a.end] == a.exact == exact and a.start == start
    assert a.prefix == text[max(0, start - CONTEXT):start] and a.suffix == text[end:end + CONTEXT]
    assert check_anchor(text, sha256_text(text), start=a.start, end=a.end, exact=exact,
                        document_sha256=sha256_text(text), file="f", place="p") == a
    if len(occurrences) > 1:
        try:
            anchor_quote(text, exact, file="f", place="p")
        except QuoteError as exc:
            assert "ambiguous" in str(exc)
        else:
            raise AssertionError("an ambiguous quote was anchored")
    assert count >= 1


#: few letters, so passages overlap and repeat; an emoji (one code point, two in UTF-16), a combining
#: accent and a line break among them
SMALL = st.text(alphabet="ab \n\u00e9\u0301\U0001f642", min_size=0, max_size=120)


@given(text=SMALL, data=st.data())
def test_a_documents_index_finds_what_a_search_of_each_quote_finds(text: str, data: st.DataObject) -> None:
    cut = st.tuples(st.integers(0, len(text)), st.integers(0, 8))
    passages = [text[i:i + n] for i, n in data.draw(st.lists(cut, max_size=12))]
    passages += data.draw(st.lists(SMALL.filter(lambda s: len(s) <= 6), max_size=4))  # some not in the text
    index = DocumentIndex(text, passages)
    for passage in {p for p in passages if p} | {"b\U0001f642", "not given"}:
        every = [i for i in range(len(text)) if text.startswith(passage, i)]  # overlapping ones too
        assert index.occurrences(passage) == occurrences(text, passage) == every
        if not passage.strip():
            continue
        hint = data.draw(st.sampled_from([None, *passages])) or None
        occurrence = data.draw(st.sampled_from([None, 1, 2]))
        outcomes = []
        for given_index in (None, index):
            try:
                outcomes.append(anchor_quote(text, passage, hint=hint, occurrence=occurrence, file="f", place="p",
                                             index=given_index))
            except QuoteError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]


@given(text=TEXT, other=TEXT)
def test_a_quote_not_in_the_text_is_never_anchored(text: str, other: str) -> None:
    if other in text or not other.strip():
        return
    try:
        anchor_quote(text, other, file="f", place="p")
    except QuoteError:
        return
    raise AssertionError("anchored text that is not in the document")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes=st.integers(2, 60), seed=st.integers(0, 10_000))
def test_loading_twice_changes_nothing_and_export_import_round_trips(quotes: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kxh") as tmp:
        study = generate_study(Path(tmp) / "s", quotes=quotes, study_id=f"s{seed}", seed=seed)
        asyncio.run(_round(Path(tmp), study))


async def _round(tmp: Path, study: Path) -> None:
    with EmbeddedFalkorDB(tmp / "db", appendfsync="everysec") as server:
        store = FalkorStore(graph_name=f"h{uuid.uuid4().hex[:8]}", socket_path=str(server.socket_path))
        await store.open()
        try:
            first = await load(store, [study])
            before = await fingerprint(store)
            second = await load(store, [study])
            assert first.changed and not second.changed
            assert await fingerprint(store) == before
            exported = await export_graph(store)
            assert isomorphic(exported, prepare([study]).rdf())
            (tmp / "x.ttl").write_text(serialize(exported, "turtle"), encoding="utf-8")
            await store.drop_graph()
            await load(store, [tmp / "x.ttl"])
            assert isomorphic(await export_graph(store), exported)
        finally:
            await store.close()
