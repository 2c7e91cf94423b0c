"""The rdflib store a study is read into, and reading it back at the speed of its indexes.

A study of 100k quotes is 1.2M triples. rdflib's ``SimpleMemory`` keeps them in three nested
dictionaries (subject-predicate-object, predicate-object-subject, object-subject-predicate) but
adds each triple with a ``try``/``except KeyError`` per level — an exception for every new key, and
most keys of a new quote are new — and reads them back through two generators per triple. At 100k
quotes adding took 9.4 s of a 30 s profile, and walking the triples most of projection's 5 s.

:class:`StudyMemory` is ``SimpleMemory`` with two of its indexes, filled the same way, in the
same order, so every rdflib reader (and pyshacl, on its copy) sees the same graph; it adds without
the exceptions, and keeps no index by object alone (see the class). The readers below walk the
indexes directly where the store has them, in the order rdflib's own generators walk them, and fall
back to rdflib's API for any other store (a parsed ``.ttl``): ``tests/test_study_store.py`` checks
both against rdflib for random graphs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rdflib import Graph
from rdflib.plugins.stores.memory import SimpleMemory
from rdflib.term import Node

__all__ = ["StudyMemory", "objects_by_subject", "study_graph", "triple_count", "triples"]

_Index = dict[Any, dict[Any, dict[Any, int]]]


class StudyMemory(SimpleMemory):
    """rdflib's ``SimpleMemory``, adding triples without an exception per new key, and without its
    third index (object-subject-predicate): most objects of a study are met once (a quote, a
    claim's text), so that index made two dictionaries a triple, a third of the store's memory. No
    loader looks a triple up by its object alone; such a look-up walks the predicates' index
    instead, one dictionary look-up per predicate (a study has a few dozen), and gives the same
    triples in the order of that index."""

    def add(self, triple: tuple[Node, Node, Node], context: Any, quoted: bool = False) -> None:
        s, p, o = triple
        spo, pos, _ = _indexes(self)
        # one look-up per level: a Literal's hash is computed in Python, each time it is asked
        spo.setdefault(s, {}).setdefault(p, {})[o] = 1
        pos.setdefault(p, {}).setdefault(o, {})[s] = 1

    def remove(self, triple_pattern: Any, context: Any = None) -> None:
        spo, pos, _ = _indexes(self)
        for (s, p, o), _contexts in list(self.triples(triple_pattern)):
            del spo[s][p][o]
            del pos[p][o][s]

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        s, p, o = triple_pattern
        if s is not None or p is not None or o is None:
            yield from super().triples(triple_pattern, context)
            return
        for predicate, by_object in _indexes(self)[1].items():
            for subject in by_object.get(o, ()):
                yield (subject, predicate, o), iter(())


def study_graph() -> Graph:
    """An empty graph on a :class:`StudyMemory`."""
    return Graph(store=StudyMemory())


def _indexes(store: SimpleMemory) -> tuple[_Index, _Index, _Index]:
    return store._SimpleMemory__spo, store._SimpleMemory__pos, store._SimpleMemory__osp  # type: ignore[attr-defined]


def _fast(graph: Graph) -> SimpleMemory | None:
    """The graph's store when its indexes can be read directly (a ``SimpleMemory``: what its
    ``triples`` walks), else None."""
    store = graph.store
    if isinstance(store, SimpleMemory) and isinstance(getattr(store, "_SimpleMemory__spo", None), dict):
        return store
    return None


def triples(graph: Graph) -> Iterator[tuple[Node, Node, Node]]:
    """Every triple of ``graph``, in the order ``iter(graph)`` gives them."""
    store = _fast(graph)
    if store is None:
        yield from graph
        return
    for s, by_p in _indexes(store)[0].items():
        for p, objects in by_p.items():
            for o in objects:
                yield s, p, o


def objects_by_subject(graph: Graph, predicate: Node) -> Iterator[tuple[Node, Node]]:
    """``graph.subject_objects(predicate)``, in the same order."""
    store = _fast(graph)
    if store is None:
        yield from graph.subject_objects(predicate)
        return
    for o, subjects in _indexes(store)[1].get(predicate, {}).items():
        for s in subjects:
            yield s, o


def triple_count(graph: Graph) -> int:
    """``len(graph)``, without walking every triple on a ``SimpleMemory`` (whose ``len()`` does:
    2 s a call at 100k quotes, and a load asked three times)."""
    store = _fast(graph)
    if store is None:
        return len(graph)
    return sum(len(objects) for by_p in _indexes(store)[0].values() for objects in by_p.values())
