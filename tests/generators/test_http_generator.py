"""The http generator against a real local HTTP server (no patching of httpx)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.generators.base import GenerationError
from app.generators.ffmpeg import ffmpeg_exe
from app.generators.http_generator import HttpGenerator, HttpTemplateConfig

from .conftest import read_media


@dataclass
class Script:
    """Canned answers per path (consumed in order; the last one repeats) and the requests seen."""

    answers: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    def add(self, path: str, status: int, body: object = b"", headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.setdefault(path, []).append((status, headers or {}, raw))


@pytest.fixture(scope="module")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("sample") / "sample.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=320x240:r=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append((self.command, self.path, dict(self.headers), body))
            queue = script.answers.get(self.path) or [(404, {}, b"{}")]
            status, headers, raw = queue.pop(0) if len(queue) > 1 else queue[0]
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def _generator(base: str, sleeps: list[float], **config: object) -> HttpGenerator:
    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    cfg = HttpTemplateConfig(
        submit_url=f"{base}/render", status_url=f"{base}/status/{{id}}", poll_interval_s=0.5, **config
    )
    return HttpGenerator("ai", cfg, headers={"Authorization": "Bearer k"}, defaults={"style": "x"}, sleep=record)


async def test_submit_poll_download(server, sample_video: bytes, make_request) -> None:
    base, script = server
    script.add("/render", 202, {"id": "r1", "status": "queued"})
    script.add("/status/r1", 200, {"status": "processing", "progress": 50})
    script.add("/status/r1", 200, {"status": "completed", "result_url": "/files/r1.mp4"})
    script.add("/files/r1.mp4", 200, sample_video, {"Content-Type": "video/mp4"})
    sleeps: list[float] = []
    reports: list[tuple[float, str]] = []
    request = make_request({"title": "Hello", "script": "World"}, {"voice": "male"})

    result = await _generator(base, sleeps).generate(request, lambda p, s: reports.append((p, s)))

    assert result.output_path == request.output_path
    assert read_media(request.output_path).video_codec == "h264"
    assert result.thumbnail_path is not None and result.thumbnail_path.exists()
    assert result.duration_s == pytest.approx(1.0, abs=0.1)
    method, path, headers, body = script.seen[0]
    assert (method, path) == ("POST", "/render")
    assert headers["Authorization"] == "Bearer k" and headers["Idempotency-Key"] == request.video_id
    payload = json.loads(body)
    assert payload["variables"] == {"title": "Hello", "script": "World"}
    assert payload["overrides"] == {"style": "x", "voice": "male"}
    assert payload["output"]["resolution"] == "480p"
    assert [p for _, p, _, _ in script.seen[1:]] == ["/status/r1", "/status/r1", "/files/r1.mp4"]
    assert sleeps == [0.5, 0.75]  # the poll interval grows
    percents = [p for p, _ in reports]
    assert percents == sorted(percents) and percents[-1] == 100
    assert sorted(os.listdir(request.output_path.parent)) == ["00001-video.jpg", "00001-video.mp4"]


async def test_result_url_in_submit_answer(server, sample_video: bytes, make_request) -> None:
    base, script = server
    script.add("/render", 200, {"id": "r2", "status": "completed", "result_url": f"{base}/files/r2.mp4"})
    script.add("/files/r2.mp4", 200, sample_video)
    result = await _generator(base, []).generate(make_request({"title": "x"}), lambda p, s: None)
    assert result.size_bytes == len(sample_video)


async def test_retries_500_then_succeeds(server, sample_video: bytes, make_request) -> None:
    base, script = server
    script.add("/render", 500, {"error": "boom"})
    script.add("/render", 200, {"id": "r3", "result_url": "/files/r3.mp4"})
    script.add("/files/r3.mp4", 503, b"busy")
    script.add("/files/r3.mp4", 200, sample_video)
    sleeps: list[float] = []
    await _generator(base, sleeps, retry_base_s=0.1).generate(make_request({"title": "x"}), lambda p, s: None)
    assert sleeps == [0.1, 0.1]
    assert [p for _, p, _, _ in script.seen] == ["/render", "/render", "/files/r3.mp4", "/files/r3.mp4"]


async def test_429_honours_retry_after(server, sample_video: bytes, make_request) -> None:
    base, script = server
    script.add("/render", 429, {"error": "slow down"}, {"Retry-After": "7"})
    script.add("/render", 200, {"id": "r4", "result_url": "/files/r4.mp4"})
    script.add("/files/r4.mp4", 200, sample_video)
    sleeps: list[float] = []
    await _generator(base, sleeps, retry_base_s=0.1).generate(make_request({"title": "x"}), lambda p, s: None)
    assert sleeps == [7.0]


async def test_persistent_5xx_is_transient(server, make_request) -> None:
    base, script = server
    script.add("/render", 502, b"bad gateway")
    sleeps: list[float] = []
    request = make_request({"title": "x"})
    with pytest.raises(GenerationError) as info:
        await _generator(base, sleeps, max_retries=2, retry_base_s=0.1).generate(request, lambda p, s: None)
    assert (info.value.permanent, info.value.stage, info.value.code) == (False, "submit", "api_unavailable")
    assert sleeps == [0.1, 0.2]
    assert not request.output_path.exists()


async def test_400_is_permanent_without_retry(server, make_request) -> None:
    base, script = server
    script.add("/render", 400, {"error": "title too long"})
    sleeps: list[float] = []
    with pytest.raises(GenerationError) as info:
        await _generator(base, sleeps).generate(make_request({"title": "x"}), lambda p, s: None)
    assert info.value.permanent and info.value.code == "api_rejected"
    assert "title too long" in (info.value.detail or "")
    assert sleeps == [] and len(script.seen) == 1


async def test_api_reports_failure(server, make_request) -> None:
    base, script = server
    script.add("/render", 200, {"id": "r5", "status": "queued"})
    script.add("/status/r5", 200, {"status": "failed", "error": "content policy"})
    with pytest.raises(GenerationError, match="content policy") as info:
        await _generator(base, []).generate(make_request({"title": "x"}), lambda p, s: None)
    assert info.value.permanent and info.value.stage == "generate"


async def test_timeout_is_transient(server, make_request) -> None:
    base, script = server
    script.add("/render", 200, {"id": "r6", "status": "queued"})
    script.add("/status/r6", 200, {"status": "processing"})
    with pytest.raises(GenerationError) as info:
        await _generator(base, [], timeout_s=0.2).generate(make_request({"title": "x"}), lambda p, s: None)
    assert info.value.code == "api_timeout" and not info.value.permanent


async def test_bad_file_is_rejected(server, make_request) -> None:
    base, script = server
    script.add("/render", 200, {"id": "r7", "result_url": "/files/r7.mp4"})
    script.add("/files/r7.mp4", 200, b"not a video")
    request = make_request({"title": "x"})
    with pytest.raises(GenerationError) as info:
        await _generator(base, []).generate(request, lambda p, s: None)
    assert info.value.code == "bad_result"
    assert os.listdir(request.output_path.parent) == []


def test_validate_required_columns() -> None:
    cfg = HttpTemplateConfig(submit_url="http://127.0.0.1:9/x", required_columns=["prompt"])
    generator = HttpGenerator("ai", cfg)
    assert generator.validate({"Prompt": "a cat"}, {}) is None
    assert generator.validate({"prompt": " "}, {}) == "missing required column 'prompt'"
