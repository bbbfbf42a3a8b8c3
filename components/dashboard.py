"""The live dashboard of one job: summary, controls, metrics, charts and the video table.

Live updates: the bus callback only records what changed (it runs in the writer's commit path and must be
cheap); one timer per page repaints the summary widgets and re-reads the visible table page when videos
changed, so a busy job costs each page a few small updates per second whatever the event rate.
"""

from __future__ import annotations

import time
from typing import Any

from nicegui import ui

from app.container import Bulkdash
from app.domain.events import Event, EventType
from app.domain.states import JOB_FINAL
from app.services.errors import ServiceError
from app.web.files import results_url
from components import fmt
from components.charts import StatesChart, ThroughputChart
from components.controls import Controls
from components.metric_cards import MetricCards
from components.progress_summary import ProgressSummary
from components.video_details import open_video_details
from components.video_table import VideoTable

TICK_S = 0.4
TABLE_EVERY_S = 1.0
_FINAL_EVENTS = {EventType.JOB_COMPLETED, EventType.JOB_FAILED, EventType.JOB_CANCELED}
_VIDEO_EVENTS = {EventType.VIDEO_CREATED, EventType.VIDEO_UPDATED, EventType.VIDEO_COMPLETED, EventType.VIDEO_FAILED}
_TOAST = {"completed": "positive", "failed": "negative", "canceled": "warning", "paused": "info"}


class JobDashboard:
    """Builds the dashboard of ``job`` in the current page; call ``await start()`` once built."""

    def __init__(self, container: Bulkdash, user: dict[str, Any], job: dict[str, Any]) -> None:
        self.container, self.user = container, user
        self.job = job = job
        self.job_id = job["id"]
        self.dirty_job = self.dirty_videos = self.refetch = False
        self.state_changes: list[str] = []
        self._table_at = 0.0
        with ui.row().classes("w-full items-center justify-between gap-2"):
            with ui.column().classes("gap-0"):
                ui.label(job["title"]).classes("text-2xl font-semibold").mark("job-title")
                ui.label(self._subtitle()).classes("text-xs opacity-70")
            with ui.row().classes("items-center gap-2"):
                self.controls = Controls(container, user, job, self.apply_job)
                ui.button("Results (CSV)", icon="download", on_click=self.download_results).props("outline").mark(
                    "results-csv"
                )
        self.summary = ProgressSummary(job)
        self.metrics = MetricCards(job["progress"])
        with ui.grid().classes("w-full gap-2 grid-cols-1 md:grid-cols-2"):
            with ui.card().classes("p-2"):
                self.throughput = ThroughputChart()
            with ui.card().classes("p-2"):
                self.states = StatesChart(job["progress"])
        self.table = VideoTable(container, user, self.job_id, on_open=self.open_video)
        self.subscription = container.bus.subscribe_callback(self.on_event, job_id=self.job_id)
        ui.context.client.on_delete(self.close)

    def _subtitle(self) -> str:
        j = self.job
        out = j["output"]
        return (
            f"{self.job_id} · created {fmt.when(j['created_at'])} · {j['template']['template_id']} · "
            f"{out['format']}/{out['video_codec']}/{out['resolution']} → {out['output_bucket']} · {j['priority']}"
        )

    async def start(self) -> None:
        """Loads the first table page (so it is in the first paint) and the first chart sample."""
        await self.table.refresh()
        self.throughput.sample(self.job["progress"], force=True)
        # a timer waits for the socket, and NiceGUI answers a page as soon as something waits for it: so the
        # timer comes last, after everything the first paint should hold
        self.timer = ui.timer(TICK_S, self.tick)

    def on_event(self, event: Event) -> None:
        """Bus callback: record only, never touch the UI here."""
        if event.type == EventType.JOB_PROGRESS:
            self.job["progress"] = event.data
            self.dirty_job = True
        elif event.type == EventType.JOB_STATE_CHANGED:
            self.job["state"] = event.data["to"]
            self.state_changes.append(event.data["to"])
            self.dirty_job = True
            # only the start and end times are missing from the event; re-read the job just for them
            self.refetch = self.job.get("started_at") is None or event.data["to"] in JOB_FINAL
        elif event.type in _FINAL_EVENTS:
            self.job.update(event.data)
            self.dirty_job = self.dirty_videos = True
        elif event.type in _VIDEO_EVENTS:
            self.dirty_videos = True

    def apply_job(self, job: dict[str, Any]) -> None:
        """A command's answer: show it at once (the bus confirms it moments later)."""
        self.job = job
        self.dirty_job = self.dirty_videos = True

    async def tick(self) -> None:
        if self.refetch:
            self.refetch = False
            try:
                self.job = await self.container.jobs.get(self.user, self.job_id)
            except ServiceError:
                pass
        for state in self.state_changes:
            ui.notify(f"Job is now {state}", type=_TOAST.get(state, "info"))
        self.state_changes.clear()
        self.summary.update(self.job)  # also advances the elapsed time
        if self.dirty_job:
            self.dirty_job = False
            self.controls.update(self.job)
            self.metrics.update(self.job["progress"])
            self.states.update(self.job["progress"])
        if self.job["state"] not in JOB_FINAL:
            self.throughput.sample(self.job["progress"])
        now = time.monotonic()
        if self.dirty_videos and now - self._table_at >= TABLE_EVERY_S:
            self.dirty_videos = False
            self._table_at = now
            if not await self.table.refresh():
                self.dirty_videos = True  # a shared, slightly older page: look again next time

    def download_results(self) -> None:
        ui.download.from_url(results_url(self.job_id))

    async def open_video(self, video_id: str) -> None:
        await open_video_details(self.container, self.user, self.job_id, video_id)

    def close(self) -> None:
        self.subscription.close()
