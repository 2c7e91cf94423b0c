"""Every error reaches the client in one JSON shape: ``{"error": {"code", "message", ...}}``.
Expected errors keep their message; unexpected ones are masked and logged."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kxgraph.errors import InputError, KxError, QueryError, StoreUnavailableError, VocabularyError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def install(app: FastAPI) -> None:
    @app.exception_handler(KxError)
    async def _kx_error(request: Request, exc: KxError) -> JSONResponse:
        if isinstance(exc, StoreUnavailableError):
            return JSONResponse(error_body(exc.code, str(exc)), status_code=503,
                                headers={"Retry-After": "1"})
        if isinstance(exc, InputError):
            return JSONResponse(error_body(exc.code, exc.message, file=exc.file, place=exc.place,
                                           fix=exc.fix), status_code=400)
        if isinstance(exc, VocabularyError):
            return JSONResponse(error_body(exc.code, str(exc)), status_code=400)
        from kxgraph.api.guards import current_request

        record = current_request()
        log.error("request %s: unexpected error on %s: %s", record.id if record else "-", request.url.path,
                  str(exc)[:300], exc_info=not isinstance(exc, QueryError))
        return JSONResponse(error_body("INTERNAL", "internal error"), status_code=500)
