"""A real browser sees a running job's percent and state change without reloading the page."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser.demo_server import ADMIN_TOKEN

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):  # noqa: ANN001, ANN201
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def open_job(driver, base: str, title: str) -> None:  # noqa: ANN001
    """Logs in with the admin token and opens the job's dashboard from the jobs list (clicked in the page: the
    live list re-renders, so a held element reference may go stale)."""
    driver.get(f"{base}/?token={ADMIN_TOKEN}")
    wait_until(lambda: driver.current_url.rstrip("/") == base, what="the token to leave the URL")
    click = (
        "const a = [...document.querySelectorAll('a')].find(a => a.innerText.trim() === arguments[0]);"
        "if (a) a.click(); return !!a;"
    )
    wait_until(lambda: driver.execute_script(click, title), what="the job in the jobs list")
    wait_until(lambda: "/bulk-jobs/job_" in driver.current_url, what="the dashboard")


def text_of(driver, selector: str) -> str:  # noqa: ANN001
    """Read in the page itself: Vue replaces updated nodes, so held element references go stale."""
    return driver.execute_script(f"return document.querySelector('{selector}')?.innerText || ''")


def test_dashboard_updates_without_reload(live_server: str, driver, tmp_path: Path) -> None:  # noqa: ANN001
    open_job(driver, live_server, "Weekly recap")
    driver.execute_script("window.__bd_marker = 'same page'")  # disappears if the page reloads

    percent = lambda: text_of(driver, ".bd-percent")  # noqa: E731
    state = lambda: text_of(driver, ".bd-state")  # noqa: E731
    wait_until(lambda: percent().endswith("%"), what="the percent")
    first_percent, first_state = percent(), state()
    assert first_state in ("pending", "running")
    wait_until(lambda: percent() != first_percent, timeout=30, what="the percent to change")
    wait_until(lambda: state() == "completed", timeout=60, what="the job to complete")
    assert percent() == "100%"
    assert text_of(driver, ".bd-done") == "60 / 60 videos done"
    assert driver.execute_script("return window.__bd_marker") == "same page"
    conn = driver.execute_script("return document.querySelector('.bd-conn').dataset.state")
    assert conn == "connected"
    driver.save_screenshot(str(tmp_path / "live-dashboard.png"))
    if os.environ.get("BD_SAVE_SCREENSHOTS"):
        driver.save_screenshot(str(SCREENSHOTS / "browser-test-dashboard-completed.png"))
