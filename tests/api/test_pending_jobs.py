"""Commands on jobs that stay ``pending`` (a process without workers), and a few things no worker should touch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.container import Bulkdash, build
from app.settings import Settings
from tests.api.conftest import API, Api

JOBS = f"{API}/bulk-jobs"


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Bulkdash]:
    """No workers: jobs stay ``pending`` until a command moves them."""
    app = build(settings)
    await app.start(workers=0)
    try:
        yield app
    finally:
        await app.stop()


async def test_a_pending_job_cannot_be_paused_but_can_be_canceled(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=3)
    assert job["state"] == "pending"
    response = await api.alice.post(f"{JOBS}/{job['id']}/pause")
    assert response.status_code == 409
    assert "pending" in response.json()["detail"]
    canceled = await api.alice.post(f"{JOBS}/{job['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["state"] in ("canceling", "canceled")
    final = (await api.alice.get(f"{JOBS}/{job['id']}")).json()
    assert final["state"] == "canceled" and final["progress"]["canceled"] == 3


async def test_a_pending_job_cannot_be_resumed(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=1)
    response = await api.alice.post(f"{JOBS}/{job['id']}/resume")
    assert response.status_code == 409


async def test_retry_of_a_canceled_job_brings_nothing_back(api: Api, make_job) -> None:
    """CONTRACT §5: canceled videos return to pending only when the job itself is not canceled."""
    job = await make_job(api.alice, rows=2)
    await api.alice.post(f"{JOBS}/{job['id']}/cancel")
    retried = await api.alice.post(f"{JOBS}/{job['id']}/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "canceled"


async def test_list_filters_by_state(api: Api, make_job) -> None:
    first = await make_job(api.alice, rows=1)
    second = await make_job(api.alice, rows=1)
    await api.alice.post(f"{JOBS}/{first['id']}/cancel")
    pending = (await api.alice.get(JOBS, params={"state": "pending"})).json()
    assert [j["id"] for j in pending["items"]] == [second["id"]]
    both = (await api.alice.get(JOBS, params={"state": "pending,canceled"})).json()
    assert both["total"] == 2


async def test_a_pending_video_has_no_file(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=1)
    video = (await api.alice.get(f"{JOBS}/{job['id']}/videos")).json()["items"][0]
    assert video["state"] == "pending" and video["output_url"] is None
    assert (await api.alice.get(f"{JOBS}/{job['id']}/videos/{video['id']}/file")).status_code == 404
