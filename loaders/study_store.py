"""The rdflib store a study is read into, and reading it back at the speed of its indexes.

A study of 100k quotes is 1.2M triples. rdflib's ``SimpleMemory`` keeps them in three nested
dictionaries (subject-predicate-object, predicate-object-subject, object-subject-predicate) but
adds each triple with a ``try``/``except KeyError`` per level — an exception for every new key, and
most keys of a new quote are new — and reads them back through two generators per triple. At 100k
quotes adding took 9.4 s of a 30 s profile, and walking the triples most of projection's 5 s.

:class:`StudyMemory` keeps two of those indexes, filled in the same order, so every rdflib reader
(and pyshacl, on its copy) sees the same graph; it adds without the exceptions, keeps no index by
object alone, and keeps a lone object (or subject) without a dictionary of its own (see the class).
The readers below walk the indexes directly where the store has them, in the order rdflib's own
generators walk them, and fall back to rdflib's API for any other store (a parsed ``.ttl``):
``tests/test_study_store.py`` checks both against rdflib for random graphs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rdflib import Graph
from rdflib.plugins.stores.memory import SimpleMemory
from rdflib.term import Node

__all__ = ["StudyMemory", "indexes", "leaf_terms", "objects_by_subject", "study_graph", "triple_count",
           "triples"]

#: the innermost level of an index: the objects of one subject and predicate (or the subjects of
#: one predicate and object), as rdflib's dictionary, or, in a :class:`StudyMemory`, the one term
#: itself while there is only one
Leaf = Any
_Index = dict[Any, dict[Any, Leaf]]


def _holds(leaf: Leaf, term: Node) -> bool:
    if type(leaf) is dict:
        return term in leaf
    return leaf is term or leaf == term


def _put(level: dict[Any, Leaf], key: Any, term: Node) -> None:
    """``term`` added to ``level[key]`` (after the terms it holds)."""
    leaf = level.get(key)
    if leaf is None:
        level[key] = term
    elif type(leaf) is dict:
        leaf[term] = 1
    elif not _holds(leaf, term):
        level[key] = {leaf: 1, term: 1}


def _drop(level: dict[Any, Leaf], key: Any, term: Node) -> None:
    """``term`` taken out of ``level[key]``; the key stays (an empty dictionary), as in rdflib,
    so that a term added again comes back in the same place."""
    leaf = level[key]
    if type(leaf) is dict:
        del leaf[term]
    else:
        level[key] = {}


class StudyMemory(SimpleMemory):
    """rdflib's ``SimpleMemory`` with two of its indexes, for a study's many small facts:

    - it adds a triple without an exception per new key;
    - it keeps no third index (object-subject-predicate): no loader looks a triple up by its object
      alone; such a look-up walks the predicates' index instead, one dictionary look-up per
      predicate (a study has a few dozen), and gives the same triples in the order of that index;
    - where one subject has one object for a predicate (a claim's text, its valence), or one
      predicate and object belong to one subject (that text again, a quote a claim cites), the index
      holds that term where rdflib holds a dictionary of one entry: a study's triples are mostly
      such, and those dictionaries were 224 bytes each, two for most triples.
    """

    def add(self, triple: tuple[Node, Node, Node], context: Any, quoted: bool = False) -> None:
        s, p, o = triple
        spo, pos = _indexes(self)
        # one look-up per level: a Literal's hash is computed in Python, each time it is asked
        by_p = spo.get(s)
        if by_p is None:
            spo[s] = {p: o}
        else:
            _put(by_p, p, o)
        by_o = pos.get(p)
        if by_o is None:
            pos[p] = {o: s}
        else:
            _put(by_o, o, s)

    def remove(self, triple_pattern: Any, context: Any = None) -> None:
        spo, pos = _indexes(self)
        for (s, p, o), _contexts in list(self.triples(triple_pattern)):
            _drop(spo[s], p, o)
            _drop(pos[p], o, s)

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        s, p, o = triple_pattern
        spo, pos = _indexes(self)
        if s is not None:
            by_p = spo.get(s, {})
            for predicate in (by_p if p is None else (p,) if p in by_p else ()):
                leaf = by_p[predicate]
                if o is None:
                    for obj in leaf_terms(leaf):
                        yield (s, predicate, obj), iter(())
                elif _holds(leaf, o):
                    yield (s, predicate, o), iter(())
        elif p is not None:
            by_o = pos.get(p, {})
            for obj in (by_o if o is None else (o,) if o in by_o else ()):
                for subject in leaf_terms(by_o[obj]):
                    yield (subject, p, obj), iter(())
        elif o is not None:
            for predicate, by_o in pos.items():
                if o in by_o:
                    for subject in leaf_terms(by_o[o]):
                        yield (subject, predicate, o), iter(())
        else:
            for subject, by_p in spo.items():
                for predicate, leaf in by_p.items():
                    for obj in leaf_terms(leaf):
                        yield (subject, predicate, obj), iter(())

    def __len__(self, context: Any = None) -> int:
        return _count(self)


def study_graph() -> Graph:
    """An empty graph on a :class:`StudyMemory`."""
    return Graph(store=StudyMemory())


def _indexes(store: SimpleMemory) -> tuple[_Index, _Index]:
    return store._SimpleMemory__spo, store._SimpleMemory__pos  # type: ignore[attr-defined]


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
        for p, leaf in by_p.items():
            if type(leaf) is dict:
                for o in leaf:
                    yield s, p, o
            else:
                yield s, p, leaf


def indexes(graph: Graph) -> tuple[_Index, _Index] | None:
    """The graph's subject-predicate-object and predicate-object-subject indexes, to be read (not
    changed) where its store keeps them (:func:`leaf_terms` reads their leaves); None for any other
    store."""
    store = _fast(graph)
    return None if store is None else _indexes(store)


def leaf_terms(leaf: Leaf) -> list[Node]:
    """The terms of one leaf of an index (:func:`subject_index`), in order."""
    return list(leaf) if type(leaf) is dict else [leaf]


def objects_by_subject(graph: Graph, predicate: Node) -> Iterator[tuple[Node, Node]]:
    """``graph.subject_objects(predicate)``, in the same order."""
    store = _fast(graph)
    if store is None:
        yield from graph.subject_objects(predicate)
        return
    for o, leaf in _indexes(store)[1].get(predicate, {}).items():
        if type(leaf) is dict:
            for s in leaf:
                yield s, o
        else:
            yield leaf, o


def _count(store: SimpleMemory) -> int:
    return sum(len(leaf) if type(leaf) is dict else 1
               for by_p in _indexes(store)[0].values() for leaf in by_p.values())


def triple_count(graph: Graph) -> int:
    """``len(graph)``, without walking every triple on a ``SimpleMemory`` (whose ``len()`` does:
    2 s a call at 100k quotes, and a load asked three times)."""
    store = _fast(graph)
    if store is None:
        return len(graph)
    return _count(store)
