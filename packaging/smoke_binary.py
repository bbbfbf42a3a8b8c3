"""Smoke check of the one-file binary: starts it headless, checks health, renders one real video via REST.

    python packaging/smoke_binary.py [dist/bulkdash]

1. ``bulkdash serve --native`` without a display must fail at once with "no display".
2. ``bulkdash serve`` (no window, a temporary ``BULKDASH_DATA_DIR``, a free port, a pinned admin token) must
   answer ``GET /api/v1/health``; then ``POST /api/v1/bulk-jobs`` with one row and the ``default_template``
   must end ``completed`` with one video whose file is on disk, is served by ``…/videos/{id}/file``, is an MP4
   and decodes (with ffmpeg, when one is at hand: imageio-ffmpeg's or one on PATH). SIGTERM must exit 0.
   The new-job form (``/bulk-jobs/new``, logged in through ``/?token=…``) must show the bundled sample's preview.
3. ``bulkdash demo`` must find its bundled sample sheet and create its job (the binary carries ``app/assets``).

Prints one JSON line (size, start-up times, render time, output) and exits non-zero on any failure. Only the
standard library is needed, so it runs on a machine that has nothing but the binary and a Python.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bd_smoke_admin_token"
JOB = {
    "title": "smoke",
    "input_source": {"type": "inline", "rows": [{"title": "Hello", "script": "Hello from the binary."}]},
    "output": {"resolution": "480p"},
    "template": {"template_id": "default_template"},
}
FINAL_STATES = ("completed", "failed", "canceled")


class SmokeError(RuntimeError):
    """A check failed."""


class Server:
    """The binary running one command headless, with its output in a log file."""

    def __init__(self, binary: Path, command: list[str], data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"{command[0]}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BULKDASH_", "NICEGUI_", "PYTEST_"))}
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(
            BULKDASH_HOST="127.0.0.1",
            BULKDASH_PORT=str(self.port),
            BULKDASH_DATA_DIR=str(data_dir),
            BULKDASH_ADMIN_TOKEN=TOKEN,
            BULKDASH_WORKERS="2",
        )
        self._log: IO[bytes] = self.log_path.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(binary), *command], env=env, cwd=data_dir.parent, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout: float = 120.0) -> float:
        """Seconds from process start until ``GET /api/v1/health`` answers 200 ``{"status": "ok"}``."""
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise SmokeError(f"the binary exited with {self.proc.returncode} before it was healthy")
            try:
                status, body = request("GET", f"{self.base}/api/v1/health")
                if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise SmokeError(f"the binary did not become healthy within {timeout:.0f}s")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful), then the exit code."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise SmokeError(f"the binary did not stop within {timeout:.0f}s of SIGTERM") from None
        finally:
            self._log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(method: str, url: str, body: Any = None, *, raw: bool = False) -> tuple[int, Any]:
    """(status, parsed JSON or None — or the bytes with ``raw``); never raises for an HTTP error status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, content = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, content = exc.code, exc.read()
    if raw:
        return status, content
    try:
        return status, json.loads(content or b"null")
    except ValueError:
        return status, None


def find_ffmpeg() -> str | None:
    """An ffmpeg to decode the output with: imageio-ffmpeg's when installed, else one on PATH."""
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found]

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception:
        return shutil.which("ffmpeg")


def check_decodes(path: Path) -> str:
    """Decodes every stream of ``path`` with ffmpeg; returns what was checked."""
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        return "not decoded (no ffmpeg at hand): MP4 header and size checked only"
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SmokeError(f"ffmpeg could not decode {path}: {done.stderr[-800:]}")
    streams = [kind for kind in ("Video:", "Audio:") if kind in done.stderr]
    if streams != ["Video:", "Audio:"]:
        raise SmokeError(f"{path} should have a video and an audio stream: {done.stderr[-800:]}")
    return "decoded by ffmpeg (video + audio)"


def check_native_without_display(binary: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([str(binary), "serve", "--native"], capture_output=True, text=True, timeout=120, env=env)
    if done.returncode == 0 or "no display" not in done.stderr:
        raise SmokeError(f"--native without a display: exit {done.returncode}, stderr {done.stderr!r}")


def render_via_rest(base: str, outputs: Path, timeout: float = 180.0) -> dict[str, Any]:
    """Creates the smoke job with ``POST /api/v1/bulk-jobs``, waits for it and checks its one video."""
    status, job = request("POST", f"{base}/api/v1/bulk-jobs", JOB)
    if status != 201 or not isinstance(job, dict):
        raise SmokeError(f"POST /api/v1/bulk-jobs answered {status}: {job}")
    job_id = job["id"]
    end = time.monotonic() + timeout
    while job["state"] not in FINAL_STATES:
        if time.monotonic() > end:
            raise SmokeError(f"the smoke job did not finish within {timeout:.0f}s: {job}")
        time.sleep(0.2)
        status, job = request("GET", f"{base}/api/v1/bulk-jobs/{job_id}")
        if status != 200:
            raise SmokeError(f"GET /api/v1/bulk-jobs/{job_id} answered {status}: {job}")
    if job["state"] != "completed" or job["progress"]["completed"] != 1:
        raise SmokeError(f"the smoke job did not render its video: {job}")

    status, page = request("GET", f"{base}/api/v1/bulk-jobs/{job_id}/videos")
    if status != 200 or page["total"] != 1:
        raise SmokeError(f"GET …/videos answered {status}: {page}")
    video = page["items"][0]
    if video["state"] != "completed" or not video["size_bytes"]:
        raise SmokeError(f"the video is not completed with a size: {video}")

    files = [p for p in outputs.rglob(f"{job_id}/*.mp4") if not p.name.startswith(".")]
    if len(files) != 1 or files[0].stat().st_size == 0:
        raise SmokeError(f"expected one non-empty .mp4 for {job_id} under {outputs}, found {files}")
    on_disk = files[0]

    status, content = request("GET", f"{base}/api/v1/bulk-jobs/{job_id}/videos/{video['id']}/file", raw=True)
    if status != 200 or content[4:8] != b"ftyp":
        raise SmokeError(f"GET …/videos/{video['id']}/file answered {status} with {content[:16]!r}")
    if len(content) != on_disk.stat().st_size:
        raise SmokeError(f"the served file has {len(content)} bytes, the one on disk {on_disk.stat().st_size}")
    return {
        "via": "rest",
        "job_id": job_id,
        "output": str(on_disk.relative_to(outputs)),
        "output_bytes": on_disk.stat().st_size,
        "duration_s": video.get("duration_s"),
        "decode": check_decodes(on_disk),
    }


def check_new_job_page(base: str) -> None:
    """Logs in like a browser (``/?token=…`` sets the session cookie) and opens the new-job form, whose default
    source is the bundled sample sheet: the page must render its preview ("N rows · columns: …")."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/?token={TOKEN}", timeout=30) as resp:
        if resp.status != 200 or urllib.parse.urlsplit(resp.url).path != "/":
            raise SmokeError(f"logging in with /?token=… ended at {resp.url} ({resp.status})")
    try:
        with opener.open(f"{base}/bulk-jobs/new", timeout=30) as resp:
            status, html = resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, html = exc.code, exc.read().decode(errors="replace")
    if status != 200 or not re.search(r"\d+ rows (·|\\u00b7) columns: ", html):
        raise SmokeError(f"/bulk-jobs/new answered {status} without the sample sheet's preview")


def check_demo(binary: Path, data_dir: Path, timeout: float = 60.0) -> dict[str, Any]:
    """``bulkdash demo`` starts and creates its job from the bundled sample sheet; stopped at once after."""
    server = Server(binary, ["demo"], data_dir)
    try:
        healthy_s = server.wait_healthy()
        end = time.monotonic() + timeout
        while True:
            status, page = request("GET", f"{server.base}/api/v1/bulk-jobs")
            if status == 200 and page["total"] >= 1:
                break
            if time.monotonic() > end or server.proc.poll() is not None:
                raise SmokeError(f"bulkdash demo created no job (last answer {status}: {page})")
            time.sleep(0.2)
    except SmokeError as exc:
        server.stop()
        raise SmokeError(f"{exc}\n--- demo log ---\n{server.log_tail()}") from None
    code = server.stop()
    if code != 0:
        raise SmokeError(f"bulkdash demo exited with {code} after SIGTERM (expected 0)\n{server.log_tail()}")
    job = page["items"][0]
    return {"demo_start_to_healthy_s": round(healthy_s, 2), "demo_videos": job["progress"]["total"]}


def smoke(binary: Path) -> dict[str, Any]:
    """Runs every check; returns the measurements."""
    size = binary.stat().st_size
    report: dict[str, Any] = {"binary": str(binary), "size_bytes": size, "size_mb": round(size / 1e6, 1)}
    check_native_without_display(binary)
    with tempfile.TemporaryDirectory(prefix="bulkdash-smoke-") as tmp:
        data_dir = Path(tmp) / "serve" / "data"
        data_dir.mkdir(parents=True)
        server = Server(binary, ["serve"], data_dir)
        try:
            report["start_to_healthy_s"] = round(server.wait_healthy(), 2)
            t0 = time.monotonic()
            report.update(render_via_rest(server.base, data_dir / "outputs"))
            report["render_s"] = round(time.monotonic() - t0, 2)
            check_new_job_page(server.base)
            report["new_job_form"] = "shows the bundled sample"
        except SmokeError as exc:
            server.stop()
            raise SmokeError(f"{exc}\n--- serve log ---\n{server.log_tail()}") from None
        code = server.stop()
        if code != 0:
            raise SmokeError(f"bulkdash serve exited with {code} after SIGTERM (expected 0)\n{server.log_tail()}")
        demo_dir = Path(tmp) / "demo" / "data"
        demo_dir.mkdir(parents=True)
        report.update(check_demo(binary, demo_dir))
    return report


def main(argv: list[str]) -> int:
    binary = Path(argv[1] if len(argv) > 1 else ROOT / "dist" / "bulkdash").resolve()
    if not binary.is_file():
        print(f"no binary at {binary}: build it with `make binary`", file=sys.stderr)
        return 2
    try:
        report = smoke(binary)
    except (SmokeError, OSError, subprocess.SubprocessError, KeyError, TypeError) as exc:
        print(f"smoke check FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
