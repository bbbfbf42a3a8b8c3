"""Starting and reading real ``bulkdash`` processes for the CLI tests."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.container import Bulkdash, build
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "bd_cli_test_admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a child bulkdash: its own data dir, port and admin token, no display."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULKDASH_", "NICEGUI_"))}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("PYTEST_CURRENT_TEST", None)  # NiceGUI treats a process with this variable as a pytest run
    env.update(
        BULKDASH_DATA_DIR=str(data_dir),
        BULKDASH_PORT=str(port),
        BULKDASH_ADMIN_TOKEN=ADMIN_TOKEN,
        BULKDASH_WORKERS="2",
        BULKDASH_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Proc:
    """A child process whose stdout lines are read on a thread (so a test can wait for one with a timeout)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.popen.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.popen.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream: Any, sink: Any) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    def wait_line(self, prefix: str, timeout: float = 30.0) -> str:
        """The first stdout line starting with ``prefix``; fails with the process's stderr when none comes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.popen.poll() is not None and self.lines.empty():
                    break
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting with {prefix!r}; stderr:\n" + "\n".join(self.stderr[-40:]))

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)


def reader(tmp_path: Path, data_dir: Path) -> Bulkdash:
    """A container on the child's database for reading its store (nothing started)."""
    return build(make_settings(tmp_path, data_dir=data_dir, admin_token=ADMIN_TOKEN))
