"""Benchmark: DefaultTemplateGenerator against the bare ffmpeg command on the same inputs, 1 vs 2 workers.

Usage: ``.venv/bin/python bench/render.py [N] [--resolution 1080p]``
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from app.generators import cards, espeak
from app.generators.base import OutputSettings, RenderRequest
from app.generators.default_template import DefaultTemplateGenerator, parse_row
from app.generators.ffmpeg import encode_command, run_ffmpeg

ROW = {
    "title": "Bulk video number {n}",
    "subtitle": "bulkdash benchmark",
    "script": "Welcome to the benchmark. Every row becomes a video with a voice, cards and captions. "
    "This one is number {n}, rendered at full HD.",
    "n": "0",
}


def _row(i: int) -> dict[str, str]:
    return {**ROW, "n": str(i)}


async def _bulkdash(root: Path, n: int, workers: int, output: OutputSettings) -> float:
    generator = DefaultTemplateGenerator()
    semaphore = asyncio.Semaphore(workers)

    async def one(i: int) -> None:
        async with semaphore:
            request = RenderRequest(
                "job_bench",
                f"vid_{i}",
                i,
                "bench",
                _row(i),
                {},
                output,
                root / f"w{workers}" / f"{i:05d}.mp4",
            )
            await generator.generate(request, lambda p, s: None)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(1, n + 1)))
    return time.perf_counter() - start


async def _bare_inputs(root: Path, n: int, output: OutputSettings) -> list[tuple[Path, Path, float]]:
    """The same card frames and WAV the generator would make, prepared outside the timed part."""
    inputs = []
    for i in range(1, n + 1):
        spec = parse_row(_row(i), {})
        work = root / f"bare_in_{i}"
        work.mkdir()
        pcm, rate = espeak.synthesize(spec.script, spec.voice)
        duration = espeak.write_wav(work / "voice.wav", pcm, rate)
        captions = cards.split_captions(spec.script)
        card = cards.CardSpec(
            spec.title,
            spec.subtitle,
            captions,
            cards.time_captions(captions, duration),
            spec.style,
            cards.RESOLUTIONS[output.resolution],
        )
        _, concat = cards.render_cards(card, work)
        inputs.append((concat, work / "voice.wav", duration))
    return inputs


async def _bare(root: Path, inputs: list[tuple[Path, Path, float]], workers: int, output: OutputSettings) -> float:
    semaphore = asyncio.Semaphore(workers)

    async def one(i: int, concat: Path, wav: Path, duration: float) -> None:
        async with semaphore:
            out = root / f"bare_out_{workers}_{i}.mp4"
            await run_ffmpeg(encode_command(concat, wav, out, output, duration), duration)

    start = time.perf_counter()
    await asyncio.gather(*(one(i, *args) for i, args in enumerate(inputs)))
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", nargs="?", type=int, default=4, help="videos per run")
    parser.add_argument("--resolution", default="1080p", choices=sorted(cards.RESOLUTIONS))
    args = parser.parse_args()
    output = OutputSettings("mp4", "h264", "aac", args.resolution)
    root = Path(tempfile.mkdtemp(prefix="bulkdash-bench-"))
    try:
        await _bulkdash(root / "warmup", 1, 1, output)  # loads eSpeak, warms the page cache
        inputs = await _bare_inputs(root, args.n, output)
        bare1 = await _bare(root, inputs, 1, output)
        bulk1 = await _bulkdash(root, args.n, 1, output)
        bulk2 = await _bulkdash(root, args.n, 2, output)
        bare2 = await _bare(root, inputs, 2, output)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    n = args.n
    print(f"videos per run: {n}, {args.resolution} mp4/h264/aac, video length {inputs[0][2]:.2f}s")
    print(f"bulkdash, 1 worker : {bulk1 / n:.3f} s/video")
    print(f"bare ffmpeg, 1 job : {bare1 / n:.3f} s/video")
    print(f"overhead ratio     : {bulk1 / bare1:.3f}  (goal <= 1.10)")
    print(f"throughput 1 worker: {60 * n / bulk1:.1f} videos/min")
    print(f"throughput 2 workers: {60 * n / bulk2:.1f} videos/min")
    print(f"2-worker speed-up  : {bulk1 / bulk2:.2f}  (goal >= 1.7; bare ffmpeg: {bare1 / bare2:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
