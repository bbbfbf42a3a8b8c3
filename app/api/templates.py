"""``GET /api/v1/templates``: what ``template.template_id`` accepts, with each template's default overrides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import UNAUTHORIZED
from app.domain.schemas import Page
from app.generators.registry import TemplateInfo


def templates_router() -> APIRouter:
    """Mounted under ``/api/v1``."""
    router = APIRouter(prefix="/templates", tags=["templates"])

    @router.get("", response_model=Page[TemplateInfo], summary="List templates", responses=UNAUTHORIZED)
    async def list_templates(container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        """The built-in templates first, then the files of the templates folder."""
        items = container.templates.list()
        return {"items": items, "total": len(items), "limit": len(items), "offset": 0}

    return router
