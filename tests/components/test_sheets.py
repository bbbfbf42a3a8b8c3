"""The sheets page: "not configured" without a sheet service; list and connect with one."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

from app.container import Bulkdash
from app.services.errors import Invalid
from tests.conftest import wait_for


class FakeSheets:
    """The interface the page expects from ``container.sheets``."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    async def list(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        return [c for c in self.items if c["owner"] == user["id"]]

    async def connect(
        self,
        user: dict[str, Any],
        sheet_id: str,
        range: str | None,
        title: str | None,
        service_account: dict | None,
        api_key: str | None,
    ) -> dict[str, Any]:
        if sheet_id == "denied":
            raise Invalid("the service account cannot read this sheet")
        item = {
            "id": f"shc_{len(self.items)}",
            "owner": user["id"],
            "sheet_id": sheet_id,
            "title": title,
            "range": range,
            "columns": ["title", "script"],
            "created_at": "2024-05-01T10:00:00Z",
        }
        self.items.append(item)
        return item


async def test_not_configured(admin_user: User, container: Bulkdash) -> None:
    container.sheets = None  # a process built without Sheets support
    await admin_user.open("/sheets")
    await admin_user.should_see(marker="sheets-not-configured")


async def test_connect_and_list(admin_user: User, container: Bulkdash) -> None:
    container.sheets = FakeSheets()  # type: ignore[attr-defined]
    await admin_user.open("/sheets")
    admin_user.find(marker="connect").click()
    await wait_for(lambda: admin_user.find(marker="sheet-id").elements.pop().error == "a sheet id is needed")
    admin_user.find(marker="sheet-id").type("denied")
    admin_user.find(marker="connect").click()
    await admin_user.should_see("cannot read this sheet")
    admin_user.find(marker="sheet-id").clear().type("1A2B3C")
    admin_user.find(marker="sheet-title").type("Campaigns")
    admin_user.find(marker="connect").click()
    table = admin_user.find(marker="sheets-table").elements.pop()
    await wait_for(lambda: len(table.rows) == 1)
    assert table.rows[0]["title"] == "Campaigns" and table.rows[0]["columns"] == "title, script"
    await admin_user.open("/bulk-jobs/new")
    options = admin_user.find(marker="source-kind").elements.pop().props["options"]
    assert not any(o.get("disable") for o in options)
