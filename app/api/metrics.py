"""``GET /metrics`` (no prefix): Prometheus text format, one registry per process (tests build several)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.container import Bulkdash
from app.domain.states import JobState, VideoState

_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class Metrics:
    """The process's metrics. ``ws_clients`` and ``ui_clients`` are callables the WebSocket and UI code may
    replace (``metrics.ui_clients = lambda: len(Client.instances)``); they are read at scrape time."""

    def __init__(self, container: Bulkdash) -> None:
        self.container = container
        self.registry = CollectorRegistry(auto_describe=True)
        self.ws_clients: Callable[[], int] = lambda: container.bus.subscriber_count
        self.ui_clients: Callable[[], int] = lambda: 0
        self.jobs_by_state: dict[str, int] = {}
        self.processing = Histogram(
            "bulkdash_video_processing_seconds",
            "Processing time of videos that reached a final state",
            ["state"],
            buckets=_BUCKETS_S,
            registry=self.registry,
        )
        self.failures = Counter(
            "bulkdash_video_failures", "Videos that failed, by error code", ["code"], registry=self.registry
        )
        self.registry.register(_LiveCollector(self))
        container.engine.video_hooks.append(self.on_video_final)

    def on_video_final(self, job: dict[str, Any], video: dict[str, Any]) -> None:
        """Engine hook: called (without waiting) when a video reaches a final state."""
        state = video.get("state") or "unknown"
        seconds = _processing_seconds(video)
        if seconds is not None:
            self.processing.labels(state=state).observe(seconds)
        if state == VideoState.FAILED:
            code = (video.get("error") or {}).get("code") or "unknown"
            self.failures.labels(code=code).inc()

    async def render(self) -> bytes:
        """The text exposition (reads the job counts from the store first: collectors cannot await)."""
        self.jobs_by_state = await self.container.jobs_store.jobs_by_state()
        return generate_latest(self.registry)


def _processing_seconds(video: dict[str, Any]) -> float | None:
    """``processing_ms`` (completed videos), else the last attempt's start to the end (failed, canceled)."""
    if video.get("processing_ms") is not None:
        return video["processing_ms"] / 1000
    started, finished = video.get("started_at"), video.get("finished_at")
    if isinstance(started, datetime) and isinstance(finished, datetime):
        return max(0.0, (finished - started).total_seconds())
    return None


class _LiveCollector(Collector):
    """Values read at scrape time from the engine, the bus and the last job count."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m, container = self.metrics, self.metrics.container
        jobs = GaugeMetricFamily("bulkdash_jobs", "Jobs by state", labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], m.jobs_by_state.get(state.value, 0))
        yield jobs
        videos = GaugeMetricFamily("bulkdash_active_videos", "Videos of active jobs by state", labels=["state"])
        totals = dict.fromkeys((s.value for s in VideoState), 0)
        for rt in list(container.engine.runtimes.values()):
            for state, n in rt.tracker.counts.items():
                if state in totals:
                    totals[state] += n
        for state, n in totals.items():
            videos.add_metric([state], n)
        yield videos
        yield GaugeMetricFamily("bulkdash_active_jobs", "Jobs the engine is working on", len(container.engine.runtimes))
        yield CounterMetricFamily("bulkdash_events_published", "Events handed to the bus", container.bus.published)
        yield CounterMetricFamily(
            "bulkdash_videos_processed", "Videos the engine finished processing", container.engine.processed
        )
        yield GaugeMetricFamily("bulkdash_ws_clients", "Live event subscribers (WebSocket clients)", m.ws_clients())
        yield GaugeMetricFamily("bulkdash_ui_clients", "Connected dashboard pages", m.ui_clients())


def metrics_router(metrics: Metrics) -> APIRouter:
    """``/metrics`` without the ``/api/v1`` prefix and without auth (scrapers rarely send tokens)."""
    router = APIRouter(tags=["metrics"])

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
