"""SHACL validation (pyshacl) with violations in plain words: which entity, which rule, which file."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.plugins.stores.memory import Memory

from kxgraph.errors import ValidationError
from kxgraph.loaders.quote_rows import QuoteRows
from kxgraph.loaders.shape_checks import NotCompiled, Result, Typed, compiled_shapes, run
from kxgraph.ontology.terms import DATA
from kxgraph.ontology.vocabulary import ontology_graph, shapes_graph

__all__ = ["pyshacl_results", "validate"]

log = logging.getLogger(__name__)

MAX_REPORTED = 50
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _short(node: object) -> str:
    text = str(node)
    if text.startswith(str(DATA)):
        return text[len(str(DATA)):]
    for ns in ("https://w3id.org/kxgraph/ns#", "http://www.w3.org/2004/02/skos/core#",
               "http://www.w3.org/ns/oa#", "http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#",
               "http://www.w3.org/2000/01/rdf-schema#"):
        if text.startswith(ns):
            return text[len(ns):]
    return text


@lru_cache(maxsize=1)
def validation_shapes() -> Graph:
    """``shapes.ttl`` with each node shape's property shapes given the node shape's targets and
    standing on their own: the same constraints on the same focus nodes (SHACL 2.1, 2.3), but
    pyshacl then checks a property shape once for all its focus nodes instead of once per focus
    node, rebuilding its constraint components each time — twice as fast at 10k quotes."""
    flat = Graph()
    flat += shapes_graph()
    for node_shape, prop_shape in list(flat.subject_objects(SH.property)):
        for target in TARGETS:
            for value in flat.objects(node_shape, target):
                flat.add((prop_shape, target, value))
        flat.add((prop_shape, RDF.type, SH.PropertyShape))
        flat.remove((node_shape, SH.property, prop_shape))
    return flat


def validate(data: Graph, *, file: str, places: Mapping[URIRef, str] | None = None,
             focus: Sequence[URIRef] | None = None, quotes: QuoteRows | None = None,
             typed: Sequence[Typed] = ()) -> None:
    """Raise :class:`ValidationError` listing every violation, or return when the data conforms;
    ``focus``: check these entities only (an edit's, beside the few triples of what it names);
    ``quotes``: the study's quotes kept as rows beside ``data`` (``loaders/quote_rows.py``).

    The shapes run compiled (``loaders/shape_checks.py``: the same results, ~10× faster); pyshacl
    checks whatever they do not compile. ``typed``: the classes of nodes checked apart that
    ``data`` names (``shape_checks.Typed``); pyshacl does not see them."""
    results = None
    shapes = compiled_shapes(validation_shapes())
    if shapes is not None:
        try:
            results = run(shapes, data, ontology_graph(), focus, rows=[quotes] if quotes else [], typed=typed)
        except NotCompiled as exc:
            log.info("pyshacl checks %s: %s", file, exc)
    if results is None:
        results = pyshacl_results(_with(data, quotes), focus)
    if not results:
        return
    problems = []
    for node, path, message, value in results:
        where = (places or {}).get(node, _short(node)) if isinstance(node, URIRef) else str(node)
        line = f"{where}: {message}"
        if path is not None:
            line += f" (rule on '{_short(path)}'"
            line += f", found {_short(value)!r})" if value is not None else ")"
        problems.append(line)
    problems.sort()
    if len(problems) > MAX_REPORTED:
        problems = [*problems[:MAX_REPORTED], f"... and {len(problems) - MAX_REPORTED} more"]
    raise ValidationError(problems, file=file)


def _with(data: Graph, quotes: QuoteRows | None) -> Graph:
    """``data`` with the quote rows' triples, in a copy (``data`` and the rows stay as they are)."""
    if not quotes:
        return data
    copy = Graph()
    copy += data
    return quotes.add_to(copy)


def pyshacl_results(data: Graph, focus: Sequence[URIRef] | None = None) -> list[Result]:
    """The violations pyshacl finds, as (focus node, path, message, value) — the reference the
    compiled checks are tested against."""
    from pyshacl import validate as shacl_validate

    if not isinstance(data.store, Memory):  # the loader's graphs are SimpleMemory: pyshacl needs contexts
        copy = Graph()
        copy += data
        data = copy
    # pyshacl copies the whole data graph to mix the ontology in (half of its time at 10k quotes);
    # mixing in place and taking the mixed-in triples out again afterwards is the same check
    lent = [t for t in ontology_graph() if t not in data]
    try:
        conforms, report, _ = shacl_validate(data, shacl_graph=validation_shapes(), ont_graph=ontology_graph(),
                                             inference="none", advanced=False, allow_warnings=True,
                                             inplace=True, focus_nodes=list(focus) if focus is not None else None)
    finally:
        for triple in lent:
            data.remove(triple)
    if conforms:
        return []
    results: list[Result] = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        path = report.value(result, SH.resultPath)
        results.append((report.value(result, SH.focusNode), path,
                        str(report.value(result, SH.resultMessage)), report.value(result, SH.value)))
    return results
