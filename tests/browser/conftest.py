"""A real server in a subprocess and a headless chromium driven by selenium (skipped without chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, scenario: str = "live", port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Starts ``tests.browser.demo_server``; returns the process and its base URL once it answers."""
    port = port or free_port()
    # NiceGUI takes a process with PYTEST_CURRENT_TEST for its own screen test and ignores the port
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))}
    env = {**env, "BD_PORT": str(port), "BD_DATA_DIR": str(tmp / "data"), "BD_SCENARIO": scenario}
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.demo_server"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    end = time.monotonic() + 60
    while "bulkdash is running" not in (tmp / "server.log").read_text():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise RuntimeError("server did not start:\n" + (tmp / "server.log").read_text())
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


def make_driver(width: int = 1280, height: int = 900):  # noqa: ANN201 - a selenium WebDriver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser_ready() -> None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"needs {CHROMIUM} and chromedriver: apt-get install -y chromium chromium-driver")


@pytest.fixture
def live_server(browser_ready: None, tmp_path: Path) -> Iterator[str]:
    proc, url = start_server(tmp_path)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def driver(browser_ready: None) -> Iterator[object]:
    drv = make_driver()
    try:
        yield drv
    finally:
        drv.quit()
