"""Every Neo4j statement kxgraph can send goes through Neo4j's own front end
(``lintCypherQuery`` from ``@neo4j-cypher/language-support``): no error, no deprecation warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kxgraph.graph import cypher
from kxgraph.graph.neo4j_backend import dialect_statements, neo4j_form
from kxgraph.graph.schema import default_schema

LINT_DIR = Path(__file__).parent / "cypher_lint"


def neo4j_statements() -> list[str]:
    statements = [*cypher.all_statements(), *dialect_statements(default_schema())]
    try:
        from kxgraph.graph import queries
    except ImportError:  # the read catalogue arrives with the study graph
        pass
    else:
        statements += list(queries.all_statements())
    statements += compiled_statements()
    return sorted({neo4j_form(s) for s in statements})


def compiled_statements() -> list[str]:
    """The resolvers' statement for every declared walk, and trees of the compiled path built from
    them: each walk under a node by id and under a page, nested one level, and the grouped
    consequences."""
    from kxgraph.api.graphql import listing
    from kxgraph.api.graphql.reads import declared_walks
    from kxgraph.graph import filtering, read_tree
    from kxgraph.graph.filtering import Listing
    from kxgraph.graph.read_tree import Child, Select

    catalogue = listing.catalogue()

    out = []
    walks = declared_walks()
    evidence = next(r for label, name, r in walks if name == "evidence")
    for label, name, read in walks:
        assert read.walk is not None
        out.append(read_tree.walk_batch(label, read.walk))
        inner = Select(values=[("__l", "labels($v)[0]"), ("id", "$v.`id`")],
                       children=[Child("evidence", evidence.walk, True, Select(values=[("exact", "$v.`exact`")]),  # type: ignore[arg-type]
                                       limit_param="first")])
        tree = Select(values=[("id", "$v.`id`")], children=[Child(name, read.walk, read.many, inner)])
        out.append(read_tree.by_id(label, tree))
        out.append(filtering.page_statement(catalogue, Listing(label, label.value, {"study": {"eq": "x"}},
                                                               descending=True), tree, cursor=True)[0])
    part = Select(values=[("name", "$v.`name`")])
    out.append(read_tree.consequence_groups(part, part, Select(values=[("text", "$v.`text`")])))
    out.append(read_tree.consequence_groups(part, part, None))
    return out + list_statements() + connection_statements() + combined_statements()


def combined_statements() -> list[str]:
    """A request's statements as one (``read_tree.combined``): a node by id, and a list's page, its
    figures and a group, with a cursor; a first page that counts what matches; Neo4j's full-text search in two indexes; a neighbourhood's
    start node with its first level. The parts' parameters renamed apart."""
    from kxgraph.api.graphql import listing
    from kxgraph.graph import filtering, queries, read_tree
    from kxgraph.graph.read_tree import Part, Select
    from kxgraph.ontology.vocabulary import NodeLabel

    request = listing.parse(NodeLabel.Consequence, {"first": 3, "where": {"study": {"eq": "x"}}}, 100)
    select = Select(values=[("__l", "labels($v)[0]"), ("id", "$v.`id`")])
    node, params = filtering.tree_by_id(listing.catalogue(), NodeLabel.Concept, select)
    parts = [Part(node, {**params, "id": "x/concept/y"}, ("node",)), listing.page_part(request, select),
             listing.aggregate_part(request)[0], listing.groups_part(request, "valence")]
    from kxgraph.graph.neo4j_backend import fulltext_statement

    search = [Part(fulltext_statement(), {"index": "x", "query": "y", "limit": 3}, ("node", "score"))] * 2
    hood = [Part(queries.nodes_by_id(NodeLabel.Concept), {"ids": []}, ("id", "props")),
            Part(queries.neighbours(NodeLabel.Concept), {"ids": [], "limit": 4}, queries.NEIGHBOUR_COLUMNS)]
    counted = [listing.page_part(request, select, cursors=False, total=True), parts[3]]  # a page that counts
    return [read_tree.combined(x)[0] for x in (parts, parts[1:3], search, hood, counted)]


def connection_statements() -> list[str]:
    """Nested connections (``filtering.Connection``) on walks of each shape — one hop, three hops
    reached more than once, a walk to several labels, a symmetric one — with a filter on own and
    related fields, a sort by a related node, a cursor, backwards, figures, counts grouped by each kind
    of field, and one connection inside another; and the resolvers' forms of each (for a batch of
    ``$parents``; and from ``$parent``: page, aggregate, groups)."""
    from kxgraph.api.graphql import listing
    from kxgraph.api.graphql.reads import declared_walks
    from kxgraph.graph import filtering, read_tree
    from kxgraph.graph.filtering import Connection, Listing, Via
    from kxgraph.graph.read_tree import Select
    from kxgraph.ontology.vocabulary import NodeLabel

    catalogue = listing.catalogue()
    walks = {(label.value, name): read for label, name, read in declared_walks()}
    chosen = [("Concept", "consequences"), ("Event", "stakeholders"), ("EvidenceQuote", "supports"),
              ("Concept", "related")]
    evidence = walks[("Consequence", "evidence")]
    out = []
    for parent, name in chosen:
        read = walks[(parent, name)]
        assert read.walk is not None and read.target is not None
        fields = catalogue[read.target]
        own = next(n for n, p in fields.items() if isinstance(p, filtering.Prop) and p.kind == "string")
        related = next((n for n, p in fields.items() if isinstance(p, filtering.Rel) and not p.many), None)
        where: dict[str, object] = {own: {"contains": "x"}, "NOT": {own: {"eq": "y"}}}
        sort: tuple[tuple[tuple[str, ...], bool], ...] = ((own,), True),
        if related is not None:
            where[related] = {"id": {"eq": "z"}}
            sort = (((related, "id"), False), *sort)
        label = NodeLabel(read.target) if read.target in NodeLabel.__members__ else None
        nested = Listing(label, read.target, where, sort, via=Via(NodeLabel(parent), read.walk))
        inner = Connection("quotes", evidence.walk, True, Select(values=[("exact", "$v.`exact`")]),  # type: ignore[arg-type]
                           listing=Listing(NodeLabel.EvidenceQuote, "EvidenceQuote", {}, (),
                                           via=Via(NodeLabel.Consequence, evidence.walk)),  # type: ignore[arg-type]
                           size=2, cursor=(0, "x"), figures=("start",))
        node = Select(values=[("id", "$v.`id`")], children=[inner] if read.target == "Consequence" else [])
        by = {type(spec): spec for spec in listing.group_fields(read.target).values()}.values()
        conn = Connection(name, read.walk, True, node, listing=nested, size=5, backwards=True,
                          cursor=("a", "b", "c")[:len(sort) + 1], figures=(),
                          groups=tuple((f"g{i}", spec) for i, spec in enumerate(by)))
        tree = Select(values=[("id", "$v.`id`")], children=[conn])
        out.append(filtering.tree_by_id(catalogue, NodeLabel(parent), tree)[0])
        out.append(filtering.connection_batch(catalogue, NodeLabel(parent), conn)[0])
        out.append(filtering.page_statement(catalogue, nested, node, cursor=True)[0])
        out.append(filtering.aggregate_statement(catalogue, nested, ["start"])[0])
        for spec in by:
            out.append(filtering.group_statement(catalogue, nested, spec)[0])
    part = Select(values=[("name", "$v.`name`")])
    quotes = Connection("quotes", evidence.walk, True, Select(values=[("exact", "$v.`exact`")]),  # type: ignore[arg-type]
                        listing=Listing(NodeLabel.EvidenceQuote, "EvidenceQuote",
                                        via=Via(NodeLabel.Consequence, evidence.walk)),  # type: ignore[arg-type]
                        figures=("start",))
    out.append(read_tree.consequence_groups(part, part, Select(children=[quotes]),
                                            filtering.TreeEmitter(catalogue)))
    return out


def list_statements() -> list[str]:
    """The statements of list requests (``graph/filtering.py``): for each listed label, a filter on
    every field it has (each operator of the property's kind, each related node or set, with
    some/none/all, under NOT), a sort by each field and each single related node, pages both ways,
    the aggregate and the groups."""
    from kxgraph.api.graphql import listing
    from kxgraph.api.graphql.compiler import LISTS
    from kxgraph.graph import filtering
    from kxgraph.graph.filtering import OPERATORS, Listing, Prop, Rel
    from kxgraph.graph.read_tree import Select

    catalogue = listing.catalogue()

    def first_prop(type_name: str) -> dict[str, object]:
        name = next(n for n, p in catalogue[type_name].items() if isinstance(p, Prop))
        return {name: {"eq": "x"}}

    out = []
    select = Select(values=[("id", "$v.`id`")])
    for label in LISTS.values():
        # each form once per label (Neo4j's front end takes about a second per such statement; the
        # walks themselves are linted above, once each)
        where: dict[str, object] = {}
        sort: list[tuple[tuple[str, ...], bool]] = []
        kinds_seen: set[object] = set()
        for name, spec in catalogue[label.value].items():
            if isinstance(spec, Prop) and spec.kind not in kinds_seen:
                kinds_seen.add(spec.kind)
                where[name] = {op: "x" for op, (kinds, _) in OPERATORS.items() if spec.kind in kinds}
                sort.append(((name,), True))
            elif isinstance(spec, Rel) and spec.many and not any(q in str(where) for q in ("some",)):
                where[name] = {q: first_prop(spec.target) for q in ("some", "none", "all")}
            elif isinstance(spec, Rel) and not spec.many and len(sort) < 3:
                where[name] = first_prop(spec.target)
                sort.append(((name, next(iter(first_prop(spec.target)))), False))
        own = first_prop(label.value)
        request = Listing(label, label.value, {**where, "NOT": own, "OR": [own, {"AND": [own, own]}]}, tuple(sort),
                          contains=True)
        out.append(filtering.page_statement(catalogue, request, select, backwards=True, cursor=True)[0])
        out.append(filtering.aggregate_statement(catalogue, request, list(listing.numeric_fields(label.value).values()))[0])
        for by in {type(spec): spec for spec in listing.group_fields(label.value).values()}.values():
            out.append(filtering.group_statement(catalogue, request, by)[0])
    return out


def lint(statements: list[str]) -> list[dict[str, object]]:
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed: the Neo4j Cypher lint needs Node.js"
    elif not (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        missing = "run 'npm ci' in tests/cypher_lint (make test does) to install Neo4j's front end"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Neo4j Cypher lint: {missing}")
        pytest.skip(missing)
    # Neo4j's front end takes a few minutes over every statement: one process per core, each a share
    n = max(1, min(os.cpu_count() or 1, 4, len(statements)))
    chunks = [statements[i::n] for i in range(n)]
    procs = [subprocess.Popen([node, "lint.mjs"], cwd=LINT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in chunks]
    try:
        outputs = [p.communicate(json.dumps(c), timeout=840) for p, c in zip(procs, chunks, strict=True)]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    parts = [json.loads(out) for out, _ in outputs]
    result: list[dict[str, object]] = [parts[i % n][i // n] for i in range(len(statements))]
    return result


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_neo4j_statement_passes_neo4j_lint(capsys: pytest.CaptureFixture[str]) -> None:
    statements = neo4j_statements()
    results = lint(statements)
    assert len(results) == len(statements)
    bad = [f"{r['query']}\n    -> {r['problems']}" for r in results if r["problems"]]
    assert not bad, "\n".join(bad)
    with capsys.disabled():
        print(f"\nNeo4j Cypher lint: {len(statements)} statements checked, 0 problems")


def test_the_lint_does_catch_errors_and_deprecations() -> None:
    results = lint(["MATCH (n RETURN n", "MATCH (n) RETURN id(n)",
                    "CALL db.idx.fulltext.queryNodes('Concept', $q) YIELD node RETURN node"])
    assert all(r["problems"] for r in results), results
