"""``GET /api/v1/bulk-jobs/{id}/webhooks``: every webhook delivery attempt of a job, oldest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import ContainerDep, CurrentUser
from app.api.jobs import JobId
from app.api.paging import PageParams100


def webhooks_router() -> APIRouter:
    """Mounted under ``/api/v1``."""
    router = APIRouter(tags=["webhooks"])

    @router.get("/bulk-jobs/{job_id}/webhooks", summary="Webhook deliveries of a job")
    async def deliveries(
        job_id: JobId, container: ContainerDep, user: CurrentUser, page: PageParams100
    ) -> dict[str, Any]:
        """``{items, total, limit, offset}``; each item: ``event_type, seq, attempt, status_code, error,
        delivered, created_at``."""
        await container.jobs.get(user, job_id)  # 404 for a job the user may not see
        if container.webhooks is None:
            return page.of([], 0)
        items, total = await container.webhooks.deliveries(job_id, limit=page.limit, offset=page.offset)
        return page.of(items, total)

    return router
