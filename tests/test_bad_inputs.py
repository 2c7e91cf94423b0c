"""A corpus of broken inputs, every format kxgraph reads. For each: a clear error naming the file,
the place and the fix; a non-zero exit from the CLI; and the served graph unchanged (a fingerprint
of the whole graph, before and after)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kxgraph.api.cli import app
from kxgraph.graph import open_store
from kxgraph.settings import Settings
from tests.helpers import BUNDLED, ROOT, fingerprint

FILES = ROOT / "tests" / "bad_inputs" / "files"

#: file -> (the place it must name, words of the error)
CASES: dict[str, tuple[str, str]] = {
    "yaml-syntax.yaml": ("line 10, column 1", "not valid YAML"),
    "yaml-not-mapping.yaml": ("top level", "must be a mapping of sections"),
    "yaml-empty.yaml": ("top level", "must be a mapping of sections"),
    "yaml-version.yaml": ("kxgraph", "format version 7 is not supported"),
    "yaml-unknown-section.yaml": ("stakeholdres", "did you mean 'stakeholders'"),
    "yaml-unknown-field.yaml": ("discussion_points[0] (id 'p').colour", "unknown field 'colour'"),
    "yaml-missing-required.yaml": ("consequences[0] (id 'c').stakeholder", "required field 'stakeholder'"),
    "yaml-wrong-type.yaml": ("discussion_points[0] (id 'p').ordinal", "valid integer"),
    "yaml-bad-id.yaml": ("role_elements[0] (id 'Bad Id!').id", "lower-case letters, digits and hyphens"),
    "yaml-duplicate-id.yaml": ("concepts[0] (id 'holding')", "used twice"),
    "yaml-unknown-reference.yaml": ("discussion_points[0] (id 'p').concerns", "did you mean 'holding'"),
    "yaml-wrong-reference-kind.yaml": ("discussion_points[0] (id 'p').concerns", "'patients' is in stakeholders"),
    "yaml-billion-laughs.yaml": ("line 8", "aliases (*name) are not allowed"),
    "yaml-not-utf8.yaml": ("byte 0", "not valid UTF-8"),
    "quote-not-in-document.yaml": ("discussion_points[0] (id 'p').evidence[0]", "'holding hurts patients' is not in"),
    "quote-ambiguous.yaml": ("discussion_points[0] (id 'p').evidence[0]", "ambiguous: it occurs 2 times"),
    "quote-occurrence-out-of-range.yaml": ("evidence[0]", "occurrence 5 asked for"),
    "quote-hint-missing.yaml": ("evidence[0]", "the hint 'not in the text' occurs 0 times"),
    "quote-whitespace-differs.yaml": ("evidence[0]", "differs only in white space"),
    "quote-empty.yaml": ("discussion_points[0] (id 'p').evidence[0]", "at least 1 character"),
    "shacl-valence.yaml": ("consequences[0] (id 'c')", "'valence' must be positive or negative"),
    "shacl-position.yaml": ("placements[0] (id 'pl')", "'position' is a number from 0"),
    "shacl-no-evidence.yaml": ("reflections[0] (id 'r')", "must cite at least one evidence quote"),
    "document-missing.yaml": ("documents", "no-such-file.txt does not exist"),
    "document-not-utf8.yaml": ("byte 3", "latin1.txt"),
    "turtle-syntax.ttl": ("line 2", "not valid turtle"),
    "turtle-outside-namespace.ttl": ("http://example.org/evil", "outside the kxgraph data namespace"),
    "turtle-unknown-class.ttl": ("bad/thing/x", "ns#Wizard is not in the kxgraph ontology"),
    "turtle-no-study.ttl": ("turtle-no-study.ttl", "holds no kx:Study"),
    "turtle-quote-offsets.ttl": ("quote/d/0-7", "offsets 0-7 hold 'holding', not 'helping'"),
    "turtle-checksum.ttl": ("document/d", "does not match its SHA-256"),
    "jsonld-malformed.jsonld": ("jsonld-malformed.jsonld", "not valid JSON"),
    "jsonld-remote-context.jsonld": ("top level", "remote @context would be fetched"),
    "rdfxml-entity-expansion.rdf": ("rdfxml-entity-expansion.rdf", "does not read .rdf"),
    "unsupported.csv": ("unsupported.csv", "does not read .csv"),
    "no-such-study": ("no-such-study", "no such file or folder"),
    "empty-folder": ("empty-folder", "holds no study.yaml"),
    "enormous.yaml": ("enormous.yaml", "more than 67108864"),
    "enormous-document": ("enormous.txt", "more than 67108864"),
}


@pytest.fixture(scope="module", params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A store holding the bundled study (an embedded store folder, or the tests' Neo4j with its
    database wiped), the settings that reach it, and its fingerprint."""
    import shutil
    import tempfile

    data = Path(tempfile.mkdtemp(prefix="kxbi"))
    env = {"KXGRAPH_DATA_DIR": str(data), "KXGRAPH_BACKEND": request.param}
    if request.param == "neo4j":
        env.update(request.getfixturevalue("neo4j_target").env())
        asyncio.run(_wipe(env))
    work = tmp_path_factory.mktemp("bad")
    (work / "empty-folder").mkdir()
    with open(work / "enormous.yaml", "wb") as f:  # sparse: refused before it is read
        f.truncate(64 * 1024 * 1024 + 1)
    big = work / "enormous-document"
    big.mkdir()
    with open(big / "enormous.txt", "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    (big / "study.yaml").write_text("kxgraph: 1\nstudy: {id: big, name: Big}\n"
                                    "documents: [{id: d, file: enormous.txt, title: Big}]\n")
    result = CliRunner().invoke(app, ["load", str(BUNDLED)], env=env)
    assert result.exit_code == 0, result.output
    yield {"env": env, "work": work, "before": asyncio.run(_fingerprint(env))}
    shutil.rmtree(data, ignore_errors=True)


def _settings(env: dict[str, str]) -> Settings:
    return Settings(**{k.removeprefix("KXGRAPH_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]


async def _wipe(env: dict[str, str]) -> None:
    store = await open_store(_settings(env))
    try:
        await store.drop_graph()
    finally:
        await store.close()


async def _fingerprint(env: dict[str, str]) -> Any:
    store = await open_store(_settings(env), attach=True)
    try:
        return await fingerprint(store)
    finally:
        await store.close()


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    on_disk = {p.name for p in FILES.iterdir() if p.name not in ("doc.txt", "latin1.txt")}
    assert on_disk <= set(CASES), on_disk - set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_clearly_and_changes_nothing(served: dict[str, Any], name: str) -> None:
    place, words = CASES[name]
    path = FILES / name if (FILES / name).exists() else served["work"] / name
    for command in ("validate", "load"):
        result = CliRunner().invoke(app, [command, str(path)], env=served["env"])
        out = " ".join(result.output.split())
        assert result.exit_code == 1, result.output
        named = "latin1.txt" if name == "document-not-utf8.yaml" else \
            "enormous.txt" if name == "enormous-document" else path.name
        assert out.startswith("error:") and named in out, out  # the file
        assert place in out, out                                 # the place
        assert words in out, out                                 # what is wrong
        assert "fix:" in out, out                                # and the fix
    assert asyncio.run(_fingerprint(served["env"])) == served["before"]
    assert os.environ.get("KXGRAPH_DATA_DIR") != served["env"]["KXGRAPH_DATA_DIR"]
