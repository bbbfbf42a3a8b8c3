"""Login, ``/?token=`` and the redirect of every page without a session."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from app.container import Bulkdash


@pytest.mark.parametrize("path", ["/", "/bulk-jobs/new", "/bulk-jobs/job_x", "/sheets"])
async def test_pages_need_a_session(user: User, path: str) -> None:
    await user.open(path)
    await user.should_see("Log in to bulkdash")


async def test_token_in_url_logs_in_and_is_dropped(user: User, container: Bulkdash) -> None:
    response = await user.http_client.get(f"/?token={container.admin_token}")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    await user.open("/")
    await user.should_see("Jobs")
    await user.should_see(marker="new-job")


async def test_bad_token_in_url_goes_to_login_with_message(user: User) -> None:
    await user.open("/?token=nope")
    await user.should_see("That token is not valid.")


async def test_login_form(user: User, container: Bulkdash) -> None:
    await user.open("/login")
    user.find(marker="token").type("wrong")
    user.find(marker="login").click()
    await user.should_see("Unknown token")
    user.find(marker="token").clear().type(container.admin_token)
    user.find(marker="login").click()
    await user.should_see(marker="new-job")


async def test_logout(admin_user: User) -> None:
    await admin_user.open("/")
    admin_user.find(marker="logout").click()
    await admin_user.should_see("Log in to bulkdash")
    await admin_user.open("/")
    await admin_user.should_see("Log in to bulkdash")


async def test_dark_mode_is_remembered(admin_user: User) -> None:
    await admin_user.open("/")
    admin_user.find(marker="dark-toggle").click()
    await admin_user.open("/sheets")
    assert admin_user.find(ui.dark_mode).elements.pop().value is True
