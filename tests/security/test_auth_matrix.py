"""CONTRACT §3 for every route: each path of the OpenAPI schema (so new routes are covered without editing
this file) and ``/ws`` × {no token, a wrong token, another user's token}. Never any of the owner's data."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.api.conftest import Api
from tests.helpers.server import running_server

#: routes without auth by contract
PUBLIC = {("get", "/api/v1/health"), ("get", "/metrics")}
#: admin-only routes: another (non-admin) user's token gets 403, which is no data either
ADMIN_ONLY = {"/api/v1/tokens"}
SECRET_TITLE = "alice's secret campaign"


async def alice_objects(api: Api, make_job: Any) -> dict[str, str]:
    job = await make_job(api.alice, rows=2, title=SECRET_TITLE)
    await api.settle()
    videos = (await api.alice.get(f"/api/v1/bulk-jobs/{job['id']}/videos")).json()["items"]
    return {"job_id": job["id"], "video_id": videos[0]["id"]}


def routes(api: Api) -> list[tuple[str, str]]:
    out = []
    for path, methods in api.app.openapi()["paths"].items():
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete") and (method, path) not in PUBLIC:
                out.append((method, path))
    return out


def fill(path: str, ids: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"a new path parameter {{{name}}}: teach the auth matrix a value for it"
        return ids[name]

    return re.sub(r"\{(\w+)\}", sub, path)


def no_data(response: httpx.Response, ids: dict[str, str]) -> None:
    text = response.text
    assert SECRET_TITLE not in text and "secret campaign" not in text, (response.request.url, text[:300])
    assert ids["video_id"] not in text, (response.request.url, text[:300])


async def call(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    if method == "post" and url.endswith("/uploads"):
        files = {"file": ("rows.csv", b"title\nx\n", "text/csv")}
        return await client.post(url, files=files)
    if method in ("post", "put", "patch"):
        return await client.request(method, url, json={})
    return await client.request(method, url)


def test_the_matrix_covers_the_known_routes(api: Api) -> None:
    paths = {p for _, p in routes(api)}
    assert {"/api/v1/bulk-jobs", "/api/v1/bulk-jobs/{job_id}/videos/{video_id}/file", "/api/v1/tokens"} <= paths


@pytest.mark.parametrize("who", ["anon", "wrong"])
async def test_every_route_without_a_valid_token_is_401_with_a_bearer_challenge(
    api: Api, make_job: Any, who: str
) -> None:
    ids = await alice_objects(api, make_job)
    wrong = httpx.AsyncClient(
        transport=httpx.ASGITransport(api.app), base_url="http://test", headers={"Authorization": "Bearer bd_nope"}
    )
    client = api.anon if who == "anon" else wrong
    try:
        for method, path in routes(api):
            response = await call(client, method, fill(path, ids))
            assert response.status_code == 401, (method, path, response.status_code, response.text)
            assert response.headers.get("www-authenticate") == "Bearer", (method, path)
            no_data(response, ids)
            assert ids["job_id"] not in response.text
    finally:
        await wrong.aclose()


async def test_another_users_token_gets_404_or_403_and_never_data(api: Api, make_job: Any) -> None:
    ids = await alice_objects(api, make_job)
    for method, path in routes(api):
        url = fill(path, ids)
        response = await call(api.bob, method, url)
        if "{job_id}" in path:
            assert response.status_code == 404, (method, path, response.status_code, response.text)
        elif path in ADMIN_ONLY:
            assert response.status_code == 403, (method, path, response.status_code)
        else:  # collections and creation: bob's own view (or a 422 for the empty body)
            assert response.status_code in (200, 201, 422), (method, path, response.status_code)
            assert ids["job_id"] not in response.text, (method, path)
        no_data(response, ids)


async def test_unknown_ids_answer_like_foreign_ones(api: Api, make_job: Any) -> None:
    ids = await alice_objects(api, make_job)
    fake = {"job_id": "job_01J9Z3K4M5N6P7Q8R9S0T1V2W3", "video_id": "vid_01J9Z3K4M5N6P7Q8R9S0T1V2W3"}
    for method, path in routes(api):
        if "{job_id}" not in path:
            continue
        foreign = await call(api.bob, method, fill(path, ids))
        unknown = await call(api.bob, method, fill(path, fake))
        assert foreign.status_code == unknown.status_code == 404, (method, path)
        assert json.loads(foreign.text)["detail"].replace(ids["job_id"], "ID").replace(
            ids["video_id"], "VID"
        ) == json.loads(unknown.text)["detail"].replace(fake["job_id"], "ID").replace(fake["video_id"], "VID")


async def ws_close(url: str, **kwargs: Any) -> tuple[int | None, list[str]]:
    frames: list[str] = []
    async with connect(url, **kwargs) as ws:
        try:
            async for raw in ws:
                frames.append(str(raw))
        except ConnectionClosed:
            pass
        return ws.close_code, frames


async def test_websocket_matrix(api: Api, make_job: Any) -> None:
    ids = await alice_objects(api, make_job)
    job = ids["job_id"]
    async with running_server(api.container) as server:
        base = f"{server.ws_url}/ws"
        cases = {
            "no token": (f"{base}?job_id={job}", {}, 4401),
            "wrong token": (f"{base}?job_id={job}&token=bd_nope", {}, 4401),
            "wrong bearer": (f"{base}?job_id={job}", {"additional_headers": {"Authorization": "Bearer x"}}, 4401),
            "bob's token": (f"{base}?job_id={job}&token={api.tokens['bob']}&last_seq=0", {}, 4404),
        }
        for name, (url, kwargs, expected) in cases.items():
            code, frames = await ws_close(url, **kwargs)
            assert code == expected, (name, code)
            assert not any(job in f or SECRET_TITLE in f for f in frames), (name, frames)


async def test_websocket_without_job_id_streams_only_the_users_own_jobs(api: Api, make_job: Any) -> None:
    async with running_server(api.container) as server:
        url = f"{server.ws_url}/ws?token={api.tokens['bob']}"
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "connection.ready"
            alice_job = await make_job(api.alice, rows=3, title=SECRET_TITLE)
            bob_job = await make_job(api.bob, rows=1, title="bob's")
            seen: list[dict[str, Any]] = []
            while not any(f.get("type") == "job.completed" and f["job_id"] == bob_job["id"] for f in seen):
                seen.append(json.loads(await ws.recv()))
        await api.settle()
    assert {f["job_id"] for f in seen if "job_id" in f} == {bob_job["id"]}
    assert alice_job["id"] not in json.dumps(seen)
