"""Reading the files a user names, by one rule for every reader (study files, documents, tables,
RDF, REFI-QDA archives, new documents and new versions of documents):

- a file that a study file names stays inside the study's folder, after symbolic links are
  followed (:func:`inside`); a path that leaves it is refused, naming the entry and the fix;
- only regular files are read: a device (``/dev/zero``), a named pipe, a socket or a folder is
  refused before a byte is read, and opening never blocks (``O_NONBLOCK``);
- a size limit holds for the bytes actually read, not for what the file system reports (a file in
  ``/proc`` reports 0 bytes and may hold any number);
- JSON is measured for depth before it is parsed (:func:`json_depth_exceeds`), so a deep document
  cannot exhaust a parser's recursion.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from kxgraph.errors import InputError

__all__ = ["inside", "json_depth_exceeds", "read_limited", "regular_file"]

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def inside(folder: Path, name: str, *, what: str, file: str, place: str) -> Path:
    """``name`` (relative to ``folder``), symbolic links followed; refused when it is not there or
    leaves ``folder``."""
    base = folder.resolve()
    try:
        resolved = (folder / name).resolve(strict=True)
    except FileNotFoundError:
        raise InputError(f"the {what} {name} does not exist", file=file, place=place,
                         fix="check the path (relative to the study file)") from None
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links, a name too long...
        raise InputError(f"the {what} {name} cannot be found ({exc})", file=file, place=place,
                         fix="name a file inside the study's folder") from None
    if not resolved.is_relative_to(base):
        raise InputError(f"the {what} {name!r} is outside the study's folder {base} (it is {resolved})", file=file,
                         place=place, fix="copy the file into the study's folder (or a folder below it) and name "
                                          "it relative to the study file")
    return resolved


def regular_file(path: Path, *, what: str, file: str | None = None, place: str | None = None) -> None:
    """Refuse anything but an existing regular file (symbolic links followed), without opening it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"the {what} {path} does not exist", file=file or str(path), place=place,
                         fix="check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read the {what} {path}: {exc.strerror}", file=file or str(path), place=place,
                         fix="check the path and its permissions") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"the {what} {path} is {_kind(mode)}, not a regular file", file=file or str(path),
                         place=place, fix="name a regular file")


def read_limited(path: Path, limit: int, *, what: str, file: str | None = None, place: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, refused past ``limit`` bytes as they are read."""
    where = file or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(f"the {what} {path} does not exist", file=where, place=place, fix="check the path") from None
    except OSError as exc:
        kind = "a socket" if exc.errno == errno.ENXIO else exc.strerror
        raise InputError(f"cannot read the {what} {path} ({kind})", file=where, place=place,
                         fix="name a regular file you may read") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"the {what} {path} is {_kind(mode)}, not a regular file", file=where, place=place,
                             fix="name a regular file")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputError(f"the {what} holds more than {limit} bytes", file=str(path), place=place,
                                 fix="split it into smaller files")
        return b"".join(chunks)
    finally:
        os.close(fd)


#: a JSON string, escapes included, or one that never ends (the rest of the text): one way to match
#: a text, and every attempt succeeds, so the scan is linear whatever the quotes and backslashes
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*\\?(?:"|\Z)', re.DOTALL)
_JSON_NESTING = re.compile(rb"[\[\]{}]")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit`` (strings skipped); linear. The
    strings go first, by a regular expression, and then only the brackets are walked: a request's
    body is mostly its query text, a string (a walk of every byte took 30-40 µs a request)."""
    outside = _JSON_STRING.sub(b"", body)
    if outside.count(b"[") + outside.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_NESTING.finditer(outside):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
