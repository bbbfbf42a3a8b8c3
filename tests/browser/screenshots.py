"""Takes docs/screenshots/*.png of every page, light and dark, desktop and phone.

Usage: ``.venv/bin/python -m tests.browser.screenshots``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.browser.conftest import make_driver, start_server
from tests.browser.demo_server import ADMIN_TOKEN

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"desktop": (1280, 1500), "phone": (390, 1700)}


def job_url(driver, base: str, title: str) -> str:  # noqa: ANN001
    driver.get(base + "/")
    time.sleep(1.5)
    href = driver.execute_script(
        "return [...document.querySelectorAll('a')].find(a => a.innerText.trim() === arguments[0])?.href", title
    )
    return href or base + "/"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bd-shots-"))
    proc, base = start_server(tmp)
    try:
        time.sleep(4)  # let the jobs make some progress
        for size, (w, h) in SIZES.items():
            driver = make_driver(w, h)
            try:
                driver.get(base + "/login")
                time.sleep(1)
                driver.save_screenshot(str(OUT / f"login-light-{size}.png"))
                driver.get(f"{base}/?token={ADMIN_TOKEN}")
                time.sleep(1)
                pages = {
                    "jobs": base + "/",
                    "new-job": base + "/bulk-jobs/new",
                    "sheets": base + "/sheets",
                    "dashboard": job_url(driver, base, "Store openings"),
                    "dashboard-done": job_url(driver, base, "Spring product teasers"),
                }
                for mode in ("light", "dark"):
                    for name, url in pages.items():
                        driver.get(url)
                        time.sleep(2.5)
                        driver.save_screenshot(str(OUT / f"{name}-{mode}-{size}.png"))
                    driver.execute_script("document.querySelector('.bd-dark-toggle')?.click()")
                    time.sleep(0.5)
                driver.get(pages["dashboard-done"])
                time.sleep(2)
                driver.execute_script("document.querySelector('.q-table tbody tr')?.click()")
                time.sleep(1.5)
                driver.save_screenshot(str(OUT / f"video-details-light-{size}.png"))
                driver.execute_script("document.querySelector('.bd-dark-toggle')?.click()")  # back to light
                time.sleep(0.5)
            finally:
                driver.quit()
    finally:
        proc.terminate()
        proc.wait(15)
    print("\n".join(sorted(p.name for p in OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
