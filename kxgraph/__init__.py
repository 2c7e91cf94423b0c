"""kxgraph: a knowledge graph for qualitative research.

The installed package gathers the project's top-level folders as sub-packages:
``kxgraph.graph`` (graph/), ``kxgraph.ontology`` (ontology/), ``kxgraph.loaders`` (loaders/),
``kxgraph.api`` (api/) and ``kxgraph.data`` (data/, the bundled study).
Nothing is done at import time.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
