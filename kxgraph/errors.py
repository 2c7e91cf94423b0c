"""One error hierarchy for the whole project.

    KxError
    ├── ConfigError              a setting is missing or wrong
    ├── StoreError               anything the graph store says or does wrong
    │   ├── BackendUnavailableError   this backend cannot run on this platform / install
    │   ├── StoreLockedError          another live process owns the embedded store's data folder
    │   ├── StoreUnavailableError     the store does not answer (yet): retry later, API answers 503
    │   │   └── NoSpaceError          the store's disk is full (names the folder, the space needed)
    │   └── QueryError                the store refused a statement
    ├── VocabularyError          a label or relationship type outside the ontology's closed set
    ├── InputError               a file a user gave us is wrong (names the file, place and fix)
    │   ├── DataFormatError           syntax / shape of a study file
    │   ├── QuoteError                an evidence quote not found, or ambiguous, in its document
    │   ├── ValidationError           SHACL violations
    │   └── InputErrors               several of the above in one file, each with its place and fix
    ├── RequestError             an API request or a command cannot be done as asked (its code says
    │                            why: BAD_ARGUMENT, NOT_FOUND, PAGE_SIZE, UNAUTHENTICATED...)
    └── ExportError              an export kxgraph built does not follow its format (a bug)

Every error carries a plain-language message and a ``code`` (the API's ``extensions.code`` and
``error.code``); ``InputError`` also carries ``file``, ``place`` and ``fix`` so that the CLI and the
API can show all three. Each backend maps its driver's errors onto this tree in one place
(``FalkorStore._store_error``, ``Neo4jStore._errors``).
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "DataFormatError",
    "ExportError",
    "InputError",
    "InputErrors",
    "KxError",
    "NoSpaceError",
    "ProblemList",
    "QueryError",
    "QuoteError",
    "RequestError",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
    "ValidationError",
    "VocabularyError",
]


class KxError(Exception):
    """Root of every error kxgraph raises on purpose."""

    code = "KX_ERROR"


class ConfigError(KxError):
    code = "CONFIG"


class StoreError(KxError):
    code = "STORE"


class BackendUnavailableError(StoreError):
    code = "BACKEND_UNAVAILABLE"


class StoreLockedError(StoreError):
    code = "STORE_LOCKED"


class StoreUnavailableError(StoreError):
    code = "STORE_UNAVAILABLE"


class NoSpaceError(StoreUnavailableError):
    code = "NO_SPACE"


class QueryError(StoreError):
    code = "QUERY"


class VocabularyError(KxError):
    code = "VOCABULARY"


class RequestError(KxError):
    """A request the API (or a command) cannot answer as asked; ``code`` says why."""

    def __init__(self, message: str, code: str = "BAD_ARGUMENT") -> None:
        super().__init__(message)
        self.code = code


class ExportError(KxError):
    code = "EXPORT"


class InputError(KxError):
    """A user's file is wrong. ``str(err)`` names the file, the place and the fix."""

    code = "INPUT"

    def __init__(self, message: str, *, file: str | None = None, place: str | None = None,
                 fix: str | None = None) -> None:
        self.message = message
        self.file = file
        self.place = place
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.place:
                where += f", {self.place}"
            where += ": "
        elif self.place:
            where = f"{self.place}: "
        text = f"{where}{self.message}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class DataFormatError(InputError):
    code = "DATA_FORMAT"


class QuoteError(InputError):
    code = "QUOTE"


class ValidationError(InputError):
    """SHACL found violations; ``problems`` holds one rendered line per violation."""

    code = "SHACL"

    def __init__(self, problems: list[str], *, file: str | None = None) -> None:
        self.problems = problems
        head = f"{len(problems)} rule violation(s) in the study data"
        super().__init__(head + ":\n  - " + "\n  - ".join(problems), file=file,
                         fix="correct the entries named above and load again")


class InputErrors(InputError):
    """Several problems of one file, found in one pass (at most :data:`MAX_PROBLEMS` kept):
    ``problems`` holds each, with its own place and fix."""

    MAX_PROBLEMS = 50

    def __init__(self, problems: list[InputError], *, more: int = 0) -> None:
        self.problems = problems
        self.more = more
        files = {p.file for p in problems}
        lines = [f"{p.place or '(the file)'}: {p.message}" + (f"\n      fix: {p.fix}" if p.fix else "")
                 for p in problems]
        total = len(problems) + more
        head = f"{total} problems" + (f" (the first {len(problems)} shown)" if more else "")
        super().__init__(head + ":\n  - " + "\n  - ".join(lines),
                         file=files.pop() if len(files) == 1 else None,
                         fix="correct each entry named above and run kxgraph validate again")


class ProblemList:
    """Collects the problems of one pass over a file: ``add`` keeps going, ``raise_if_any`` ends it."""

    def __init__(self) -> None:
        self.found: list[InputError] = []
        self.more = 0

    def add(self, problem: InputError) -> None:
        if len(self.found) < InputErrors.MAX_PROBLEMS:
            self.found.append(problem)
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if len(self.found) == 1 and not self.more:
            raise self.found[0]
        if self.found:
            raise InputErrors(self.found, more=self.more)
