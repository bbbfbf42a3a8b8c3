"""``GET /api/v1/bulk-jobs/{id}/webhooks``: every webhook delivery attempt of a job, oldest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from app.api.paging import PageParams100
from app.container import Bulkdash
from app.services.errors import NotFound
from app.store.webhooks import WebhookStore


def webhooks_router(container: Bulkdash) -> APIRouter:
    """Mounted under ``/api/v1``."""
    router = APIRouter(tags=["webhooks"])
    store = WebhookStore(container.db)

    async def current_user(request: Request) -> dict[str, Any]:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        user = await container.auth.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise HTTPException(401, "missing or unknown token", headers={"WWW-Authenticate": "Bearer"})
        return user

    @router.get("/bulk-jobs/{job_id}/webhooks", summary="Webhook deliveries of a job")
    async def deliveries(job_id: str, request: Request, page: PageParams100) -> dict[str, Any]:
        """``{items, total, limit, offset}``; each item: ``event_type, seq, attempt, status_code, error,
        delivered, created_at``."""
        user = await current_user(request)
        try:
            await container.jobs.get(user, job_id)
        except NotFound as exc:
            raise HTTPException(404, exc.message) from exc
        items, total = await store.list(job_id, limit=page.limit, offset=page.offset)
        return page.of(items, total)

    return router
