"""``GET /metrics``: Prometheus text with job, video, event and client figures."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Api


async def _scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.anon.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


async def test_metrics_count_jobs_videos_failures_and_events(api: Api, make_job) -> None:
    await make_job(api.alice, rows=3)
    await make_job(api.alice, rows=2, overrides={"fail_rate": 1})
    await api.settle()
    samples = await _scrape(api)
    assert samples[("bulkdash_jobs", (("state", "completed"),))] == 1
    assert samples[("bulkdash_jobs", (("state", "failed"),))] == 1
    assert samples[("bulkdash_jobs", (("state", "running"),))] == 0
    assert samples[("bulkdash_video_processing_seconds_count", (("state", "completed"),))] == 3
    assert samples[("bulkdash_video_processing_seconds_count", (("state", "failed"),))] == 2
    assert samples[("bulkdash_video_failures_total", (("code", "simulated_failure"),))] == 2
    assert samples[("bulkdash_events_published_total", ())] == api.container.bus.published > 0
    assert samples[("bulkdash_active_jobs", ())] == 0
    assert samples[("bulkdash_ws_clients", ())] == 0  # WebSocket connections, not in-process subscribers
    assert samples[("bulkdash_ui_clients", ())] == 0


async def test_active_videos_and_client_callbacks(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=4, duration_ms=5000)
    api.metrics.ui_clients = lambda: 7
    api.metrics.ws_clients = lambda: 3
    samples = await _scrape(api)
    active = sum(v for (name, _), v in samples.items() if name == "bulkdash_active_videos")
    assert active == 4 and samples[("bulkdash_active_jobs", ())] == 1
    assert samples[("bulkdash_ui_clients", ())] == 7 and samples[("bulkdash_ws_clients", ())] == 3
    await api.alice.post(f"/api/v1/bulk-jobs/{job['id']}/cancel")  # no 5 s wait at teardown
    await api.settle()


async def test_metrics_are_not_under_the_api_prefix(api: Api) -> None:
    assert (await api.anon.get("/api/v1/metrics")).status_code == 404
