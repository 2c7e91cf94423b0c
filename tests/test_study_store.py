"""The study's rdflib store (``loaders/study_store.py``) is rdflib's ``SimpleMemory`` to every
reader (but for the order of a look-up by object alone), and the fast readers give what rdflib's own
API gives, in the same order."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import SimpleMemory

from kxgraph.loaders.study_store import StudyMemory, objects_by_subject, triple_count, triples

SUBJECTS = [URIRef(f"https://w3id.org/kxgraph/id/s/{i}") for i in range(4)] + [BNode("b")]
PREDICATES = [URIRef(f"https://w3id.org/kxgraph/ns#p{i}") for i in range(3)]
# equal literals made separately (a Literal's hash is computed each time): "1" as a string and as
# an integer are different terms
OBJECTS = st.sampled_from([*SUBJECTS, "one", "two", "1", 1, 2.5, True]).map(
    lambda v: v if isinstance(v, URIRef | BNode) else Literal(v))

ADD = st.tuples(st.just("add"), st.sampled_from(SUBJECTS), st.sampled_from(PREDICATES), OBJECTS)
REMOVE = st.tuples(st.just("remove"), st.sampled_from([*SUBJECTS, None]), st.sampled_from([*PREDICATES, None]))
OPERATIONS = st.lists(st.one_of(ADD, REMOVE), max_size=40)


def _apply(g: Graph, operations: list[tuple]) -> None:  # type: ignore[type-arg]
    for op in operations:
        if op[0] == "add":
            g.add(op[1:])
        else:
            g.remove((op[1], op[2], None))


def _patterns(g: Graph) -> list[tuple]:  # type: ignore[type-arg]
    terms = {t for triple in g for t in triple} | set(SUBJECTS[:2]) | {PREDICATES[0], Literal("one")}
    return [(s, p, o) for s in [None, *terms] for p in [None, *PREDICATES] for o in [None, *terms]
            if (s, p, o).count(None) >= 1][:400]


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_the_study_store_holds_and_gives_what_simple_memory_does(operations: list[tuple]) -> None:  # type: ignore[type-arg]
    plain, study = Graph(store=SimpleMemory()), Graph(store=StudyMemory())
    _apply(plain, operations)
    _apply(study, operations)
    assert list(study) == list(plain)  # the same triples, in the same order
    for pattern in _patterns(plain):  # every index, each walked as rdflib walks it
        if pattern[0] is None and pattern[1] is None and pattern[2] is not None:
            # no index by object: the same triples, in the order of the predicates' index
            assert Counter(study.triples(pattern)) == Counter(plain.triples(pattern)), pattern
        else:
            assert list(study.triples(pattern)) == list(plain.triples(pattern)), pattern
    assert len(study) == len(plain)


@settings(max_examples=100, deadline=None)
@given(OPERATIONS)
def test_the_fast_readers_give_what_rdflib_gives_on_any_store(operations: list[tuple]) -> None:  # type: ignore[type-arg]
    for g in (Graph(store=StudyMemory()), Graph(store=SimpleMemory()), Graph()):  # Graph(): rdflib's Memory
        _apply(g, operations)
        assert list(triples(g)) == list(g)
        assert triple_count(g) == len(g)
        for p in PREDICATES:
            assert list(objects_by_subject(g, p)) == list(g.subject_objects(p))
