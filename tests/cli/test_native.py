"""``bulkdash serve --native``: a clear, fast failure without a display; window set-up; window close = stop."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.web import native
from tests.cli.helpers import ROOT, Proc, free_port, process_env, reader
from tests.conftest import make_settings


def test_no_display_is_a_clear_fast_failure(tmp_path: Path) -> None:
    env = process_env(tmp_path / "data", free_port())
    t0 = time.monotonic()
    command = [sys.executable, "-m", "app", "serve", "--native"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == native.EXIT_UNAVAILABLE != 0
    assert "no display:" in done.stderr and "DISPLAY" in done.stderr
    assert "bulkdash serve" in done.stderr  # says what to do instead
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "data").exists()  # it failed before touching anything


def test_no_display_linux_only() -> None:
    with pytest.raises(native.NativeUnavailable, match="no display"):
        native.check_environment({}, "linux")
    with pytest.raises(native.NativeUnavailable, match="no display"):
        native.check_environment({"DISPLAY": ""}, "linux")


def test_missing_pywebview_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = native.importlib.util.find_spec
    monkeypatch.setattr(native.importlib.util, "find_spec", lambda name: None if name == "webview" else real(name))
    with pytest.raises(native.NativeUnavailable, match=r"pip install 'bulkdash\[desktop\]'"):
        native.check_environment({"DISPLAY": ":0"}, "linux")
    with pytest.raises(native.NativeUnavailable, match="pywebview is not installed"):
        native.check_environment({}, "darwin")


def test_prepare_binds_localhost_on_a_free_port_and_logs_the_window_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nicegui import app as nicegui_app

    monkeypatch.setattr(native, "check_environment", lambda: None)
    monkeypatch.setattr(nicegui_app.native, "window_args", {})
    settings = make_settings(tmp_path, host="0.0.0.0", port=8080, admin_token="bd_native_admin")
    url = native.prepare(settings)
    assert settings.host == "127.0.0.1" and settings.port != 8080
    assert url == f"http://127.0.0.1:{settings.port}/?token=bd_native_admin"
    assert nicegui_app.native.window_args["url"] == url


async def test_closing_the_window_stops_workers_cleanly(tmp_path: Path) -> None:
    """What NiceGUI does when the native window closes (``core.stop_and_exit`` from its watcher thread):
    the shutdown handlers run, running videos get their grace, the process exits 0."""
    data = tmp_path / "data"
    env = process_env(data, free_port(), BULKDASH_SHUTDOWN_GRACE_S="1")
    proc = Proc(["-m", "tests.cli.serve_process", "6", "60000", "close-window"], env)
    try:
        job_id = proc.wait_line("ready").split()[1]
        assert proc.popen.wait(20) == 0, "\n".join(proc.stderr)
        assert any("bulkdash stopped" in line for line in proc.stderr)
    finally:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGKILL)
        proc.stop()
    app = reader(tmp_path, data)
    try:
        await asyncio.sleep(0)
        assert await app.jobs_store.count_by_state(job_id) == {"pending": 6}
    finally:
        await app.db.close()
