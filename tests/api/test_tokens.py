"""``/api/v1/tokens``: admin only; the secret is shown once."""

from __future__ import annotations

from tests.api.conftest import API, Api


async def test_an_admin_creates_a_token_and_sees_its_secret_once(api: Api) -> None:
    response = await api.admin.post(f"{API}/tokens", json={"name": "carol"})
    assert response.status_code == 201
    created = response.json()
    assert created["token"].startswith("bd_") and created["user"] == "carol" and created["is_admin"] is False
    assert created["prefix"] == created["token"][:10]

    listed = (await api.admin.get(f"{API}/tokens")).json()
    assert listed["total"] == len(listed["items"]) >= 4  # admin, alice, bob, carol
    carol = next(t for t in listed["items"] if t["id"] == created["id"])
    assert "token" not in carol and carol["prefix"] == created["prefix"]
    assert created["token"] not in (await api.admin.get(f"{API}/tokens")).text


async def test_an_admin_token_for_a_new_admin(api: Api) -> None:
    created = (await api.admin.post(f"{API}/tokens", json={"name": "root2", "admin": True})).json()
    assert created["is_admin"] is True


async def test_tokens_page(api: Api) -> None:
    page = (await api.admin.get(f"{API}/tokens", params={"limit": 1, "offset": 1})).json()
    assert len(page["items"]) == 1 and page["limit"] == 1 and page["offset"] == 1 and page["total"] >= 3


async def test_a_non_admin_gets_403(api: Api) -> None:
    for response in (
        await api.alice.post(f"{API}/tokens", json={"name": "mallory"}),
        await api.alice.get(f"{API}/tokens"),
    ):
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]


async def test_bad_token_bodies_are_422_with_the_field(api: Api) -> None:
    for body, loc in (
        ({}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"name": "a b"}, ["body", "name"]),
        ({"name": "ok", "is_admin": True}, ["body", "is_admin"]),
    ):
        response = await api.admin.post(f"{API}/tokens", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc
