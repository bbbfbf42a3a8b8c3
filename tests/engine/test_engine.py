"""The engine through the job service: runs, pause/resume/cancel, priorities, retries, deadlines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.container import Bulkdash
from app.domain.events import EventType
from app.services.errors import Conflict
from tests.conftest import wait_for
from tests.engine.conftest import FlakyGenerator, GatedGenerator, create_job, finish


def collect(container: Bulkdash, job_id: str | None = None) -> list[Any]:
    events: list[Any] = []
    container.bus.subscribe_callback(events.append, job_id)
    return events


async def test_simulated_job_runs_to_completed_with_gap_free_events(container: Bulkdash, admin: dict) -> None:
    events = collect(container)
    job = await create_job(container, admin, 50)
    await finish(container)
    done = await container.jobs.get(admin, job["id"])
    assert done["state"] == "completed"
    assert done["progress"]["completed"] == 50
    assert done["progress"]["percent_complete"] == 100.0
    assert done["finished_at"] is not None and done["started_at"] is not None
    mine = [e for e in events if e.job_id == job["id"]]
    assert [e.seq for e in mine] == list(range(1, len(mine) + 1))
    types = [e.type for e in mine]
    assert types.count(EventType.VIDEO_CREATED) == 50
    assert types.count(EventType.VIDEO_COMPLETED) == 50
    assert types[-1] == EventType.JOB_COMPLETED
    changes = [(e.data["from"], e.data["to"]) for e in mine if e.type == EventType.JOB_STATE_CHANGED]
    assert changes == [("pending", "running"), ("running", "completing"), ("completing", "completed")]
    # the durable log holds exactly what subscribers saw
    logged = await container.events.after(job["id"], 0)
    assert [(e.seq, e.type) for e in logged] == [(e.seq, e.type) for e in mine]


async def test_workers_limit_concurrency(container: Bulkdash, admin: dict, gated: GatedGenerator) -> None:
    await create_job(container, admin, 6, template="gated")
    await wait_for(lambda: gated.running == 2)
    await asyncio.sleep(0.05)  # give a third worker the chance to (wrongly) start
    assert gated.max_running == 2
    gated.gate.set()
    await finish(container)
    assert gated.max_running == 2


async def test_pause_lets_running_videos_finish_then_resume(
    container: Bulkdash, admin: dict, gated: GatedGenerator
) -> None:
    job = await create_job(container, admin, 6, template="gated")
    await wait_for(lambda: gated.running == 2)
    paused = await container.jobs.pause(admin, job["id"])
    assert paused["state"] == "pausing"
    gated.gate.set()
    await container.engine.wait_idle(5)
    now = await container.jobs.get(admin, job["id"])
    assert now["state"] == "paused"
    assert now["progress"]["completed"] == 2 and now["progress"]["pending"] == 4
    with pytest.raises(Conflict):
        await container.jobs.pause(admin, job["id"])
    resumed = await container.jobs.resume(admin, job["id"])
    assert resumed["state"] == "running"
    await finish(container)
    assert (await container.jobs.get(admin, job["id"]))["state"] == "completed"


async def test_cancel_stops_running_and_cancels_the_rest(
    container: Bulkdash, admin: dict, gated: GatedGenerator
) -> None:
    events = collect(container)
    job = await create_job(container, admin, 10, template="gated")
    await wait_for(lambda: gated.running == 2)
    canceled = await container.jobs.cancel(admin, job["id"])
    assert canceled["state"] in ("canceling", "canceled")
    await finish(container)
    final = await container.jobs.get(admin, job["id"])
    assert final["state"] == "canceled"
    assert final["progress"]["canceled"] == 10
    assert gated.running == 0
    videos, total = await container.jobs.videos(admin, job["id"], limit=100)
    assert total == 10 and {v["state"] for v in videos} == {"canceled"}
    assert [e.type for e in events if e.job_id == job["id"]][-1] == EventType.JOB_CANCELED
    with pytest.raises(Conflict):
        await container.jobs.resume(admin, job["id"])


async def test_priority_then_age_decides_what_runs_first(
    container: Bulkdash, admin: dict, gated: GatedGenerator
) -> None:
    await container.engine.stop()  # queue everything first, then start the workers
    low = await create_job(container, admin, 2, template="gated", priority="low")
    normal = await create_job(container, admin, 2, template="gated", priority="normal")
    urgent = await create_job(container, admin, 2, template="gated", priority="urgent")
    high = await create_job(container, admin, 2, template="gated", priority="high")
    gated.gate.set()
    await container.engine.start(workers=1)
    await finish(container)
    order = [job_id for job_id, _ in gated.started]
    expected = [urgent["id"]] * 2 + [high["id"]] * 2 + [normal["id"]] * 2 + [low["id"]] * 2
    assert order == expected


async def test_transient_failures_are_retried_with_each_error_kept(
    container: Bulkdash, admin: dict, flaky: FlakyGenerator
) -> None:
    job = await create_job(container, admin, [{"title": "a"}, {"title": "b"}], template="flaky")
    await finish(container)
    done = await container.jobs.get(admin, job["id"])
    assert done["state"] == "completed" and done["progress"]["completed"] == 2
    video = (await container.jobs.videos(admin, job["id"]))[0][0]
    row = await container.jobs.video_row(admin, job["id"], video["id"])
    assert row["attempts"] == 2
    assert [e["code"] for e in row["attempt_errors"]] == ["flaky"]
    assert row["attempt_errors"][0]["stage"] == "encode"


async def test_retries_stop_at_max_attempts(container: Bulkdash, admin: dict, flaky: FlakyGenerator) -> None:
    flaky.failures = 99
    job = await create_job(container, admin, [{"title": "a"}, {"title": "b"}], template="flaky")
    await finish(container)
    done = await container.jobs.get(admin, job["id"])
    assert done["state"] == "failed"  # every video failed
    assert done["error"]["code"] == "all_videos_failed"
    rows = [
        await container.jobs.video_row(admin, job["id"], v["id"])
        for v in (await container.jobs.videos(admin, job["id"]))[0]
    ]
    assert all(r["attempts"] == container.settings.max_attempts for r in rows)
    assert all(len(r["attempt_errors"]) == container.settings.max_attempts for r in rows)


async def test_permanent_errors_are_not_retried_and_partial_failure_completes(
    container: Bulkdash, admin: dict, flaky: FlakyGenerator
) -> None:
    flaky.failures = 0
    job = await create_job(container, admin, [{"title": "ok"}, {"title": "bad", "permanent": "yes"}], template="flaky")
    await finish(container)
    done = await container.jobs.get(admin, job["id"])
    assert done["state"] == "completed"
    assert done["progress"]["failed"] == 1 and done["progress"]["completed"] == 1
    assert done["progress"]["success_rate"] == 0.5
    failed = (await container.jobs.videos(admin, job["id"], state="failed"))[0][0]
    assert failed["attempts"] == 1
    assert failed["error"] == {"code": "bad_input", "message": "this row can never render", "stage": "render"}


async def test_rows_that_cannot_render_are_skipped_at_creation(
    container: Bulkdash, admin: dict, gated: GatedGenerator
) -> None:
    gated.gate.set()
    job = await create_job(container, admin, [{"title": "a"}, {"title": "b", "bad": "yes"}], template="gated")
    assert job["progress"]["skipped"] == 1
    await finish(container)
    skipped = (await container.jobs.videos(admin, job["id"], state="skipped"))[0][0]
    assert skipped["error"]["message"] == "row has bad=yes"
    assert (await container.jobs.get(admin, job["id"]))["state"] == "completed"


async def test_retry_brings_failed_videos_back_and_reopens_the_job(
    container: Bulkdash, admin: dict, flaky: FlakyGenerator
) -> None:
    flaky.failures = 99
    job = await create_job(container, admin, [{"title": "a"}], template="flaky")
    await finish(container)
    assert (await container.jobs.get(admin, job["id"]))["state"] == "failed"
    flaky.failures = 0
    retried = await container.jobs.retry(admin, job["id"])
    assert retried["state"] == "running"
    await finish(container)
    done = await container.jobs.get(admin, job["id"])
    assert done["state"] == "completed" and done["progress"]["completed"] == 1
    logged = await container.events.after(job["id"], 0)
    assert [e.seq for e in logged] == list(range(1, len(logged) + 1))


async def test_deadline_fails_the_job(container: Bulkdash, admin: dict, gated: GatedGenerator) -> None:
    job = await create_job(container, admin, 4, template="gated", processing_deadline_ms=100)
    await finish(container)
    done = await container.jobs.get(admin, job["id"])
    assert done["state"] == "failed"
    assert done["error"]["code"] == "deadline_exceeded"
    assert done["progress"]["canceled"] == 4
    assert gated.running == 0


async def test_another_users_job_is_not_found(container: Bulkdash, alice: dict, bob: dict, admin: dict) -> None:
    from app.services.errors import NotFound

    job = await create_job(container, alice, 1)
    with pytest.raises(NotFound):
        await container.jobs.get(bob, job["id"])
    with pytest.raises(NotFound):
        await container.jobs.cancel(bob, job["id"])
    assert (await container.jobs.get(admin, job["id"]))["id"] == job["id"]
    items, total = await container.jobs.list(bob)
    assert total == 0 and items == []


async def test_progress_reports_are_coalesced_into_few_events(container: Bulkdash, admin: dict) -> None:
    events = collect(container)
    job = await create_job(container, admin, 4, overrides={"duration_ms": 200})
    await finish(container)
    updates = [e for e in events if e.job_id == job["id"] and e.type == EventType.VIDEO_UPDATED]
    # 4 videos x 4 progress reports each, coalesced by a 50 ms ticker: fewer updates than reports
    assert 0 < len(updates) <= 16
    progress = [e.data["percent_complete"] for e in events if e.type == EventType.JOB_PROGRESS]
    assert progress == sorted(progress) and progress[-1] == 100.0


async def test_shutdown_puts_running_videos_back_without_counting_the_attempt(
    container: Bulkdash, admin: dict, gated: GatedGenerator
) -> None:
    job = await create_job(container, admin, 3, template="gated")
    await wait_for(lambda: gated.running == 2)
    await container.engine.stop(grace_s=0)
    counts = await container.jobs_store.count_by_state(job["id"])
    assert counts == {"pending": 3}
    rows, _ = await container.jobs_store.list_videos(job["id"])
    assert {r["attempts"] for r in rows} == {0}
    assert (await container.jobs_store.get_job(job["id"]))["state"] == "running"


async def test_webhook_url_is_checked_at_creation(container: Bulkdash, admin: dict) -> None:
    from app.services.errors import Invalid

    for url, reason in (("ftp://example.com/hook", "http or https"), ("http://127.0.0.1:9/hook", "")):
        with pytest.raises(Invalid) as err:
            await create_job(container, admin, 1, webhook_url=url)
        assert err.value.loc == ["body", "webhook_url"] and reason in err.value.message


async def test_a_big_jobs_created_events_come_before_anything_else_of_it(
    container: Bulkdash, admin: dict, gated: GatedGenerator
) -> None:
    """Over 5,000 rows the ``video.created`` events are emitted after the create call returns; a command sent at
    once waits for them, so the job's ``seq`` order stays: every created event, then the rest."""
    events = collect(container)
    rows = 12_001
    job = await create_job(container, admin, rows, template="gated")
    assert job["progress"]["total"] == rows  # counted at once, before the events
    await container.jobs.cancel(admin, job["id"])
    await finish(container)
    mine = [e for e in events if e.job_id == job["id"]]
    # summaries, not 12,000-element lists, so that a failure report stays readable
    assert _first_gap([e.seq for e in mine]) is None
    kinds = [e.type for e in mine]
    assert kinds.count(EventType.VIDEO_CREATED) == rows and EventType.VIDEO_CREATED not in kinds[rows:]
    assert kinds[-1] == EventType.JOB_CANCELED
    assert _first_gap([e.data["row_index"] for e in mine[:rows]]) is None
    changes = [e.data for e in mine[rows:] if e.type == EventType.JOB_STATE_CHANGED]
    assert changes[0] == {"from": "pending", "to": "canceling"}
    assert not gated.started, "a video started before the job's created events were out"
    logged = await container.events.after(job["id"], 0, limit=rows + 10)
    assert len(logged) == len(mine) and _first_gap([e.seq for e in logged]) is None


def _first_gap(numbers: list[int]) -> tuple[int, int] | None:
    """The first (position, number) where ``numbers`` is not 1, 2, 3, ..., or None."""
    return next(((i, n) for i, n in enumerate(numbers) if n != i + 1), None)
