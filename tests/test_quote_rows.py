"""A study file's quotes kept as rows (``loaders/quote_rows.py``) are the same study as their triples:
the same triples when asked for RDF, the same violations of the shapes (compiled and pyshacl's),
the same errors, the same nodes and relationships when projected."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef

from bench.generate import generate_study
from kxgraph.errors import DataFormatError, ValidationError
from kxgraph.loaders import shacl
from kxgraph.loaders.anchoring import Anchor
from kxgraph.loaders.pipeline import prepare
from kxgraph.loaders.projection import project
from kxgraph.loaders.quote_rows import AnchoredRow, QuoteRow, QuoteRows
from kxgraph.loaders.shape_checks import compiled_shapes, run
from kxgraph.loaders.sources import StudySource, quote_triples, read_source
from kxgraph.loaders.study_store import study_graph
from kxgraph.ontology.terms import DATA, KX
from kxgraph.ontology.vocabulary import NodeLabel, ontology_graph
from tests.helpers import BUNDLED, ROOT

STUDIES = [BUNDLED, ROOT / "tests" / "data" / "garden-study", ROOT / "tests" / "data" / "hostile-study"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_study(tmp_path_factory.mktemp("rows") / "study", 300, study_id="rows")


def _both(path: Path) -> tuple[StudySource, Graph]:
    """The study read twice: as the loader keeps it (graph and rows), and as one RDF graph."""
    kept, whole = read_source(path), read_source(path).rdf()
    assert len(kept.quotes) == kept.quote_count > 0, "a study file's quotes are kept as rows"
    return kept, whole


def _studies(generated: Path) -> list[Path]:
    return [*STUDIES, generated]


def test_the_rows_are_the_triples_the_quotes_had(generated: Path) -> None:
    for path in _studies(generated):
        kept, whole = _both(path)
        rows = set(kept.quotes.triples())
        assert len(rows) == kept.quotes.triple_count()
        assert rows <= set(whole)
        assert len(kept.graph) + len(rows) == len(whole)  # none of them was in the graph as well
        assert set(kept.rdf()) == set(whole)


def test_rows_give_the_triples_quote_triples_gives() -> None:
    doc = DATA["s/document/d"]
    anchors = [Anchor.at("The quick brown fox jumps over the lazy dog.", 4, 9),
               Anchor.at("The quick brown fox jumps over the lazy dog.", 4, 9),  # the same quote again
               Anchor.at("The quick brown fox jumps over the lazy dog.", 0, 3)]
    rows, graph = QuoteRows(), study_graph()
    made = [rows.add("s", "d", doc, "0" * 64, a) for a in anchors]
    assert made == [quote_triples(graph, "s", "d", doc, "0" * 64, a) for a in anchors]
    assert [new for _, new in made] == [True, False, True]
    assert set(rows.triples()) == set(graph) and rows.triple_count() == len(graph)
    for predicate in {p for _, p, _ in graph}:
        assert sorted(rows.subject_objects(predicate)) == sorted(graph.subject_objects(predicate))
    assert list(rows.subject_objects(URIRef("https://w3id.org/kxgraph/ns#text"))) == []


def test_the_same_projection(generated: Path) -> None:
    for path in _studies(generated):
        kept, whole = _both(path)
        assert project(kept.graph, file="f", quotes=kept.quotes) == project(whole, file="f"), path.name


def _results(data: Graph, rows: QuoteRows | None = None) -> Counter[str]:
    """The compiled checks' violations (with ``rows``: each row's checks worked out once per value)."""
    shapes = compiled_shapes(shacl.validation_shapes())
    assert shapes is not None
    return Counter(map(repr, run(shapes, data, ontology_graph(), rows=[rows] if rows else [])))


def _whole(kept: StudySource) -> Graph:
    whole = study_graph()
    whole += kept.graph
    return kept.quotes.add_to(whole)


def _damaged(path: Path) -> tuple[StudySource, Graph]:
    """The study with quotes that break every rule of a quote's shape: empty, ending before they
    start, from a document that is not one, with a checksum that is not one."""
    kept = read_source(path)
    sid = kept.study_ids[0]
    doc = next(o for _, o in kept.quotes.subject_objects(URIRef("http://www.w3.org/ns/oa#hasSource")))
    claim = DATA[f"{sid}/concept/not-a-document"]
    for a, source, checksum in ((Anchor(start=5, end=5, exact="", prefix="", suffix=""), doc, "f" * 64),
                                (Anchor(start=9, end=3, exact="backwards", prefix="", suffix=""), doc, "f" * 64),
                                (Anchor(start=1, end=4, exact="abc", prefix="", suffix=""), claim, "f" * 64),
                                (Anchor(start=2, end=5, exact="abc", prefix="", suffix=""), doc, "not hex")):
        assert kept.quotes.add(sid, "damaged", source, checksum, a)[1]
    return kept, _whole(kept)


def test_the_same_violations_compiled_and_by_pyshacl(generated: Path) -> None:
    for path in (BUNDLED, generated):
        kept, whole = _damaged(path)
        found = _results(kept.graph, kept.quotes)
        assert found == _results(whole) == Counter(map(repr, shacl.pyshacl_results(whole)))
        assert sum(found.values()) >= 4, "each damaged quote breaks a rule"


def test_the_same_error_for_the_user() -> None:
    kept, whole = _damaged(BUNDLED)
    with pytest.raises(ValidationError) as from_rows:
        shacl.validate(kept.graph, file="study.yaml", places=kept.places, quotes=kept.quotes)
    with pytest.raises(ValidationError) as from_graph:
        shacl.validate(whole, file="study.yaml", places=kept.places)
    assert str(from_rows.value) == str(from_graph.value)
    assert "a quote has a start offset before its end" in str(from_rows.value)


def test_pyshacl_reads_the_rows_too_when_the_shapes_do_not_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    kept, whole = _damaged(BUNDLED)
    monkeypatch.setattr(shacl, "compiled_shapes", lambda _shapes: None)
    with pytest.raises(ValidationError) as from_rows:
        shacl.validate(kept.graph, file="study.yaml", places=kept.places, quotes=kept.quotes)
    assert "a quote records the checksum of the text it was anchored in" in str(from_rows.value)
    assert len(kept.graph) + kept.quotes.triple_count() == len(whole)  # the data is left as it was


def test_a_row_whose_document_is_not_in_the_study_is_refused_as_its_triple_is() -> None:
    kept = read_source(BUNDLED)
    kept.quotes.add(kept.study_ids[0], "elsewhere", DATA["other/document/x"], "f" * 64,
                    Anchor(start=1, end=4, exact="abc", prefix="", suffix=""))
    with pytest.raises(DataFormatError) as from_rows:
        project(kept.graph, file="f", quotes=kept.quotes)
    with pytest.raises(DataFormatError) as from_graph:
        project(kept.rdf(), file="f")
    assert str(from_rows.value) == str(from_graph.value)


def test_a_load_keeps_the_rows_and_counts_their_triples(generated: Path) -> None:
    prep = prepare([BUNDLED, generated])
    assert len(prep.quotes) == prep.quote_count
    triples = prep.triples
    assert triples == len(prep.rdf()) and len(prep.quotes) == 0  # the rows moved into the graph


OFFSETS = st.integers(-2, 12)
TEXTS = st.sampled_from(["", "a", "abc", "f" * 64, "0" * 63, "F" * 64])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage=st.lists(st.tuples(OFFSETS, OFFSETS, TEXTS, TEXTS, st.booleans()), max_size=6))
def test_the_same_violations_on_random_rows(damage: list[tuple[int, int, str, str, bool]]) -> None:
    """Quotes with any offsets, texts and checksums, from the document or from an entity that is
    not one: the checks worked out per value find what the compiled checks and pyshacl find on
    the same quotes as triples."""
    kept = read_source(BUNDLED)
    sid = kept.study_ids[0]
    doc = next(o for _, o in kept.quotes.subject_objects(URIRef("http://www.w3.org/ns/oa#hasSource")))
    for i, (start, end, exact, checksum, from_doc) in enumerate(damage):
        kept.quotes.add(sid, f"damaged-{i}", doc if from_doc else DATA[f"{sid}/concept/x{i}"], checksum,
                        Anchor(start=start, end=end, exact=exact, prefix="", suffix=""))
    whole = _whole(kept)
    assert _results(kept.graph, kept.quotes) == _results(whole) == Counter(map(repr, shacl.pyshacl_results(whole)))


@pytest.mark.parametrize("remembered", [1, 2, 3])
def test_a_check_that_forgets_values_finds_the_same_violations(monkeypatch: pytest.MonkeyPatch,
                                                                  remembered: int) -> None:
    """The row checks remember a bounded number of values (``shape_checks._REMEMBERED``): with a
    memory of one to three values, the damaged quotes (values shared and not) give the same
    violations as their triples do."""
    from kxgraph.loaders import shape_checks

    kept, whole = _damaged(BUNDLED)
    expected = _results(whole)
    monkeypatch.setattr(shape_checks, "_REMEMBERED", remembered)
    assert _results(kept.graph, kept.quotes) == expected == Counter(map(repr, shacl.pyshacl_results(whole)))
    assert sum(expected.values()) >= 4


def test_rows_the_graph_also_speaks_of_are_checked_with_it() -> None:
    """A quote's subject in the graph as well (a second text): its checks read both, as they do
    when all its triples are in the graph."""
    kept = read_source(BUNDLED)
    quote, _ = next(iter(kept.quotes.items()))
    kept.graph.add((quote, URIRef("http://www.w3.org/ns/oa#exact"), Literal("a second text")))
    found = _results(kept.graph, kept.quotes)
    assert found == _results(_whole(kept))
    assert any("a quote has its exact text" in r for r in found)


def test_offsets_that_are_not_whole_numbers_are_checked_as_triples_are() -> None:
    kept = read_source(BUNDLED)
    sid = kept.study_ids[0]
    doc = next(o for _, o in kept.quotes.subject_objects(URIRef("http://www.w3.org/ns/oa#hasSource")))
    kept.quotes.add(sid, "text-offsets", doc, "f" * 64, Anchor(start="9", end="3", exact="x",  # type: ignore[arg-type]
                                                              prefix="", suffix=""))
    found = _results(kept.graph, kept.quotes)
    assert found == _results(_whole(kept)) == Counter(map(repr, shacl.pyshacl_results(_whole(kept))))
    assert any("start offset before its end" in r for r in found)


def test_projected_rows_read_as_the_lists_of_rows_they_replace(generated: Path) -> None:
    """The projection keeps nodes as ``(id, props)`` and relationships as ``(src, dst)`` pairs
    (``projection.NodeRows``/``RelationshipRows``); read whole, by index, by slice (with a step,
    as the store's size estimate reads them) they are the rows of the merge statements."""
    projected = prepare([BUNDLED, generated]).projected
    groups = [*projected.nodes.values(), *projected.relationships.values()]
    assert sum(map(len, groups)) > 1000
    for rows in groups:
        as_list = list(rows)
        assert all(set(r) in ({"id", "props"}, {"src", "dst"}) for r in as_list)
        assert rows == as_list and len(rows) == len(as_list)
        for part in (slice(0, 3), slice(1, None), slice(None, None, 7), slice(-2, None), slice(5, 2)):
            assert rows[part] == as_list[part]
        assert rows[0] == as_list[0] and rows[-1] == as_list[-1]
    for rows in projected.relationships.values():
        pairs = [(r["src"], r["dst"]) for r in rows]
        assert pairs == sorted(set(pairs)), "each relationship once, in order"


def test_a_quote_row_the_graph_says_more_of_is_projected_with_it() -> None:
    """A quote kept as a row gets its properties when its row is read (``QuoteNodeRows``); what
    the graph says of it besides (an anchor status) is among them, and a second exact text is
    refused with the error its triples get."""
    kept = read_source(BUNDLED)
    quote, row = next(iter(kept.quotes.items()))
    kept.graph.add((quote, URIRef(str(KX.anchorStatus)), Literal("moved")))
    lazy = project(kept.graph, file="f", quotes=kept.quotes)
    eager = project(_whole(kept), file="f")
    assert lazy == eager
    [made] = [r["props"] for r in lazy.nodes[NodeLabel.EvidenceQuote] if r["props"]["iri"] == str(quote)]
    assert made["anchorStatus"] == "moved" and made["exact"] == row.exact and made["start"] == row.start
    kept.graph.add((quote, URIRef("http://www.w3.org/ns/oa#exact"), Literal("a second text")))
    with pytest.raises(DataFormatError) as lazily:
        project(kept.graph, file="f", quotes=kept.quotes)
    with pytest.raises(DataFormatError) as eagerly:
        project(_whole(kept), file="f")
    assert "two values for 'exact'" in str(lazily.value) and str(lazily.value) == str(eagerly.value)


def test_a_study_file_s_quotes_read_their_words_in_their_document() -> None:
    """Each quote a study file anchors keeps its document's text and its offsets, not three strings
    (``AnchoredRow``); its words and context are what the anchor had. An anchor that is not the
    text's at its offsets keeps its own strings."""
    kept = read_source(BUNDLED)
    rows = dict(kept.quotes.items())
    assert rows and all(isinstance(r, AnchoredRow) for r in rows.values())
    row = next(iter(rows.values()))
    assert isinstance(row, AnchoredRow)
    a = Anchor.at(row.text, row.start, row.end)
    assert (row.exact, row.prefix, row.suffix) == (a.exact, a.prefix, a.suffix) and row.exact
    other = QuoteRows()
    moved = Anchor(start=row.start, end=row.end, exact=row.exact + " (not the text)", prefix="", suffix="")
    other.add(kept.study_ids[0], "d", row.document, row.checksum, moved, row.text)
    [(_, kept_own)] = other.items()
    assert isinstance(kept_own, QuoteRow) and kept_own.exact == moved.exact
