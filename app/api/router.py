"""Assembles every REST route under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.health import health_router
from app.container import Bulkdash


def create_api_router(container: Bulkdash) -> APIRouter:
    """The ``/api/v1`` router for one process (the NiceGUI app and test apps include it)."""
    api = APIRouter(prefix="/api/v1")
    api.include_router(health_router(container))
    return api
