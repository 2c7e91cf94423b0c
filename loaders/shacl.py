"""SHACL validation (pyshacl) with violations in plain words: which entity, which rule, which file."""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import Graph, URIRef
from rdflib.namespace import SH

from kxgraph.errors import ValidationError
from kxgraph.ontology.terms import DATA
from kxgraph.ontology.vocabulary import ontology_graph, shapes_graph

__all__ = ["validate"]

MAX_REPORTED = 50


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


def validate(data: Graph, *, file: str, places: Mapping[URIRef, str] | None = None) -> None:
    """Raise :class:`ValidationError` listing every violation, or return when the data conforms."""
    from pyshacl import validate as shacl_validate

    conforms, results, _ = shacl_validate(data, shacl_graph=shapes_graph(), ont_graph=ontology_graph(),
                                          inference="none", advanced=False, allow_warnings=True)
    if conforms:
        return
    problems = []
    for result in results.subjects(SH.resultSeverity, SH.Violation):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        message = results.value(result, SH.resultMessage)
        value = results.value(result, SH.value)
        where = (places or {}).get(focus, _short(focus)) if isinstance(focus, URIRef) else str(focus)
        line = f"{where}: {message}"
        if path is not None:
            line += f" (rule on '{_short(path)}'"
            line += f", found {_short(value)!r})" if value is not None else ")"
        problems.append(line)
    problems.sort()
    if len(problems) > MAX_REPORTED:
        problems = [*problems[:MAX_REPORTED], f"... and {len(problems) - MAX_REPORTED} more"]
    raise ValidationError(problems, file=file)
