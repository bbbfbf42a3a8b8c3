"""``GET /api/v1/templates``."""

from __future__ import annotations

from tests.api.conftest import API, Api


async def test_the_built_in_templates_are_listed(api: Api) -> None:
    page = (await api.alice.get(f"{API}/templates")).json()
    ids = [t["id"] for t in page["items"]]
    assert ids[:2] == ["default_template", "simulated"] and page["total"] == len(ids)
    simulated = page["items"][1]
    assert simulated["kind"] == "simulated" and "duration_ms" in simulated["overrides"]
