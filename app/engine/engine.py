"""The engine: hands pending videos to a pool of asyncio workers by job priority, then age.

State is owned by the event loop: commands and workers change the in-memory :class:`JobRuntime`, the
:class:`BatchWriter` persists the changes in batches, and events reach subscribers after they are committed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.events import Event, EventType
from app.domain.progress import ProgressTracker
from app.domain.states import JOB_FINAL, IllegalTransition, JobState, VideoState, check_job_transition
from app.domain.views import job_view, video_view
from app.engine.runtime import JobRuntime
from app.generators.base import GenerationError, Generator, OutputSettings, RenderRequest
from app.settings import Settings
from app.store.jobs import JobStore, as_utc
from app.store.writer import BatchWriter

log = logging.getLogger(__name__)

_REFILL = 500
#: a job with more new videos than this emits their ``video.created`` events in chunks of this size
_ANNOUNCE_CHUNK = 5000
Ingest = Callable[[dict[str, Any]], Awaitable[list[dict[str, Any]]]]
JobHook = Callable[[dict[str, Any]], Awaitable[None]]
VideoHook = Callable[[dict[str, Any], dict[str, Any]], None]

P, V = JobState, VideoState


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobNotRunning(IllegalTransition):
    """A command for a job the engine does not hold in memory: it is finished (or was never registered).

    An :class:`IllegalTransition`, so the services answer it as any illegal move (409).
    """

    def __init__(self, job_id: str, action: str) -> None:
        super().__init__("job", "finished", "", action)
        self.job_id = job_id
        self.action = action


class Engine:
    """Scheduler + worker pool. Use :meth:`start` / :meth:`stop`; commands return the job's new row."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        writer: BatchWriter,
        generators: Callable[[str], Generator],
        *,
        ingest: Ingest | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.writer = writer
        self.generators = generators
        self.ingest = ingest
        #: awaited while a job is ``completing`` (write-back flush, for example)
        self.finishing_hooks: list[JobHook] = []
        #: called (without waiting) when a video reaches a final state
        self.video_hooks: list[VideoHook] = []
        #: called (without waiting) when a retry opens a finished job again, before any of its videos runs
        self.reopen_hooks: list[Callable[[dict[str, Any]], None]] = []
        self.runtimes: dict[str, JobRuntime] = {}
        self._order: list[JobRuntime] = []
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._announcing: set[asyncio.Task[None]] = set()
        #: sources being read (a sheet job's rows); canceled at stop, read again at the next start
        self._reading: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self.processed = 0

    # -- lifecycle --------------------------------------------------------------------------------------------
    async def start(self, *, workers: int | None = None) -> None:
        """Recovers from a crash, resumes every unfinished job and starts the workers."""
        await self.writer.flush()  # the store must hold every seq handed out before runtimes are rebuilt
        self.runtimes.clear()
        self._order = []
        requeued = await self.jobs.requeue_processing()
        if requeued:
            log.info("recovered %d videos left processing by a previous run", requeued)
        for row in await self.jobs.active_jobs():
            rt = await self._load(row)
            unread = rt.tracker.total == 0 and row["input_source"].get("type") == "sheet"
            if unread and rt.state == P.PENDING and self.ingest is not None:
                self._read_source_later(rt)  # stopped before its rows were read: read them now
                continue
            await self._recover(rt)
        self._stopping = False
        n = self.settings.workers if workers is None else workers
        self._tasks = [asyncio.create_task(self._worker(i), name=f"bulkdash-worker-{i}") for i in range(n)]
        self._tasks.append(asyncio.create_task(self._ticker(), name="bulkdash-ticker"))
        self._update_idle()

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stops taking work; running videos get ``grace_s`` to finish, then go back to ``pending``."""
        self._stopping = True
        self._wakeup.set()
        running = [task for rt in self.runtimes.values() for task in rt.running.values()]
        if running and grace_s > 0:
            await asyncio.wait(running, timeout=grace_s)
        for rt in self.runtimes.values():
            for vid, task in rt.running.items():
                rt_video = getattr(task, "bulkdash_video", None)
                if rt_video is not None:
                    rt_video["_stop"] = "shutdown"
                task.cancel()
                log.info("video %s interrupted by shutdown; it will run again", vid)
        for task in self._reading.values():
            task.cancel()
        workers = [t for t in self._tasks if not t.get_name().endswith("ticker")]
        await asyncio.gather(*workers, *self._announcing, *self._reading.values(), return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._tick()
        await self.writer.flush()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Waits until no job has work left (every active job is paused or done)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    # -- reads ------------------------------------------------------------------------------------------------
    def live_row(self, job_id: str) -> dict[str, Any] | None:
        """The job's current in-memory row (with fresh progress) when the engine holds it."""
        rt = self.runtimes.get(job_id)
        if rt is None:
            return None
        return {**rt.row, "progress": rt.tracker.snapshot()}

    # -- commands ---------------------------------------------------------------------------------------------
    async def register(self, job: dict[str, Any], videos: Sequence[dict[str, Any]] | None) -> None:
        """Takes a job that was just stored (with its videos, or ``None`` when the source is read later)."""
        rt = JobRuntime(
            row=dict(job), generator=self._generator_for(job), tracker=ProgressTracker(), seq=job["last_seq"]
        )
        self._add(rt)
        if videos is None:
            self._read_source_later(rt)
        else:
            self._announce(rt, videos)
        self._wake()

    async def pause(self, job_id: str) -> dict[str, Any]:
        rt = await self._ready_runtime(job_id, "pause")
        check_job_transition(rt.state, P.PAUSING, "pause")
        self._set_state(rt, P.PAUSING)
        moved = self.live_row(job_id)
        self._check_job(rt)
        await self.writer.flush()
        return moved or rt.row

    async def resume(self, job_id: str) -> dict[str, Any]:
        rt = await self._ready_runtime(job_id, "resume")
        if rt.state != P.PAUSED:  # pending → running is the engine's own move, never a resume
            raise IllegalTransition("job", rt.state.value, P.RUNNING.value, "resume")
        self._set_state(rt, P.RUNNING)
        moved = self.live_row(job_id)
        self._wake()
        self._check_job(rt)
        await self.writer.flush()
        return moved or rt.row

    async def cancel(self, job_id: str) -> dict[str, Any]:
        rt = await self._ready_runtime(job_id, "cancel")
        check_job_transition(rt.state, P.CANCELING, "cancel")
        self._set_state(rt, P.CANCELING)
        moved = self.live_row(job_id)
        await self._halt(rt)
        self._check_job(rt)
        await self.writer.flush()
        return moved or rt.row

    async def retry(self, job_id: str, job: dict[str, Any]) -> dict[str, Any]:
        """Failed (and, unless the job was canceled, canceled) videos go back to ``pending``."""
        rt = self.runtimes.get(job_id)
        if rt is not None:
            await rt.ready.wait()
            rt = self.runtimes.get(job_id)  # it may have finished meanwhile: then it opens again below
        state = JobState(rt.row["state"] if rt else job["state"])
        if state in (P.PAUSING, P.CANCELING, P.COMPLETING) or (rt and rt.halted):
            raise IllegalTransition("job", state.value, "running", "retry")
        await self.writer.flush()
        from_states = ["failed"] if state == P.CANCELED else ["failed", "canceled"]
        reset = {"error": None, "progress": 0.0, "stage": None, "finished_at": None, "attempts": 0}
        moved = await self.jobs.move_videos(job_id, from_states, "pending", reset)
        if not moved:
            return self.live_row(job_id) or job
        if rt is None:  # a finished job opens again
            job = {**job, "state": P.RUNNING.value, "finished_at": None, "error": None}
            rt = await self._load(job)
            self.writer.update_job(job_id, {"state": P.RUNNING.value, "finished_at": None, "error": None})
            self._emit(rt, EventType.JOB_STATE_CHANGED, {"from": state.value, "to": P.RUNNING.value})
            for hook in self.reopen_hooks:
                try:
                    hook(rt.row)
                except Exception:
                    log.exception("reopen hook failed")
        else:
            for video in moved:
                rt.tracker.add_many("pending", 1, old=video.pop("_old_state"))
            rt.buffer.extendleft(sorted(moved, key=lambda v: v["row_index"], reverse=True))
        rt.dirty_progress = True
        answer = self.live_row(job_id) or rt.row
        self._wake()
        await self.writer.flush()
        return answer

    # -- internals: runtimes --------------------------------------------------------------------------------
    async def _ready_runtime(self, job_id: str, action: str) -> JobRuntime:
        """The job's runtime once its ``video.created`` events are out (a command's events come after them)."""
        rt = self.runtimes.get(job_id)
        if rt is None:
            raise JobNotRunning(job_id, action)
        await rt.ready.wait()
        if self.runtimes.get(job_id) is not rt:
            raise JobNotRunning(job_id, action)
        return rt

    def _generator_for(self, job: dict[str, Any]) -> Generator | None:
        try:
            return self.generators(job["template"]["template_id"])
        except (KeyError, ValueError):
            return None

    async def _load(self, row: dict[str, Any]) -> JobRuntime:
        counts = await self.jobs.count_by_state(row["id"])
        rt = JobRuntime(
            row=dict(row),
            generator=self._generator_for(row),
            tracker=ProgressTracker(counts),
            seq=row["last_seq"],
        )
        self._add(rt)
        return rt

    def _add(self, rt: JobRuntime) -> None:
        self.runtimes[rt.id] = rt
        self._order = sorted(self.runtimes.values(), key=lambda r: r.sort_key)

    def _remove(self, rt: JobRuntime) -> None:
        self.runtimes.pop(rt.id, None)
        self._order = sorted(self.runtimes.values(), key=lambda r: r.sort_key)

    async def _recover(self, rt: JobRuntime) -> None:
        """Finishes a transitional state a dead process left behind."""
        if rt.state == P.PAUSING:
            self._set_state(rt, P.PAUSED)
        elif rt.state == P.CANCELING:
            await self._halt(rt)
        elif rt.state == P.COMPLETING:
            rt.finishing = False
        if rt.generator is None and rt.state not in JOB_FINAL:
            self._fail(rt, "unknown_template", f"template {rt.row['template'].get('template_id')!r} is not known")
        self._check_job(rt)

    def _read_source_later(self, rt: JobRuntime) -> None:
        """Holds the job while a task reads its source (a sheet) and creates its videos."""
        rt.exhausted = True
        rt.halted = True
        task = asyncio.create_task(self._ingest(rt), name=f"ingest-{rt.id}")
        self._reading[rt.id] = task
        task.add_done_callback(
            lambda done: self._reading.pop(rt.id, None) if self._reading.get(rt.id) is done else None
        )

    async def _ingest(self, rt: JobRuntime) -> None:
        assert self.ingest is not None
        try:
            videos = await self.ingest(rt.row)
        except Exception as exc:
            code = getattr(exc, "code", "source_unreadable")
            log.warning("job %s: source could not be read: %s", rt.id, exc)
            self._fail(rt, code, f"the source could not be read: {exc}", stage="source")
            self._check_job(rt)
            return
        rt.halted = False
        rt.exhausted = False
        self._announce(rt, videos)
        self._wake()

    def _announce(self, rt: JobRuntime, videos: Sequence[dict[str, Any]]) -> None:
        """Counts a job's new videos and emits their ``video.created`` events. A big job's events are emitted
        in chunks by a task (so a 100,000-row job's 201 does not wait for them); the job is held until then."""
        for state, n in Counter(video["state"] for video in videos).items():
            rt.tracker.add_many(state, n)
        rt.dirty_progress = True
        if len(videos) <= _ANNOUNCE_CHUNK:
            self._emit_many(rt, EventType.VIDEO_CREATED, [video_view(video) for video in videos])
            self._check_job(rt)
            return
        rt.ready.clear()
        task = asyncio.create_task(self._announce_in_chunks(rt, videos), name=f"announce-{rt.id}")
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def _announce_in_chunks(self, rt: JobRuntime, videos: Sequence[dict[str, Any]]) -> None:
        try:
            for start in range(0, len(videos), _ANNOUNCE_CHUNK):
                chunk = videos[start : start + _ANNOUNCE_CHUNK]
                self._emit_many(rt, EventType.VIDEO_CREATED, [video_view(video) for video in chunk])
                await asyncio.sleep(0)  # let requests and other jobs' workers run between chunks
        finally:
            rt.ready.set()
            self._check_job(rt)
            self._wake()

    async def _halt(self, rt: JobRuntime) -> None:
        """Stops a job's work: queued videos become ``canceled``, running ones are interrupted."""
        reading = self._reading.get(rt.id)
        if reading is not None:  # its source is still being read: stop that first, so no video appears later
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            # the read may have stored its videos just before it was stopped (never announced): count what is there
            rt.tracker = ProgressTracker(await self.jobs.count_by_state(rt.id))
        rt.halted = True
        rt.buffer.clear()
        rt.retries.clear()
        rt.exhausted = True
        await self.writer.flush()
        moved = await self.jobs.move_videos(rt.id, ["pending"], "canceled", {"finished_at": utcnow()})
        rt.tracker.add_many("canceled", len(moved), old="pending")
        rt.dirty_progress = True
        for task in rt.running.values():
            video = getattr(task, "bulkdash_video", None)
            if video is not None:
                video["_stop"] = "cancel"
            task.cancel()

    # -- internals: state and events ------------------------------------------------------------------------
    def _emit(self, rt: JobRuntime, kind: EventType, data: dict[str, Any]) -> None:
        rt.seq += 1
        event = Event(kind, rt.id, rt.seq, utcnow(), data, rt.row["owner_id"])
        self.writer.append_event(event)
        self.writer.update_job(rt.id, {"last_seq": rt.seq})

    def _emit_many(self, rt: JobRuntime, kind: EventType, datas: list[dict[str, Any]]) -> None:
        """Many events of one kind at once (a job's ``video.created``): one timestamp, one job update."""
        ts, owner, append = utcnow(), rt.row["owner_id"], self.writer.append_event
        for data in datas:
            rt.seq += 1
            append(Event(kind, rt.id, rt.seq, ts, data, owner))
        self.writer.update_job(rt.id, {"last_seq": rt.seq})

    def _set_state(self, rt: JobRuntime, new: JobState, **fields: Any) -> None:
        old = rt.state
        check_job_transition(old, new)
        rt.row["state"] = new.value
        rt.row.update(fields)
        self.writer.update_job(rt.id, {"state": new.value, **fields})
        self._emit(rt, EventType.JOB_STATE_CHANGED, {"from": old.value, "to": new.value})
        if new in JOB_FINAL:
            progress = rt.tracker.snapshot()
            rt.row["progress"] = progress
            self.writer.update_job(rt.id, {"progress": progress})
            self._emit(rt, EventType.JOB_PROGRESS, progress)
            final = {P.COMPLETED: EventType.JOB_COMPLETED, P.FAILED: EventType.JOB_FAILED}.get(
                new, EventType.JOB_CANCELED
            )
            self._emit(rt, final, job_view(rt.row))
            self._remove(rt)
            self._update_idle()

    def _fail(self, rt: JobRuntime, code: str, message: str, stage: str = "job") -> None:
        rt.fail_error = {"code": code, "message": message, "stage": stage}
        rt.halted = True
        for task in rt.running.values():
            video = getattr(task, "bulkdash_video", None)
            if video is not None:
                video["_stop"] = "cancel"
            task.cancel()

    def _check_job(self, rt: JobRuntime) -> None:
        """Moves the job on when its videos allow: paused, canceled, failed, or completing."""
        if rt.id not in self.runtimes or rt.running:
            self._update_idle()
            return
        state = rt.state
        if rt.fail_error is not None and state not in JOB_FINAL:
            if rt.state != P.CANCELING:
                asyncio.create_task(self._cancel_rest_then_fail(rt))
            else:
                self._set_state(rt, P.FAILED, error=rt.fail_error, finished_at=utcnow())
            return
        if state == P.PAUSING:
            self._set_state(rt, P.PAUSED)
        elif state == P.CANCELING:
            self._set_state(rt, P.CANCELED, finished_at=utcnow())
        elif state in (P.RUNNING, P.PENDING, P.COMPLETING) and rt.unfinished == 0 and not rt.finishing:
            if not rt.halted:
                rt.finishing = True
                asyncio.create_task(self._complete(rt), name=f"complete-{rt.id}")
        self._update_idle()

    async def _cancel_rest_then_fail(self, rt: JobRuntime) -> None:
        if rt.finishing:
            return
        rt.finishing = True
        await self._halt(rt)
        rt.fail_error = rt.fail_error or {"code": "failed", "message": "job failed", "stage": "job"}
        self._set_state(rt, P.FAILED, error=rt.fail_error, finished_at=utcnow())
        await self._flush_or_leave_to_writer(rt)

    async def _complete(self, rt: JobRuntime) -> None:
        if rt.state == P.PENDING:
            self._set_state(rt, P.RUNNING, started_at=utcnow())
        if rt.state != P.COMPLETING:
            self._set_state(rt, P.COMPLETING)
        for hook in self.finishing_hooks:
            try:
                await hook(rt.row)
            except Exception:
                log.exception("job %s: finishing hook failed", rt.id)
        counts = rt.tracker.counts
        if counts["completed"] == 0 and counts["failed"] > 0:
            error = {
                "code": "all_videos_failed",
                "message": f"every video failed ({counts['failed']})",
                "stage": "job",
            }
            self._set_state(rt, P.FAILED, error=error, finished_at=utcnow())
        else:
            self._set_state(rt, P.COMPLETED, finished_at=utcnow())
        await self._flush_or_leave_to_writer(rt)

    async def _flush_or_leave_to_writer(self, rt: JobRuntime) -> None:
        """Commits the job's final state now; if the database refuses (busy, briefly gone) the writer kept the
        batch and its loop retries, so this background task must not die with an unretrieved exception."""
        try:
            await self.writer.flush()
        except Exception as exc:
            log.warning("job %s: final state not committed yet (%s); the writer retries", rt.id, exc)

    def _wake(self) -> None:
        self._wakeup.set()
        self._update_idle()

    def _update_idle(self) -> None:
        busy = any(
            rt.running
            or not rt.ready.is_set()
            or (
                rt.state in (P.PENDING, P.RUNNING, P.COMPLETING, P.CANCELING)
                and (rt.unfinished or rt.finishing or rt.halted)
            )
            for rt in self.runtimes.values()
        )
        if busy:
            self._idle.clear()
        else:
            self._idle.set()

    # -- internals: the work ----------------------------------------------------------------------------------
    def _runnable(self, rt: JobRuntime) -> bool:
        return not rt.halted and rt.ready.is_set() and rt.state in (P.PENDING, P.RUNNING) and rt.generator is not None

    async def _next_video(self) -> tuple[JobRuntime, dict[str, Any]] | None:
        for rt in self._order:
            if not self._runnable(rt):
                continue
            video = rt.pop_ready_retry()
            if video is None and not rt.buffer and not rt.exhausted:
                await self._refill(rt)
                if not self._runnable(rt):
                    continue
            if video is None and rt.buffer:
                video = rt.buffer.popleft()
            if video is not None:
                return rt, video
        return None

    async def _refill(self, rt: JobRuntime) -> None:
        if rt.refilling is not None:
            await rt.refilling.wait()
            return
        rt.refilling = asyncio.Event()
        try:
            rows = await self.jobs.pending_videos(rt.id, rt.cursor, _REFILL)
            skip = set(rt.running) | {v["id"] for _, _, v in rt.retries}
            if len(rows) < _REFILL:
                rt.exhausted = True
            if rows:
                rt.cursor = rows[-1]["row_index"]
            rt.buffer.extend(r for r in rows if r["id"] not in skip)
        finally:
            rt.refilling.set()
            rt.refilling = None

    def _sleep_for(self) -> float:
        delays = [d for rt in self._order if self._runnable(rt) and (d := rt.next_retry_in()) is not None]
        return min(delays) if delays else 1.0

    async def _worker(self, n: int) -> None:
        while not self._stopping:
            self._wakeup.clear()  # before looking for work, so a wake-up during the look is not lost
            try:
                picked = await self._next_video()
            except Exception:
                log.exception("worker %d: could not load work", n)
                await asyncio.sleep(1.0)
                continue
            if picked is None:
                self._update_idle()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self._sleep_for())
                except TimeoutError:
                    pass
                continue
            try:
                await self._process(*picked)
            except Exception:  # a worker must outlive any one video's bookkeeping error
                log.exception("worker %d: video %s could not be processed", n, picked[1].get("id"))

    async def _process(self, rt: JobRuntime, video: dict[str, Any]) -> None:
        vid = video["id"]
        if rt.state == P.PENDING:
            self._set_state(rt, P.RUNNING, started_at=utcnow())
            rt.started_monotonic = time.monotonic()
        now = utcnow()
        video.update(
            state="processing",
            attempts=(video.get("attempts") or 0) + 1,
            started_at=now,
            progress=0.0,
            stage="start",
            finished_at=None,
        )
        rt.tracker.move("pending", "processing")
        self.writer.update_video(
            vid,
            {
                "state": "processing",
                "attempts": video["attempts"],
                "started_at": now,
                "progress": 0.0,
                "stage": "start",
                "finished_at": None,
            },
        )
        rt.dirty_videos[vid] = video
        rt.dirty_progress = True

        def report(percent: float, stage: str) -> None:
            value = max(float(video.get("progress") or 0.0), min(100.0, float(percent)))
            video["progress"], video["stage"] = value, stage
            self.writer.update_video(vid, {"progress": value, "stage": stage})
            rt.dirty_videos[vid] = video

        assert rt.generator is not None
        task = asyncio.create_task(rt.generator.generate(self._request(rt, video), report))
        task.bulkdash_video = video  # type: ignore[attr-defined]
        rt.running[vid] = task
        started = time.monotonic()
        try:
            result = await task
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise
            self._interrupted(rt, video)
        except GenerationError as exc:
            self._failed_attempt(rt, video, exc)
        except Exception as exc:
            log.exception("video %s: unexpected error", vid)
            self._failed_attempt(
                rt,
                video,
                GenerationError("internal_error", str(exc) or type(exc).__name__, video.get("stage") or "render"),
            )
        else:
            ms = int((time.monotonic() - started) * 1000)
            fields = {
                "state": "completed",
                "progress": 100.0,
                "stage": "done",
                "finished_at": utcnow(),
                "processing_ms": ms,
                "error": None,
                "output_path": str(result.output_path) if result.output_path else None,
                "thumbnail_path": str(result.thumbnail_path) if result.thumbnail_path else None,
                "duration_s": result.duration_s,
                "size_bytes": result.size_bytes,
            }
            self._finish_video(rt, video, fields, EventType.VIDEO_COMPLETED, ms)
        finally:
            rt.running.pop(vid, None)
            self.processed += 1
        self._check_job(rt)

    def _request(self, rt: JobRuntime, video: dict[str, Any]) -> RenderRequest:
        out = rt.row["output"]
        settings = OutputSettings(
            **{k: out[k] for k in ("format", "video_codec", "audio_codec", "resolution", "output_bucket") if k in out}
        )
        path = output_path(self.settings.outputs, settings, rt.id, video["row_index"], video["title"])
        return RenderRequest(
            job_id=rt.id,
            video_id=video["id"],
            row_index=video["row_index"],
            title=video["title"],
            variables=video["variables"],
            overrides=rt.row["template"].get("overrides") or {},
            output=settings,
            output_path=path,
            attempt=video["attempts"],
            template=rt.row["template"],
        )

    def _finish_video(
        self,
        rt: JobRuntime,
        video: dict[str, Any],
        fields: dict[str, Any],
        kind: EventType,
        ms: int | None = None,
    ) -> None:
        old = video["state"]
        video.update(fields)
        rt.tracker.move(old, fields["state"], ms)
        self.writer.update_video(video["id"], fields)
        rt.dirty_videos.pop(video["id"], None)
        rt.dirty_progress = True
        view = video_view(video)
        if kind is not None:
            self._emit(rt, kind, view)
        for hook in self.video_hooks:
            try:
                hook(rt.row, video)
            except Exception:
                log.exception("video hook failed")

    def _failed_attempt(self, rt: JobRuntime, video: dict[str, Any], exc: GenerationError) -> None:
        error = {**exc.as_dict(), "attempt": video["attempts"], "at": utcnow().isoformat()}
        history = [*(video.get("attempt_errors") or []), error]
        if exc.permanent or video["attempts"] >= self.settings.max_attempts or rt.halted:
            fields = {
                "state": "failed",
                "finished_at": utcnow(),
                "error": exc.as_dict(),
                "attempt_errors": history,
                "processing_ms": _elapsed_ms(video),
            }
            self._finish_video(rt, video, fields, EventType.VIDEO_FAILED)
            return
        delay = min(self.settings.retry_max_s, self.settings.retry_base_s * 2 ** (video["attempts"] - 1))
        delay *= 0.5 + random.random() / 2
        fields = {
            "state": "pending",
            "error": exc.as_dict(),
            "attempt_errors": history,
            "progress": 0.0,
            "stage": None,
        }
        video.update(fields)
        rt.tracker.move("processing", "pending")
        self.writer.update_video(video["id"], fields)
        rt.dirty_videos[video["id"]] = video
        rt.dirty_progress = True
        rt.push_retry(video, delay)
        self._wake()

    def _interrupted(self, rt: JobRuntime, video: dict[str, Any]) -> None:
        reason = video.pop("_stop", "cancel")
        if reason == "shutdown":  # not the video's fault: the attempt does not count
            fields = {"state": "pending", "progress": 0.0, "stage": None, "attempts": max(0, video["attempts"] - 1)}
            video.update(fields)
            rt.tracker.move("processing", "pending")
            self.writer.update_video(video["id"], fields)
            return
        fields = {"state": "canceled", "finished_at": utcnow()}
        self._finish_video(rt, video, fields, EventType.VIDEO_UPDATED)

    # -- the ticker: coalesced progress, deadlines -------------------------------------------------------------
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.settings.progress_interval_s)
            try:
                self._tick()
                self._check_deadlines()
            except Exception:
                log.exception("engine tick failed")

    def _tick(self) -> None:
        for rt in list(self.runtimes.values()):
            if not rt.ready.is_set():
                continue
            for video in rt.dirty_videos.values():
                self._emit(rt, EventType.VIDEO_UPDATED, video_view(video))
            rt.dirty_videos.clear()
            if rt.dirty_progress:
                rt.dirty_progress = False
                progress = rt.tracker.snapshot()
                rt.row["progress"] = progress
                self.writer.update_job(rt.id, {"progress": progress})
                self._emit(rt, EventType.JOB_PROGRESS, progress)

    def _check_deadlines(self) -> None:
        now = utcnow()
        for rt in list(self.runtimes.values()):
            deadline_ms = rt.row.get("processing_deadline_ms")
            started = as_utc(rt.row.get("started_at"))
            if not deadline_ms or started is None or rt.fail_error is not None or rt.state in JOB_FINAL:
                continue
            if (now - started).total_seconds() * 1000 > deadline_ms:
                self._fail(rt, "deadline_exceeded", f"the processing deadline of {deadline_ms} ms passed")
                self._check_job(rt)


def _elapsed_ms(video: dict[str, Any]) -> int | None:
    started = as_utc(video.get("started_at"))
    return int((utcnow() - started).total_seconds() * 1000) if started else None


def output_path(root: Path, output: OutputSettings, job_id: str, row_index: int, title: str) -> Path:
    """``<OUTPUT_DIR>/<bucket>/<job_id>/<row_index:05d>-<slug>.<format>`` (CONTRACT §9)."""
    return root / output.output_bucket / job_id / f"{row_index:05d}-{slugify(title)}.{output.format}"


def slugify(text: str, limit: int = 48) -> str:
    out = []
    for ch in text.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out).strip("-")[:limit].strip("-")
    return slug or "video"
