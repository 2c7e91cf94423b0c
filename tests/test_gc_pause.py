"""A load pauses Python's cyclic garbage collector while it builds and writes its studies
(``loaders/gc_pause.py``): on inside, as it was after, whatever happens."""

from __future__ import annotations

import gc
import threading

import pytest

from kxgraph.graph.store import Store
from kxgraph.loaders.gc_pause import collector_paused
from kxgraph.loaders.pipeline import load
from tests.helpers import BUNDLED


@pytest.mark.anyio
@pytest.mark.parametrize("store", ["falkordb"], indirect=True)  # the same Python on either store
async def test_a_load_reads_and_writes_with_the_collector_paused(store: Store) -> None:
    seen: list[tuple[str, bool]] = []
    assert gc.isenabled()
    report = await load(store, [BUNDLED], progress=lambda m: seen.append((m.split()[0], gc.isenabled())),
                        meaning=False)
    assert report.changed and report.quotes == 44
    assert {stage for stage, _ in seen} >= {"reading", "validating", "projecting", "writing"}
    assert not any(on for _, on in seen), seen
    assert gc.isenabled()


def test_an_error_inside_gives_the_collector_back() -> None:
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("a bad study")
    assert gc.isenabled()


def test_a_collector_the_program_switched_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_loads_keep_the_pause_until_the_last_ends() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other_load() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_load)
    thread.start()
    try:
        assert inside.wait(10)
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other load still runs
    finally:
        leave.set()
        thread.join(10)
    assert gc.isenabled()
