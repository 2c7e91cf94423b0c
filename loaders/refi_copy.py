"""kxgraph's own copy of a study beside a REFI-QDA project it exported.

``kxgraph export --format qdpx`` writes, beside ``project.qde``, the study's whole graph
(:data:`OWN_COPY`) and a manifest with the checksum of the project it was written with
(:data:`OWN_MANIFEST`). Other programs ignore both. Reading the file back, kxgraph takes the copy —
the same graph, whatever it holds — while the project is unchanged, and reads the project otherwise
(saying why): its analysis then comes from the codes and memos that carry it (``refi_analysis``).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from rdflib import Graph, URIRef

from kxgraph.errors import DataFormatError
from kxgraph.loaders.refi_archive import RefiFile
from kxgraph.loaders.yaml_format import ID_PATTERN
from kxgraph.ontology.terms import DATA

__all__ = ["OWN_COPY", "OWN_MANIFEST", "own_copy"]

OWN_COPY = "kxgraph/study.ttl"
OWN_MANIFEST = "kxgraph/manifest.json"


def own_copy(refi: RefiFile, study_id: str | None) -> tuple[tuple[str, Graph] | None, str | None]:
    """The study graph kxgraph wrote beside the project, when the project is the one it wrote
    (its checksum matches the manifest's), moved to ``study_id`` if one is given. Else None, and
    why when there was a copy."""
    raw = refi.read_member(OWN_MANIFEST)
    if raw is None:
        return None, None
    try:
        manifest = json.loads(raw.decode("utf-8"))
        old = str(manifest["study"])
        expected = str(manifest["project_sha256"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None, f"{OWN_MANIFEST}: not a manifest kxgraph wrote; the project is read as REFI-QDA only"
    if not re.fullmatch(ID_PATTERN, old):
        return None, f"{OWN_MANIFEST}: {old!r} is not a study id; the project is read as REFI-QDA only"
    xml = refi.read_member(refi.xml_name)
    if xml is None or hashlib.sha256(xml).hexdigest() != expected:
        return None, (f"{refi.xml_name} changed since kxgraph exported it (in another program?): the study is "
                      f"read from the project, kxgraph's analysis from its codes and memos, not from the copy in "
                      f"{OWN_COPY}")
    data = refi.read_member(OWN_COPY)
    if data is None:
        return None, f"{OWN_COPY} is missing beside {OWN_MANIFEST}; the project is read as REFI-QDA only"
    g = Graph()
    try:
        g.parse(data=data.decode("utf-8"), format="turtle")
    except Exception as exc:  # rdflib raises many kinds; all mean "not the Turtle kxgraph wrote"
        raise DataFormatError(f"{OWN_COPY} is not valid Turtle: {exc}", file=str(refi.path), place=OWN_COPY,
                              fix="export the study again, or delete the zip's kxgraph/ folder") from None
    strays = sorted({str(x) for x in g.subjects() if not str(x).startswith(f"{DATA}{old}/")})
    if strays:  # a copy speaks for its own study only
        return None, (f"{OWN_COPY} holds entities of another study than {old!r} (e.g. {strays[0]}): it is left "
                      "out, and the project is read as REFI-QDA only")
    sid = study_id or old
    if sid != old:
        g = _moved(g, old, sid)
    return (sid, g), None


def _moved(g: Graph, old: str, new: str) -> Graph:
    """The graph with every IRI of study ``old`` under study ``new``."""
    prefix, target = f"{DATA}{old}/", f"{DATA}{new}/"

    def move(term: Any) -> Any:
        return URIRef(target + str(term)[len(prefix):]) if isinstance(term, URIRef) and str(term).startswith(prefix) \
            else term

    out = Graph()
    for s, p, o in g:
        out.add((move(s), p, move(o)))
    return out
