"""CONTRACT §3: bearer tokens on every /api/v1 route but /health; other users' objects answer 404."""

from __future__ import annotations

import pytest

from tests.api.conftest import API, Api, client

JOB = "job_01J9Z3K4M5N6P7Q8R9S0T1V2W3"
VID = "vid_01J9Z3K4M5N6P7Q8R9S0T1V2W3"

#: every authenticated route (method, path)
ROUTES = [
    ("POST", "/bulk-jobs"),
    ("GET", "/bulk-jobs"),
    ("GET", f"/bulk-jobs/{JOB}"),
    ("GET", f"/bulk-jobs/{JOB}/videos"),
    ("GET", f"/bulk-jobs/{JOB}/videos/{VID}"),
    ("GET", f"/bulk-jobs/{JOB}/videos/{VID}/file"),
    ("GET", f"/bulk-jobs/{JOB}/videos/{VID}/thumbnail"),
    ("GET", f"/bulk-jobs/{JOB}/results.csv"),
    ("POST", f"/bulk-jobs/{JOB}/pause"),
    ("POST", f"/bulk-jobs/{JOB}/resume"),
    ("POST", f"/bulk-jobs/{JOB}/cancel"),
    ("POST", f"/bulk-jobs/{JOB}/retry"),
    ("POST", "/tokens"),
    ("GET", "/tokens"),
    ("GET", "/templates"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer bd_wrong", "Basic YWxpY2U6c2VjcmV0", "Bearer "])
async def test_every_route_needs_a_known_token(api: Api, method: str, path: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await api.anon.request(method, API + path, headers=headers, json={} if method == "POST" else None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing or unknown token"}


async def test_health_needs_no_token(api: Api) -> None:
    response = await api.anon.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_a_token_works_in_any_case_of_the_scheme(api: Api) -> None:
    response = await api.anon.get(f"{API}/bulk-jobs", headers={"Authorization": f"bearer {api.tokens['alice']}"})
    assert response.status_code == 200


async def test_another_users_objects_answer_404_like_missing_ones(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=2)
    await api.settle()
    videos = (await api.alice.get(f"{API}/bulk-jobs/{job['id']}/videos")).json()["items"]
    vid = videos[0]["id"]
    paths = [
        ("GET", f"/bulk-jobs/{job['id']}"),
        ("GET", f"/bulk-jobs/{job['id']}/videos"),
        ("GET", f"/bulk-jobs/{job['id']}/videos/{vid}"),
        ("GET", f"/bulk-jobs/{job['id']}/videos/{vid}/file"),
        ("GET", f"/bulk-jobs/{job['id']}/videos/{vid}/thumbnail"),
        ("GET", f"/bulk-jobs/{job['id']}/results.csv"),
        ("POST", f"/bulk-jobs/{job['id']}/pause"),
        ("POST", f"/bulk-jobs/{job['id']}/resume"),
        ("POST", f"/bulk-jobs/{job['id']}/cancel"),
        ("POST", f"/bulk-jobs/{job['id']}/retry"),
    ]
    for method, path in paths:
        foreign = await api.bob.request(method, API + path)
        missing = await api.bob.request(method, API + path.replace(job["id"], JOB))
        assert foreign.status_code == missing.status_code == 404, path
        assert foreign.json()["detail"] == missing.json()["detail"].replace(JOB, job["id"]), path

    listed = (await api.bob.get(f"{API}/bulk-jobs")).json()
    assert listed["total"] == 0 and listed["items"] == []


async def test_an_admin_sees_every_users_jobs(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=2)
    await api.settle()
    assert (await api.admin.get(f"{API}/bulk-jobs/{job['id']}")).json()["id"] == job["id"]
    assert (await api.admin.get(f"{API}/bulk-jobs/{job['id']}/videos")).json()["total"] == 2
    assert [j["id"] for j in (await api.admin.get(f"{API}/bulk-jobs")).json()["items"]] == [job["id"]]


async def test_a_new_token_from_the_api_authenticates(api: Api) -> None:
    created = await api.admin.post(f"{API}/tokens", json={"name": "carol"})
    async with client(api.app, created.json()["token"]) as carol:
        assert (await carol.get(f"{API}/bulk-jobs")).status_code == 200
