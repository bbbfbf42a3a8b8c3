"""Assembles the REST API: every route under ``/api/v1``, ``/metrics``, error handlers and guard rails."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from app.api.deps import bind
from app.api.errors import NOT_FOUND, UNAUTHORIZED, error_responses, install_error_handlers
from app.api.health import health_router
from app.api.jobs import jobs_router
from app.api.limits import BodySizeLimit, Limits, RateLimiter
from app.api.metrics import Metrics, metrics_router
from app.api.sources import sources_router
from app.api.templates import templates_router
from app.api.tokens import tokens_router
from app.api.videos import videos_router
from app.api.webhooks import webhooks_router
from app.api.ws import WsOptions, ws_router
from app.container import Bulkdash
from app.services.tokens import TokenUsage


def create_api_router(container: Bulkdash, limits: Limits | None = None) -> APIRouter:
    """The ``/api/v1`` router for one process. Prefer :func:`install`, which adds what a router cannot hold
    (error handlers, body size limit, ``/metrics``)."""
    limits = limits or Limits.from_settings(container.settings)
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(bind(container, TokenUsage(container.users)))])
    api.include_router(health_router(container))
    api.include_router(jobs_router(RateLimiter(limits.create_rate_per_min, limits.create_burst)))
    api.include_router(videos_router())
    api.include_router(templates_router())
    api.include_router(tokens_router())
    api.include_router(sources_router())
    api.include_router(webhooks_router(), responses=error_responses(UNAUTHORIZED, NOT_FOUND))
    return api


def install(
    app: FastAPI, container: Bulkdash, limits: Limits | None = None, ws_options: WsOptions | None = None
) -> Metrics:
    """Adds the WebSocket ``/ws``, the REST API, its error handlers, the body size limit and ``/metrics`` to
    ``app`` (before it starts). Returns the process's :class:`Metrics` (also at ``app.state.bulkdash_metrics``)."""
    limits = limits or Limits.from_settings(container.settings)
    ws = ws_router(container, ws_options)
    app.include_router(ws)
    app.include_router(create_api_router(container, limits))
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limits=limits)
    metrics = Metrics(container)
    metrics.ws_clients = lambda: len(ws.hub.connections)  # type: ignore[attr-defined]
    app.include_router(metrics_router(metrics))
    app.state.bulkdash_metrics = metrics
    return metrics
