"""Python's cyclic garbage collector paused while a load builds and writes its studies.

A load makes millions of objects that all live until it ends (rdflib terms and their indexes, the
projected rows). Each of the collector's full passes walks every one of them, and their number
keeps setting off new passes: at 100k quotes, a third of ``prepare`` was the collector finding
nothing to free (``BENCHMARKS.md``; the peak memory was the same either way). So a load pauses it,
as Python's documentation allows when a program makes no cyclic garbage worth collecting meanwhile.

The pause is process-wide and counted: loads that overlap (threads of the API) keep it until the
last one ends, and a collector the program had switched off itself stays off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["collector_paused", "let_go"]


class _Pause:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.restore = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.depth == 0:
                self.restore = gc.isenabled()
                gc.disable()
            self.depth += 1
        try:
            yield
        finally:
            with self.lock:
                self.depth -= 1
                if self.depth == 0 and self.restore:
                    gc.enable()


#: ``with collector_paused(): ...`` — the collector is off inside (see the module's text)
collector_paused = _Pause()


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` (None elsewhere)."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def let_go() -> None:
    """Free what a part of a load made and no longer needs, while the collector is paused: the
    youngest objects' reference cycles (an rdflib graph is one), then the C heap's free pages given
    back to the system: the pages freed by one part of a load (``loaders/streamed.py``: a study
    without its tables) are not there for Python's small objects otherwise, which come from pages
    of their own (133 MB at 1M quotes)."""
    gc.collect(0)
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
