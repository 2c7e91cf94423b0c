"""What every HTTP request passes before the app sees it, and the one log line it leaves.

- :class:`BodyLimit` — bodies over ``max_bytes`` get 413 (by Content-Length, or while streaming).
- :class:`RequestGuard` — malformed input gets a 400 in the project's error shape, never a 500: a
  NUL (or another control character) in the path or the query string, a JSON body that is not
  UTF-8 or nests deeper than :data:`MAX_JSON_DEPTH`.
- :class:`RequestLog` — gives each request an id (``X-Request-ID``, kept when the client sent a
  sane one) and writes one line per failed request: id, method, path (no query string: it may carry
  a study's words), status, error codes, duration. No body, no evidence text; lines are capped.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kxgraph.api.errors import error_body
from kxgraph.loaders.files import json_depth_exceeds

__all__ = ["MAX_JSON_DEPTH", "BodyLimit", "RequestGuard", "RequestLog", "RequestRecord", "current_request",
           "note_codes"]

log = logging.getLogger("kxgraph.requests")

#: deeper JSON than this (arrays and objects inside each other) is refused before it is parsed
MAX_JSON_DEPTH = 64
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CONTROL = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF])|[\x00-\x1f\x7f]")
MAX_LOG_LINE = 400


@dataclass
class RequestRecord:
    """What the app learnt about the request it answers, for its log line."""

    id: str
    codes: set[str] = field(default_factory=set)


_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar("kx_request", default=None)


def current_request() -> RequestRecord | None:
    return _current.get()


def note_codes(codes: set[str]) -> None:
    """Add error codes to the current request's log line (GraphQL errors come with status 200)."""
    record = _current.get()
    if record is not None:
        record.codes |= codes


def error_json(code: str, message: str) -> bytes:
    return json.dumps(error_body(code, message)).encode()


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _respond(send, 413, error_json("TOO_LARGE", f"request body over {self.max_bytes} bytes"))
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _respond(send, 413, error_json("TOO_LARGE", f"request body over {self.max_bytes} bytes"))


class _TooLarge(Exception):
    pass


class RequestGuard:
    """400 for malformed addresses and JSON bodies, before any route or GraphQL sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if _CONTROL.search(raw_path) or _CONTROL.search(scope.get("query_string") or b"") or \
                any(ord(c) < 0x20 or ord(c) == 0x7F for c in scope["path"]):
            await _respond(send, 400, error_json("BAD_INPUT", "the address holds a control character (such as NUL)"))
            return
        if _has_invalid_encoding(raw_path, scope.get("query_string") or b""):
            await _respond(send, 400, error_json("BAD_INPUT", "the address is not valid UTF-8"))
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] not in ("POST", "PUT", "PATCH") or b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            why = f"the request body is not valid UTF-8 (byte {exc.start})"
            await _respond(send, 400, error_json("BAD_INPUT", why))
            return
        if json_depth_exceeds(body, MAX_JSON_DEPTH):
            why = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
            await _respond(send, 400, error_json("BAD_INPUT", why))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _has_invalid_encoding(raw_path: bytes, query: bytes) -> bool:
    from urllib.parse import unquote_to_bytes

    for part in (raw_path, query):
        try:
            unquote_to_bytes(part).decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


class RequestLog:
    """An id for every request, and one log line for each that failed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        record = RequestRecord(id=given if _SANE_ID.match(given) else uuid.uuid4().hex[:12])
        token = _current.set(record)
        started = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", record.id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            _current.reset(token)
            if status >= 400 or record.codes:
                line = (f"request {record.id}: {scope['method']} {scope['path'][:120]} -> {status}"
                        f"{' ' + ','.join(sorted(record.codes)) if record.codes else ''} "
                        f"in {(time.perf_counter() - started) * 1000:.0f} ms")
                log.log(logging.WARNING if status >= 500 else logging.INFO, line[:MAX_LOG_LINE])
