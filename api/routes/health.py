"""``GET /healthz``: which backend, and whether it answers (503 with the reason when not)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kxgraph import __version__
from kxgraph.api.deps import StoreDep

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/healthz", summary="Store health", responses={503: {"description": "store down"}})
async def healthz(request: Request, store: StoreDep) -> JSONResponse:
    health = await store.health()
    was_ok = getattr(request.app.state, "store_ok", True)
    if health.ok != was_ok:  # the log says when the store went away and when it came back, once each
        request.app.state.store_ok = health.ok
        if health.ok:
            log.warning("the %s store answers again", health.backend)
        else:
            log.error("the %s store is unavailable: %s", health.backend, health.detail)
    body: dict[str, Any] = {
        "status": "ok" if health.ok else "unavailable",
        "backend": health.backend,
        "detail": health.detail,
        "version": __version__,
        **{k: v for k, v in health.info.items() if k != "data_dir"},
    }
    return JSONResponse(body, status_code=200 if health.ok else 503)
