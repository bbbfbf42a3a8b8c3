"""Every list route pages the same way: ``limit``/``offset`` in, ``{items, total, limit, offset}`` out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.api.paging import Paging
from tests.api.conftest import API, Api

#: each list route and its default page size
ROUTES = [
    ("/bulk-jobs", 50),
    ("/bulk-jobs/{job}/videos", 50),
    ("/bulk-jobs/{job}/webhooks", 100),
    ("/sheets/connections", 50),
    ("/tokens", 100),
]


async def _get(api: Api, make_job: Any, route: str, params: dict[str, Any]) -> httpx.Response:
    job = await make_job(api.admin, rows=3)
    return await api.admin.get(API + route.format(job=job["id"]), params=params)


@pytest.mark.parametrize(("route", "default"), ROUTES)
async def test_defaults_and_a_page(api: Api, make_job: Any, route: str, default: int) -> None:
    first = (await _get(api, make_job, route, {})).json()
    assert set(first) == {"items", "total", "limit", "offset"}
    assert first["limit"] == default and first["offset"] == 0
    page = (await _get(api, make_job, route, {"limit": 1, "offset": 1})).json()
    assert page["limit"] == 1 and page["offset"] == 1 and len(page["items"]) <= 1


@pytest.mark.parametrize(("route", "default"), ROUTES)
@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 501}, ["query", "limit"]),
        ({"limit": "x"}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"offset": 2**31}, ["query", "offset"]),
    ],
)
async def test_bad_paging_is_422(
    api: Api, make_job: Any, route: str, default: int, params: dict[str, Any], loc: list[str]
) -> None:
    response = await _get(api, make_job, route, params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_cut_pages_a_whole_list() -> None:
    assert Paging(2, 1).cut([1, 2, 3, 4]) == {"items": [2, 3], "total": 4, "limit": 2, "offset": 1}
    assert Paging(2, 9).cut([1]) == {"items": [], "total": 1, "limit": 2, "offset": 9}
