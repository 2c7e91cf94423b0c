"""The RDF export stands alone: read without ``ontology/kx.ttl`` it is SKOS that SKOS tools
recognise, it passes the SHACL shapes on its own, an independent parser (pyoxigraph) reads the same
triples, JSON-LD comes out in one order whatever the hash seed, and read back it is the same graph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from pyshacl import validate
from rdflib import RDF, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SKOS

from kxgraph.graph.store import Store
from kxgraph.loaders.export import export_graph, serialize
from kxgraph.loaders.pipeline import load, prepare
from kxgraph.loaders.standalone import without_entailments
from kxgraph.ontology.terms import KX
from kxgraph.ontology.vocabulary import shapes_graph
from tests.helpers import BUNDLED, ROOT, fingerprint

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def turtle() -> str:
    return serialize(prepare([BUNDLED]).rdf(), "turtle")


@pytest.fixture(scope="module")
def alone(turtle: str) -> Graph:
    return Graph().parse(data=turtle, format="turtle")


def test_concepts_are_skos_concepts_in_a_scheme_with_top_concepts(alone: Graph) -> None:
    ours = set(alone.subjects(RDF.type, KX.Concept)) | set(alone.subjects(RDF.type, KX.Continuum))
    assert len(ours) == 8
    assert set(alone.subjects(RDF.type, SKOS.Concept)) == ours  # typed directly, no reasoner needed
    schemes = set(alone.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) == 1
    [scheme] = schemes
    assert all((c, SKOS.inScheme, scheme) in alone for c in ours)
    tops = set(alone.objects(scheme, SKOS.hasTopConcept))
    assert tops and tops == set(alone.subjects(SKOS.topConceptOf, scheme))
    assert all(not set(alone.objects(t, SKOS.broader)) for t in tops)


def test_related_is_written_both_ways(alone: Graph) -> None:
    pairs = set(alone.subject_objects(SKOS.related))
    assert pairs and all((b, a) in pairs for a, b in pairs)


def test_the_export_alone_passes_the_shapes(alone: Graph) -> None:
    conforms, _, text = validate(alone, shacl_graph=shapes_graph(), inference="none")
    assert conforms, text


def test_the_shapes_do_fail_on_the_graph_without_its_entailments(turtle: str) -> None:
    """The check above can fail: take the added types away and the export no longer conforms."""
    bare = without_entailments(Graph().parse(data=turtle, format="turtle"))
    conforms, _, _ = validate(bare, shacl_graph=shapes_graph(), inference="none")
    assert not conforms


def test_an_independent_parser_reads_the_same_triples(turtle: str, alone: Graph) -> None:
    store = pyoxigraph.Store()
    store.load(turtle.encode("utf-8"), format=pyoxigraph.RdfFormat.TURTLE)
    assert len(store) == len(alone)
    concepts = {str(q.subject.value) for q in store.quads_for_pattern(
        None, pyoxigraph.NamedNode(str(RDF.type)), pyoxigraph.NamedNode(str(SKOS.Concept)))}
    assert concepts == {str(c) for c in alone.subjects(RDF.type, SKOS.Concept)}


def test_json_ld_is_the_same_text_whatever_the_hash_seed() -> None:
    program = ("import sys; from kxgraph.loaders.export import serialize; "
               "from kxgraph.loaders.pipeline import prepare; from tests.helpers import BUNDLED; "
               "sys.stdout.write(serialize(prepare([BUNDLED]).rdf(), 'json-ld'))")
    outs = [subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout
            for seed in ("1", "2")]
    assert outs[0] == outs[1] and len(outs[0]) > 10_000
    assert isomorphic(Graph().parse(data=outs[0], format="json-ld"),
                      Graph().parse(data=serialize(prepare([BUNDLED]).rdf(), "turtle"), format="turtle"))


@pytest.mark.parametrize("fmt,suffix", [("turtle", ".ttl"), ("json-ld", ".jsonld")])
async def test_read_back_it_is_the_same_graph(bundled: Store, tmp_path: Path, fmt: str, suffix: str) -> None:
    before = await fingerprint(bundled)
    out = tmp_path / f"study{suffix}"
    out.write_text(serialize(await export_graph(bundled), fmt), encoding="utf-8")
    await bundled.drop_graph()
    await load(bundled, [out])
    after = await fingerprint(bundled)
    strip = lambda fp: ([n for n in fp[0] if "Load" not in n["labels"]],  # noqa: E731
                        [r for r in fp[1] if not r["src"].startswith("load/")])
    assert strip(after) == strip(before)
    assert any(isinstance(s, URIRef) for s in Graph().parse(out, format=fmt).subjects(RDF.type, SKOS.Concept))


async def test_the_export_tells_where_each_study_came_from_in_prov_o(store: Store, tmp_path: Path) -> None:
    """Loads and API edits as PROV-O activities: when, which files, what they used and generated,
    who edited; read back, kxgraph records a load of its own and the graph is the same."""
    from rdflib import XSD, Literal
    from rdflib.namespace import PROV

    from tests.test_graphql import client

    await load(store, [BUNDLED])
    async with client(store, api_tokens="alice:s3cret", token="s3cret") as c:
        added = await c.ok('mutation { addEvidenceQuote(claim: "link-worker/discussion-point/dip-in-and-out", '
                           'quote: {text: "This yielded rich discussion"}) { id } }')
    quote = URIRef("https://w3id.org/kxgraph/id/" + added["addEvidenceQuote"]["id"])
    before = await fingerprint(store)
    text = serialize(await export_graph(store, provenance=True), "turtle")
    g = Graph().parse(data=text, format="turtle")
    study = URIRef("https://w3id.org/kxgraph/id/link-worker/study/link-worker")
    [load_activity] = list(g.subjects(PROV.generated, study))
    assert (load_activity, RDF.type, PROV.Activity) in g and (load_activity, RDF.type, KX.Load) in g
    started = g.value(load_activity, PROV.startedAtTime)
    assert isinstance(started, Literal) and started.datatype == XSD.dateTime
    assert set(g.objects(load_activity, PROV.used)) == set(g.subjects(RDF.type, KX.SourceDocument))
    [edit] = list(g.subjects(PROV.generated, quote))
    assert (edit, RDF.type, KX.Edit) in g and str(g.value(edit, KX.agentName)) == "alice"
    out = tmp_path / "with-prov.ttl"
    out.write_text(text, encoding="utf-8")
    await load(store, [out])
    after = await fingerprint(store)

    def content(fp: Any) -> Any:
        return ([n for n in fp[0] if not {"Load", "Edit"} & set(n["labels"])],
                [r for r in fp[1] if not r["src"].startswith(("load/", "edit/"))])
    assert content(after) == content(before)
