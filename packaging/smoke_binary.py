"""Smoke check of the one-file binary: starts it headless, checks health, renders one real video.

    python packaging/smoke_binary.py [dist/bulkdash]

Prints one JSON line (size, start-up time, render time) and exits non-zero on any failure. Only the standard
library is used, so it runs on a machine that has nothing but the binary and a Python.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bd_smoke_admin_token"
JOB = {
    "title": "smoke",
    "input_source": {"type": "inline", "rows": [{"title": "Hello", "script": "Hello from the binary."}]},
    "output": {"resolution": "480p"},
    "template": {"template_id": "default_template"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """(status, parsed JSON or None); never raises for an HTTP error status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def start(binary: Path, command: list[str], data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULKDASH_", "NICEGUI_", "PYTEST_"))}
    env.pop("DISPLAY", None)
    env.update(BULKDASH_DATA_DIR=str(data_dir), BULKDASH_PORT=str(port), BULKDASH_ADMIN_TOKEN=TOKEN)
    env.setdefault("BULKDASH_WORKERS", "2")
    log = open(data_dir.parent / f"{command[0]}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([str(binary), *command], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen[bytes], base: str, timeout: float = 120.0) -> float:
    """Seconds from now until ``GET /api/v1/health`` answers 200 ``{"status": "ok"}``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the binary exited with {proc.returncode} before it was healthy")
        try:
            status, body = request("GET", f"{base}/api/v1/health")
            if status == 200 and body and body.get("status") == "ok":
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the binary did not become healthy in time")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM (graceful), then the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise RuntimeError("the binary did not stop within 30 s of SIGTERM") from None


def finished_videos(root: Path, pattern: str = "*.mp4") -> list[Path]:
    """Output files under their final name (a file being written has a hidden temporary name)."""
    return [p for p in root.rglob(pattern) if not p.name.startswith(".")]


def render_via_rest(base: str, outputs: Path, timeout: float = 120.0) -> dict[str, Any] | None:
    """Creates the smoke job through the REST API and waits for it; ``None`` when the API has no such route."""
    status, job = request("POST", f"{base}/api/v1/bulk-jobs", JOB)
    if status in (404, 405):
        return None
    if status != 201:
        raise RuntimeError(f"POST /api/v1/bulk-jobs answered {status}: {job}")
    end = time.monotonic() + timeout
    while job["state"] not in ("completed", "failed", "canceled"):
        if time.monotonic() > end:
            raise RuntimeError(f"the smoke job did not finish in time: {job}")
        time.sleep(0.2)
        _, job = request("GET", f"{base}/api/v1/bulk-jobs/{job['id']}")
    if job["state"] != "completed" or job["progress"]["completed"] != 1:
        raise RuntimeError(f"the smoke job did not render its video: {job}")
    files = finished_videos(outputs, f"{job['id']}/*.mp4")
    if len(files) != 1 or files[0].stat().st_size == 0:
        raise RuntimeError(f"expected one output file for {job['id']} under {outputs}, found {files}")
    return {"job_id": job["id"], "output": str(files[0]), "output_bytes": files[0].stat().st_size}


def render_via_demo(binary: Path, data_dir: Path, timeout: float = 120.0) -> dict[str, Any]:
    """Fallback while the REST API has no job routes: ``bulkdash demo`` renders the sample through the job
    service; waits for its first finished video."""
    port = free_port()
    proc = start(binary, ["demo"], data_dir, port)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
        end = time.monotonic() + timeout
        while not (files := finished_videos(data_dir / "outputs")):
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("bulkdash demo rendered no video in time")
            time.sleep(0.2)
    finally:
        code = stop(proc)
    if code != 0:
        raise RuntimeError(f"bulkdash demo exited with {code} after SIGTERM")
    return {"via": "demo", "output": str(files[0]), "output_bytes": files[0].stat().st_size}


def smoke(binary: Path) -> dict[str, Any]:
    """Runs every check; returns the measurements."""
    report: dict[str, Any] = {"binary": str(binary), "size_bytes": binary.stat().st_size}
    report["size_mb"] = round(report["size_bytes"] / 1e6, 1)
    no_display = subprocess.run(
        [str(binary), "serve", "--native"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
    )
    if no_display.returncode == 0 or "no display" not in no_display.stderr:
        raise RuntimeError(f"--native without a display: {no_display.returncode} {no_display.stderr!r}")
    with tempfile.TemporaryDirectory(prefix="bulkdash-smoke-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(binary, ["serve"], data_dir, port)
        try:
            report["start_to_healthy_s"] = round(wait_healthy(proc, base), 2)
            t0 = time.monotonic()
            rendered = render_via_rest(base, data_dir / "outputs")
        finally:
            code = stop(proc)
        if code != 0:
            raise RuntimeError(f"bulkdash serve exited with {code} after SIGTERM (expected 0)")
        if rendered is None:
            report["rest_api"] = "no POST /api/v1/bulk-jobs yet: rendered through `bulkdash demo` instead"
            t0 = time.monotonic()
            rendered = render_via_demo(binary, data_dir)
        else:
            rendered["via"] = "rest"
        report["render_s"] = round(time.monotonic() - t0, 2)
        report.update(rendered)
    return report


def main(argv: list[str]) -> int:
    binary = Path(argv[1] if len(argv) > 1 else ROOT / "dist" / "bulkdash").resolve()
    if not binary.is_file():
        print(f"no binary at {binary}: build it with `make binary`", file=sys.stderr)
        return 2
    try:
        report = smoke(binary)
    except Exception as exc:
        print(f"smoke check FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
