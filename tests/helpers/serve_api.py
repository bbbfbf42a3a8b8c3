"""A real ``python -m app serve`` process driven only through its REST API and ``/ws`` (for crash and soak runs).

server = ServeProcess.start(data_dir)      # waits for "bulkdash is running"
server.url, server.ws_url, server.pid
server.kill()                               # SIGKILL, as a crash
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from tests.cli.helpers import ADMIN_TOKEN, Proc, free_port, process_env

#: fast retries so a short run sees failures retried, not waiting
FAST_ENV = {"BULKDASH_RETRY_BASE_S": "0.01", "BULKDASH_RETRY_MAX_S": "0.05"}


@dataclass
class ServeProcess:
    """One ``bulkdash serve`` child on its own port; the admin token is :data:`ADMIN_TOKEN`."""

    proc: Proc
    port: int
    token: str = ADMIN_TOKEN

    @classmethod
    def start(cls, data_dir: Path, *, timeout: float = 30.0, **env: str) -> ServeProcess:
        port = free_port()
        proc = Proc(["-m", "app", "serve"], process_env(data_dir, port, **{**FAST_ENV, **env}))
        try:
            proc.wait_line("bulkdash is running", timeout)
        except BaseException:
            proc.stop()
            raise
        return cls(proc, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        return self.proc.popen.pid

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash, the OOM killer, a pulled plug)."""
        if self.proc.popen.poll() is None:
            self.proc.popen.send_signal(signal.SIGKILL)
        self.proc.popen.wait(10)

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the graceful stop."""
        if self.proc.popen.poll() is None:
            self.proc.popen.send_signal(signal.SIGTERM)
        return self.proc.popen.wait(timeout)
