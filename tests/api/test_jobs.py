"""Job routes: create (201, idempotency, 422 with the field path), list, get, and the commands."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import API, Api, inline_job
from tests.conftest import wait_for

JOBS = f"{API}/bulk-jobs"


async def test_create_answers_201_with_the_job(api: Api) -> None:
    response = await api.alice.post(JOBS, json=inline_job(3, title="Campaign", priority="high"))
    assert response.status_code == 201
    job = response.json()
    assert job["id"].startswith("job_") and len(job["id"]) == 30
    assert job["title"] == "Campaign" and job["priority"] == "high"
    assert job["state"] in ("pending", "running", "completing", "completed")
    assert job["progress"]["total"] == 3
    assert job["output"]["format"] == "mp4" and job["template"]["template_id"] == "simulated"
    await api.settle()
    done = (await api.alice.get(f"{JOBS}/{job['id']}")).json()
    assert done["state"] == "completed" and done["progress"]["percent_complete"] == 100
    assert done["finished_at"].endswith("Z") or "+00:00" in done["finished_at"]


async def test_the_seed_body_is_accepted_apart_from_its_sheet(api: Api) -> None:
    """The contract's example body, with an inline source (sheets belong to the sources routes)."""
    body = {
        "title": "Video Generation Campaign",
        "priority": "normal",
        "processing_deadline_ms": 7200000,
        "input_source": {"type": "inline", "rows": [{"title": "Hello", "script": "Hi there"}]},
        "output": {
            "format": "mp4",
            "video_codec": "h264",
            "audio_codec": "aac",
            "resolution": "1080p",
            "output_bucket": "content-outputs",
        },
        "template": {"template_id": "simulated", "overrides": {"style": "modern", "voice": "female", "duration_ms": 0}},
    }
    response = await api.alice.post(JOBS, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["processing_deadline_ms"] == 7200000


async def test_idempotency_key_replays_the_first_job(api: Api) -> None:
    headers = {"Idempotency-Key": "campaign-42"}
    first = await api.alice.post(JOBS, json=inline_job(2), headers=headers)
    again = await api.alice.post(JOBS, json=inline_job(2), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = await api.alice.post(JOBS, json=inline_job(5), headers=headers)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    # keys are per user: bob's same key is a new job
    bobs = await api.bob.post(JOBS, json=inline_job(2), headers=headers)
    assert bobs.status_code == 201 and bobs.json()["id"] != first.json()["id"]
    assert (await api.alice.get(JOBS)).json()["total"] == 1


def _with(path: list[str], value: Any) -> dict[str, Any]:
    body = inline_job(2)
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (_with(["state"], "completed"), ["body", "state"]),
        (_with(["owner_id"], "usr_x"), ["body", "owner_id"]),
        (_with(["progress"], {"total": 1}), ["body", "progress"]),
        (_with(["priority"], "asap"), ["body", "priority"]),
        (_with(["template", "template_id"], "no_such_template"), ["body", "template", "template_id"]),
        (_with(["template", "template_id"], "Bad Id!"), ["body", "template", "template_id"]),
        (_with(["template", "overrides"], {"fail_rate": 7}), ["body", "template", "overrides"]),
        (_with(["output"], {"format": "webm", "video_codec": "h264", "audio_codec": "opus"}), ["body", "output"]),
        (_with(["output", "resolution"], "4k"), ["body", "output", "resolution"]),
        (_with(["output", "output_bucket"], "../etc"), ["body", "output", "output_bucket"]),
        (_with(["processing_deadline_ms"], -1), ["body", "processing_deadline_ms"]),
        (_with(["input_source"], {"type": "inline", "rows": []}), ["body", "input_source", "inline", "rows"]),
        (_with(["input_source"], {"type": "ftp"}), ["body", "input_source"]),
        ({"title": "no source"}, ["body", "input_source"]),
    ],
)
async def test_bad_bodies_are_422_with_the_field_path(api: Api, body: dict[str, Any], loc: list[str]) -> None:
    response = await api.alice.post(JOBS, json=body)
    assert response.status_code == 422, response.text
    details = response.json()["detail"]
    assert any(d["loc"] == loc for d in details), details
    assert all({"loc", "msg", "type"} <= set(d) for d in details)
    assert (await api.alice.get(JOBS)).json()["total"] == 0


async def test_a_body_that_is_not_json_is_422(api: Api) -> None:
    response = await api.alice.post(JOBS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


async def test_a_non_finite_override_is_422_rather_than_stored_as_null(api: Api) -> None:
    body = b'{"title": "t", "input_source": {"type": "inline", "rows": [{"title": "a"}]}, '
    body += b'"template": {"template_id": "simulated", "overrides": {"duration_ms": Infinity}}}'
    response = await api.alice.post(JOBS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "template", "overrides"]]
    assert "duration_ms" in response.json()["detail"][0]["msg"]


async def test_nan_in_a_typed_field_is_a_422_not_a_500(api: Api) -> None:
    """The 422 echoes the bad input; NaN cannot be written as JSON, and the default handler failed on it."""
    body = b'{"title": "t", "input_source": {"type": "inline", "rows": [{"title": "a"}]}, '
    body += b'"processing_deadline_ms": NaN}'
    response = await api.alice.post(JOBS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "processing_deadline_ms"]


async def test_too_many_rows_is_422_on_input_source(api: Api) -> None:
    """Row count is a property of the content, not of the byte size: 422 names the field (413 is for bytes)."""
    api.container.jobs.max_rows = 3
    response = await api.alice.post(JOBS, json=inline_job(4))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "input_source"]
    assert "at most 3" in response.json()["detail"][0]["msg"]


async def test_list_filters_pages_and_sorts(api: Api, make_job) -> None:
    ids = [(await make_job(api.alice, rows=1, title=f"batch {i}"))["id"] for i in range(3)]
    await make_job(api.alice, rows=1, title="other")
    await api.settle()
    page = (await api.alice.get(JOBS, params={"q": "batch", "limit": 2})).json()
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 0
    assert [j["id"] for j in page["items"]] == ids[::-1][:2]  # newest first
    rest = (await api.alice.get(JOBS, params={"q": "batch", "limit": 2, "offset": 2})).json()
    assert [j["id"] for j in rest["items"]] == [ids[0]]
    by_title = (await api.alice.get(JOBS, params={"sort": "title"})).json()["items"]
    assert [j["title"] for j in by_title] == ["batch 0", "batch 1", "batch 2", "other"]
    assert (await api.alice.get(JOBS, params={"state": "completed"})).json()["total"] == 4
    assert (await api.alice.get(JOBS, params={"state": "running,paused"})).json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"state": "done"}, ["query", "state"]),
        ({"sort": "owner_id"}, ["query", "sort"]),
        ({"limit": 501}, ["query", "limit"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
    ],
)
async def test_bad_list_queries_are_422(api: Api, params: dict[str, Any], loc: list[str]) -> None:
    response = await api.alice.get(JOBS, params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


async def test_pause_then_resume_a_running_job(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=20, duration_ms=40)
    await wait_for(lambda: _state(api, job["id"]) == "running")
    assert (await api.alice.post(f"{JOBS}/{job['id']}/resume")).status_code == 409  # running: nothing to resume

    paused = await api.alice.post(f"{JOBS}/{job['id']}/pause")
    assert paused.status_code == 200 and paused.json()["state"] in ("pausing", "paused")
    again = await api.alice.post(f"{JOBS}/{job['id']}/pause")
    assert again.status_code == 409 and "pause" in again.json()["detail"]
    await api.settle()  # a paused job is idle
    assert (await api.alice.get(f"{JOBS}/{job['id']}")).json()["state"] == "paused"

    resumed = await api.alice.post(f"{JOBS}/{job['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["state"] == "running"
    await api.settle()
    done = (await api.alice.get(f"{JOBS}/{job['id']}")).json()
    assert done["state"] == "completed" and done["progress"]["completed"] == 20


async def test_cancel_a_running_job(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=10, duration_ms=5000)
    await wait_for(lambda: _state(api, job["id"]) == "running")
    canceled = await api.alice.post(f"{JOBS}/{job['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["state"] in ("canceling", "canceled")
    await api.settle()
    final = (await api.alice.get(f"{JOBS}/{job['id']}")).json()
    assert final["state"] == "canceled" and final["progress"]["canceled"] == 10
    for command in ("pause", "resume", "cancel"):
        response = await api.alice.post(f"{JOBS}/{job['id']}/{command}")
        assert response.status_code == 409, command


async def test_commands_on_a_completed_job_are_409(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=2)
    await api.settle()
    for command in ("pause", "resume", "cancel"):
        response = await api.alice.post(f"{JOBS}/{job['id']}/{command}")
        assert response.status_code == 409, command
        assert response.json()["detail"] == "cannot " + command + " a job that is completed"
    unchanged = await api.alice.post(f"{JOBS}/{job['id']}/retry")  # nothing failed: the job as it is
    assert unchanged.status_code == 200 and unchanged.json()["state"] == "completed"


async def test_retry_reopens_a_failed_job(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=3, overrides={"fail_rate": 1})
    await api.settle()
    failed = (await api.alice.get(f"{JOBS}/{job['id']}")).json()
    assert failed["state"] == "failed" and failed["error"]["code"] == "all_videos_failed"
    retried = await api.alice.post(f"{JOBS}/{job['id']}/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "running"
    await api.settle()
    assert (await api.alice.get(f"{JOBS}/{job['id']}")).json()["state"] == "failed"


def _state(api: Api, job_id: str) -> str | None:
    rt = api.container.engine.runtimes.get(job_id)
    return rt.state.value if rt else None
