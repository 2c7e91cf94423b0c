"""``GET /healthz``: which backend, and whether it answers (503 with the reason when not)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kxgraph import __version__
from kxgraph.api.deps import StoreDep

router = APIRouter()


@router.get("/healthz", summary="Store health", responses={503: {"description": "store down"}})
async def healthz(store: StoreDep) -> JSONResponse:
    health = await store.health()
    body: dict[str, Any] = {
        "status": "ok" if health.ok else "unavailable",
        "backend": health.backend,
        "detail": health.detail,
        "version": __version__,
        **{k: v for k, v in health.info.items() if k != "data_dir"},
    }
    return JSONResponse(body, status_code=200 if health.ok else 503)
