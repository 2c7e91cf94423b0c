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
    from kxgraph.api.graphql.reads import declared_walks
    from kxgraph.graph import read_tree
    from kxgraph.graph.read_tree import Child, Select

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
        out.append(read_tree.list_page(label, tree, descending=True, by_study=True))
    part = Select(values=[("name", "$v.`name`")])
    out.append(read_tree.consequence_groups(part, part, Select(values=[("text", "$v.`text`")])))
    out.append(read_tree.consequence_groups(part, part, None))
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
    proc = subprocess.run([node, "lint.mjs"], cwd=LINT_DIR, input=json.dumps(statements),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    result: list[dict[str, object]] = json.loads(proc.stdout)
    return result


@pytest.mark.slow
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
