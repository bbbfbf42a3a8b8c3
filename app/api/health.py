"""``GET /api/v1/health``: no auth; 200 once the process has started."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.container import Bulkdash


def health_router(container: Bulkdash) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness and readiness", response_model=dict)
    async def health() -> JSONResponse:
        if not container.started:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "version": "0.1.0",
                "active_jobs": len(container.engine.runtimes),
                "workers": container.settings.workers,
                "database": "sqlite" if container.db.is_sqlite else "postgresql",
            }
        )

    return router
