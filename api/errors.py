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


#: HTTP statuses Starlette raises itself (unknown address, wrong method...) -> our codes
HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 415: "UNSUPPORTED_MEDIA_TYPE"}


def install(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _bad_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = ", ".join(".".join(str(x) for x in e.get("loc", ())) for e in exc.errors()[:5])
        return JSONResponse(error_body("BAD_INPUT", f"the request's parameters are not valid ({where})"),
                            status_code=400)

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
