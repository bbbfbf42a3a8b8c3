"""Guard rails: 413 for large bodies, 429 (with Retry-After) for too many job creations per token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from fastapi import HTTPException

from app.api.limits import Limits, RateLimiter
from tests.api.conftest import API, Api, inline_job

JOBS = f"{API}/bulk-jobs"


@pytest.fixture
def limits() -> Limits:
    return Limits(max_body_bytes=4096, create_rate_per_min=60, create_burst=3)


async def test_a_large_body_is_413(api: Api) -> None:
    body = inline_job([{"title": "x" * 100} for _ in range(100)])
    response = await api.alice.post(JOBS, json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than 4096 bytes"}
    assert (await api.alice.get(JOBS)).json()["total"] == 0


async def test_a_large_chunked_body_without_content_length_is_413(api: Api) -> None:
    data = json.dumps(inline_job([{"title": "x" * 100} for _ in range(100)])).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    response = await api.alice.post(JOBS, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "larger than 4096" in response.json()["detail"]


async def test_a_large_body_is_413_before_auth(api: Api) -> None:
    """The size check does not need to read the body, so it comes first (no work for a flood)."""
    response = await api.anon.post(JOBS, content=b"x" * 5000)
    assert response.status_code == 413


async def test_job_creation_is_rate_limited_per_token(api: Api) -> None:
    for _ in range(3):
        assert (await api.alice.post(JOBS, json=inline_job(1))).status_code == 201
    limited = await api.alice.post(JOBS, json=inline_job(1))
    assert limited.status_code == 429
    assert limited.json() == {"detail": "too many jobs created; slow down"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert (await api.bob.post(JOBS, json=inline_job(1))).status_code == 201  # bob has his own bucket
    assert (await api.alice.get(JOBS)).status_code == 200  # reads are not limited
    assert (await api.alice.get(JOBS)).json()["total"] == 3


def test_the_bucket_refills_at_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("app.api.limits.time.monotonic", lambda: clock[0])
    limiter = RateLimiter(rate_per_min=60, burst=2)
    limiter.check("t")
    limiter.check("t")
    with pytest.raises(HTTPException) as raised:
        limiter.check("t")
    assert raised.value.status_code == 429 and raised.value.headers["Retry-After"] == "1"
    clock[0] += 1.0
    limiter.check("t")  # one token came back after a second
    with pytest.raises(HTTPException):
        limiter.check("t")
    clock[0] += 10.0
    limiter.check("t")
    limiter.check("t")  # refilled up to the burst, not beyond
    with pytest.raises(HTTPException):
        limiter.check("t")


def test_limits_come_from_settings_when_present(settings) -> None:
    assert Limits.from_settings(settings) == Limits()  # today's Settings has none of the fields
    custom = SimpleNamespace(api_max_body_bytes=10, api_create_rate_per_min=1.5, api_create_burst=2)
    assert Limits.from_settings(custom) == Limits(max_body_bytes=10, create_rate_per_min=1.5, create_burst=2)
