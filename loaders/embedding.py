"""What quotes and claims mean, as vectors: search by meaning on the researcher's own machine.

The model is WordLlama's bundled 256-dimension model (``pip install 'kxgraph[semantic]'``): MIT
licensed, its 16-MB weights and its tokenizer inside the wheel, numpy and Hugging Face's
``tokenizers`` only (no PyTorch). It is loaded from the installed package with downloads switched
off, so nothing is fetched and no text leaves the machine. Why this one: the packages that carry
all-MiniLM-L6-v2 or similar transformer models as ONNX files on PyPI were not found (fastembed and
model2vec download their models from a model hub at run time; sentence-transformers needs PyTorch
and the hub); WordLlama ships its weights. It is a static model (token vectors pooled, no attention),
weaker on word order and negation than a transformer (BENCHMARKS.md gives its figures).

Without the extra, :func:`unavailable` says why and the loader and the API leave meaning out.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kxgraph.ontology.vocabulary import NodeLabel

__all__ = ["DIMENSIONS", "EMBEDDED", "MODEL", "embed", "embedding_id", "text_key", "text_of", "unavailable"]

DIMENSIONS = 256
MODEL = "wordllama-l2-supercat-256"
#: what is embedded of each label's nodes
EMBEDDED: dict[NodeLabel, tuple[str, ...]] = {
    NodeLabel.EvidenceQuote: ("exact",),
    NodeLabel.DiscussionPoint: ("text",),
    NodeLabel.Consequence: ("text",),
    NodeLabel.Definition: ("text",),
    NodeLabel.Concept: ("name", "definition"),
}
INSTALL = "pip install 'kxgraph[semantic]'"


def text_of(label: NodeLabel, props: Mapping[str, Any]) -> str | None:
    """The text a node of ``label`` is embedded from (None when it has none)."""
    fields = EMBEDDED.get(label)
    if fields is None:
        return None
    text = ". ".join(" ".join(str(props[f]).split()) for f in fields if props.get(f))
    return text or None


def text_key(text: str) -> str:
    """What an embedding is cached by: the model and the text's checksum."""
    return f"{MODEL}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"


def embedding_id(owner: str) -> str:
    return f"{owner}#embedding"


@functools.cache
def _model() -> Any:
    from pathlib import Path

    import wordllama  # the optional extra

    # the package's own folder holds weights/ and tokenizers/, where the loader looks as in a cache
    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


@functools.cache
def unavailable() -> str | None:
    """Why search by meaning is off (None when it is on)."""
    try:
        _model()
    except ImportError:
        return f"search by meaning needs the optional model: {INSTALL}"
    except (OSError, ValueError) as exc:  # a damaged install
        return f"the meaning model could not be loaded ({exc}); reinstall it: {INSTALL}"
    return None


def embed(texts: Sequence[str], batch: int = 512, progress: Callable[[int], None] | None = None) -> list[list[float]]:
    """Unit vectors of ``texts`` (cosine similarity is their dot product), ``batch`` at a time;
    ``progress`` is told how many were done after each batch."""
    model = _model()
    out: list[list[float]] = []
    for i in range(0, len(texts), batch):
        part = list(texts[i:i + batch])
        out += [[round(float(x), 6) for x in row] for row in model.embed(part, norm=True)]
        if progress is not None:
            progress(len(part))
    return out
