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
    │   └── ValidationError           SHACL violations
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
    "KxError",
    "NoSpaceError",
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
