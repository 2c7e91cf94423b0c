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
    # round two (hostile files): nesting, numbers, keys twice, NUL
    "yaml-deep.yaml": ("line 2", "nest more than 100 levels deep"),
    "yaml-bigint.yaml": ("line 6", "the number has 5000 digits"),
    "yaml-duplicate-key.yaml": ("line 5", "the key 'study' appears twice in one mapping (first on line 2)"),
    "yaml-nul-value.yaml": ("study.name", "holds a NUL character"),
    "jsonld-deep.jsonld": ("jsonld-deep.jsonld", "nests deeper than 200 levels"),
    # files a study names stay in its folder; only regular files are read
    "doc-absolute": ("documents[0] (id 'd').file", "'/etc/passwd' is outside the study's folder"),
    "doc-climbs": ("documents[0] (id 'd').file", "'../../../../../../etc/shadow' is outside the study's folder"),
    "doc-symlink-out": ("documents[0] (id 'd').file", "'documents/link.txt' is outside the study's folder"),
    "doc-proc": ("documents[0] (id 'd').file", "'documents/environ.txt' is outside the study's folder"),
    "doc-fifo": ("documents[0] (id 'd').file", "is a named pipe, not a regular file"),
    "doc-folder": ("documents[0] (id 'd').file", "is a folder, not a regular file"),
    "doc-socket": ("documents[0] (id 'd').file", "(a socket)"),
    "doc-nul": ("character 6", "holds a NUL character"),
    "table-outside": ("tables[0]", "'../outside.csv' is outside the study's folder"),
    "table-fifo": ("pipe.csv", "is a named pipe, not a regular file"),
    "rdf-fifo.ttl": ("rdf-fifo.ttl", "is a named pipe, not a regular file"),
    "qdpx-fifo.qdpx": ("qdpx-fifo.qdpx", "is a named pipe, not a regular file"),
    # damaged REFI-QDA archives
    "qdpx-bad-crc.qdpx": ("sources/", "the member is damaged"),
    "qdpx-false-size.qdpx": ("sources/", "the member is damaged"),
    "qdpx-bad-deflate.qdpx": ("sources/", "the member is damaged"),
}

#: the cases made in a temporary folder (devices, links, pipes and sockets cannot live in git)
MADE = {name for name in CASES if name.startswith(("doc-", "table-", "rdf-", "qdpx-", "jsonld-deep"))}


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
    sockets = _make_hostile(work)
    result = CliRunner().invoke(app, ["load", str(BUNDLED)], env=env)
    assert result.exit_code == 0, result.output
    yield {"env": env, "work": work, "before": asyncio.run(_fingerprint(env))}
    for sock in sockets:
        sock.close()
    shutil.rmtree(data, ignore_errors=True)


def _study(folder: Path, document: str, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "documents").mkdir()
    (folder / "study.yaml").write_text("kxgraph: 1\nstudy: {id: h, name: Hostile}\n"
                                       f"documents: [{{id: d, file: '{document}', title: D}}]\n{extra}")
    return folder


def _make_hostile(work: Path) -> list[Any]:
    """The cases that need a device, link, pipe or socket, or are too big for the repository."""
    import socket
    import zipfile

    _study(work / "doc-absolute", "/etc/passwd")
    _study(work / "doc-climbs", "../../../../../../etc/shadow")
    (_study(work / "doc-symlink-out", "documents/link.txt") / "documents" / "link.txt").symlink_to("/etc/hostname")
    (_study(work / "doc-proc", "documents/environ.txt") / "documents" / "environ.txt").symlink_to("/proc/self/environ")
    os.mkfifo(_study(work / "doc-fifo", "documents/pipe.txt") / "documents" / "pipe.txt")
    (_study(work / "doc-folder", "documents/dir.txt") / "documents" / "dir.txt").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(_study(work / "doc-socket", "documents/s.txt") / "documents" / "s.txt"))
    (_study(work / "doc-nul", "documents/nul.txt") / "documents" / "nul.txt").write_bytes(b"Hello \x00 world\n")
    (work / "outside.csv").write_text("kind,id,quote\n")
    _study(work / "table-outside", "documents/a.txt", "tables: [../outside.csv]\n")
    (work / "table-outside" / "documents" / "a.txt").write_text("text\n")
    _study(work / "table-fifo", "documents/a.txt", "tables: [pipe.csv]\n")
    (work / "table-fifo" / "documents" / "a.txt").write_text("text\n")
    os.mkfifo(work / "table-fifo" / "pipe.csv")
    os.mkfifo(work / "rdf-fifo.ttl")
    os.mkfifo(work / "qdpx-fifo.qdpx")
    (work / "jsonld-deep.jsonld").write_text("[" * 100_000 + "]" * 100_000)
    source = b"Interview one. " * 200
    for name, damage in (("qdpx-bad-crc.qdpx", "crc"), ("qdpx-false-size.qdpx", "size"),
                         ("qdpx-bad-deflate.qdpx", "deflate")):
        path = work / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("project.qde", QDE)
            z.writestr("sources/s1.txt", source)
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("sources/s1.txt")
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        if damage == "crc":      # the stored CRC-32 no longer matches the data
            data[info.header_offset + 14] ^= 0xFF
            central = data.rfind(b"PK\x01\x02")
            data[central + 16] ^= 0xFF
        elif damage == "size":   # both headers claim more bytes than the member holds
            for at in (info.header_offset + 22, data.rfind(b"PK\x01\x02") + 24):
                data[at:at + 4] = (info.file_size // 3).to_bytes(4, "little")
        else:                    # the deflate stream is garbage
            data[start:start + 12] = b"\xff" * 12
        path.write_bytes(bytes(data))
    return [sock]


QDE = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="Damaged" origin="t">'
       '<CodeBook><Codes><Code guid="11111111-1111-4111-8111-111111111111" name="A" isCodable="true"/></Codes>'
       '</CodeBook><Sources><TextSource guid="22222222-2222-4222-8222-222222222222" name="s1" '
       'plainTextPath="internal://s1.txt"/></Sources></Project>')


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
    assert len(CASES) >= 55
    on_disk = {p.name for p in FILES.iterdir() if p.name not in ("doc.txt", "latin1.txt")}
    assert on_disk <= set(CASES), on_disk - set(CASES)
    assert set(CASES) - on_disk - MADE <= {"no-such-study", "empty-folder", "enormous.yaml", "enormous-document"}


@pytest.mark.sweep(neo4j=8)
@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_clearly_and_changes_nothing(served: dict[str, Any], name: str) -> None:
    import time

    place, words = CASES[name]
    path = FILES / name if (FILES / name).exists() else served["work"] / name
    for command in ("validate", "load"):
        started = time.perf_counter()
        result = CliRunner().invoke(app, [command, str(path)], env=served["env"])
        elapsed = time.perf_counter() - started
        out = " ".join(result.output.split())
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert elapsed < 20, f"{name}: {command} took {elapsed:.1f} s"  # nothing blocks, nothing grows
        named = {"document-not-utf8.yaml": "latin1.txt", "enormous-document": "enormous.txt"}.get(name, path.name)
        assert out.startswith("error:") and named in out, out  # the file
        assert place in out, out                                 # the place
        assert words in out, out                                 # what is wrong
        assert "fix:" in out, out                                # and the fix
    assert asyncio.run(_fingerprint(served["env"])) == served["before"]
    assert os.environ.get("KXGRAPH_DATA_DIR") != served["env"]["KXGRAPH_DATA_DIR"]
