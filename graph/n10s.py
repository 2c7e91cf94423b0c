"""Neo4j's neosemantics (n10s) reading a kxgraph RDF export into the graph the API serves.

n10s imports RDF into Neo4j with each class a label and each predicate a relationship type or a
property, named by a mapping. :func:`script` writes the Cypher a user runs around their import:

1. before: n10s's uniqueness constraint, a graph config that maps vocabulary IRIs (``MAP``), keeps
   ``kx:aim``-like values as lists and leaves out what the export derives for readers without the
   ontology (``skos:narrower``, top concepts) under types of their own; a mapping of every class,
   relationship and property of ``ontology/kx.ttl`` to the label, type or key the API reads, and
   of every superclass the export adds (``skos:Concept``, ``prov:Entity``...) to a label of its own;
2. the user's own ``CALL n10s.rdf.import.fetch("file:///…/study.ttl", "Turtle")`` (or ``inline``);
3. after: the keys kxgraph's loader sets besides the ontology's (``id``, ``study``, ``iri``, the
   full-text ``searchText``), the superclass labels and the derived links taken off,
   ``RELATED_TO`` stored once per pair, lists in the loader's order.

n10s keeps its own ``Resource`` label, ``uri`` key and config nodes (it needs them for the next
import); the API reads neither. What stays different is said in the README. Checked against
a real Neo4j 5.26 with n10s from Maven Central (``tests/test_n10s.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, RDFS, SKOS

from kxgraph.graph.schema import FULLTEXT_FIELDS, SEARCH_KEY
from kxgraph.ontology.terms import DATA, KX_NS
from kxgraph.ontology.vocabulary import RelType, projection, superclasses

__all__ = ["IMPORT_PLACEHOLDER", "after_import", "before_import", "script"]

OA = Namespace("http://www.w3.org/ns/oa#")
#: the prefixes n10s insists on for standard namespaces (it refuses any other for them)
STANDARD_PREFIXES = {str(SKOS): "skos", str(RDFS): "rdfs", str(DCTERMS): "dct", str(FOAF): "foaf",
                     str(OA): "oa", str(ORG): "org", str(PROV): "prov", KX_NS: "kx"}
#: the derived statements of an export (``loaders/standalone.py``): imported as links of these types,
#: then deleted (n10s's own exclusion list is a parameter of each import call, which the user writes)
DERIVED = (SKOS.narrower, SKOS.topConceptOf, SKOS.hasTopConcept)
DERIVED_TYPE = "_kxDerived_{}"
#: the label a superclass type of the export is imported under, before it is taken off
SUPER_LABEL = "_kxSuper_{}"
IMPORT_PLACEHOLDER = "// here: CALL n10s.rdf.import.fetch(\"file:///path/to/study.ttl\", \"Turtle\");"


def _lit(value: object) -> str:
    """A Cypher literal (strings as JSON writes them: Cypher reads the same escapes)."""
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=True)


def _namespace(iri: str) -> tuple[str, str]:
    cut = iri.rfind("#") if "#" in iri else iri.rfind("/")
    return iri[:cut + 1], iri[cut + 1:]


def _superclasses() -> list[URIRef]:
    ours = projection().labels
    return sorted({c for classes in superclasses().values() for c in classes if c not in ours})


def _mappings() -> list[tuple[str, str]]:
    proj = projection()
    pairs = [(str(iri), label.value) for iri, label in proj.labels.items()]
    pairs += [(str(iri), rel.value) for iri, rel in proj.rel_types.items()]
    pairs += [(str(iri), key) for iri, key in proj.keys.items()]
    pairs += [(str(iri), SUPER_LABEL.format(i)) for i, iri in enumerate(_superclasses())]
    pairs += [(str(iri), DERIVED_TYPE.format(i)) for i, iri in enumerate(DERIVED)]
    return sorted(pairs)


def before_import() -> list[str]:
    """The constraint, the graph config, the namespaces and the mappings, one statement each."""
    proj = projection()
    multiple = sorted(str(iri) for iri, key in proj.keys.items() if key in proj.multiple)
    out = ["CREATE CONSTRAINT n10s_unique_uri IF NOT EXISTS FOR (r:Resource) REQUIRE r.uri IS UNIQUE",
           "CALL n10s.graphconfig.init({handleVocabUris: 'MAP', handleMultival: 'ARRAY', "
           f"multivalPropList: {_lit(multiple)}, keepLangTag: false, handleRDFTypes: 'LABELS'}})"]
    mappings = _mappings()
    namespaces = sorted({_namespace(iri)[0] for iri, _ in mappings})
    for i, ns in enumerate(namespaces):
        out.append(f"CALL n10s.nsprefixes.add({_lit(STANDARD_PREFIXES.get(ns, f'kx{i}'))}, {_lit(ns)})")
    out += [f"CALL n10s.mapping.add({_lit(iri)}, {_lit(name)})" for iri, name in mappings]
    return out


#: every character Python's ``str.split()`` splits at: the loader's ``searchText`` (``graph/schema.py``)
WHITE_SPACE = [chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) != " "]


def _single_spaced(expr: str) -> str:
    """``" ".join(x.split())`` in Cypher: each white-space character a space, runs made one."""
    for ch in WHITE_SPACE:
        expr = f"replace({expr}, {_lit(ch)}, ' ')"
    return (f"reduce(acc = NULL, w IN [w IN split({expr}, ' ') WHERE w <> ''] | "
            "CASE WHEN acc IS NULL THEN w ELSE acc + ' ' + w END)")


def _joined(fields: Iterable[str]) -> str:
    """The fields that are set, each single-spaced, joined by spaces (``schema.search_text``)."""
    values = ", ".join(f"n.{f}" for f in fields)
    each = f"coalesce({_single_spaced('toString(v)')}, '')"
    return (f"coalesce(reduce(acc = NULL, v IN [v IN [{values}] WHERE v IS NOT NULL AND v <> '' | {each}] | "
            "CASE WHEN acc IS NULL THEN v ELSE acc + ' ' + v END), '')")


def after_import() -> list[str]:
    """What makes n10s's import the graph kxgraph's loader writes, one statement each."""
    base = str(DATA)
    out = [f"MATCH (n:Resource) WHERE n.uri STARTS WITH {_lit(base)} "
           f"WITH n, substring(n.uri, {len(base)}) AS id "
           "SET n.id = id, n.iri = n.uri, n.study = split(id, '/')[0]"]
    for label, fields in sorted(FULLTEXT_FIELDS.items()):
        out.append(f"MATCH (n:{label.value}) SET n.{SEARCH_KEY} = {_joined(fields)}")
    supers = ":".join(f"`{SUPER_LABEL.format(i)}`" for i in range(len(_superclasses())))
    out.append(f"MATCH (n:Resource) REMOVE n:{supers}")
    derived = "|".join(f"`{DERIVED_TYPE.format(i)}`" for i in range(len(DERIVED)))
    out.append(f"MATCH ()-[r:{derived}]->() DELETE r")
    out.append(f"MATCH (a)-[r:{RelType.RELATED_TO.value}]->(b) WHERE a.id > b.id "
               f"MERGE (b)-[:{RelType.RELATED_TO.value}]->(a) DELETE r")
    for key in sorted(projection().multiple):
        out.append(f"MATCH (n:Resource) WHERE n.{key} IS NOT NULL UNWIND n.{key} AS v "
                   f"WITH n, v ORDER BY v WITH n, collect(v) AS sorted SET n.{key} = sorted")
    return out


def script() -> str:
    """The Cypher to run before and after an n10s import of a kxgraph export (cypher-shell reads it)."""
    lines = ["// kxgraph: the graph the API serves, from an n10s import of `kxgraph export` (README)",
             "// 1. before the import (once per database)"]
    lines += [f"{s};" for s in before_import()]
    lines += ["// 2. the import", IMPORT_PLACEHOLDER, "// 3. after each import"]
    lines += [f"{s};" for s in after_import()]
    return "\n".join(lines) + "\n"
