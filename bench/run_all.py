"""Runs every benchmark script as a subprocess with modest arguments (about 10 minutes in all) and writes
docs/BENCHMARKS.md: the machine, each command, its figures with the baseline or peer measured in the same run
and the ratio, and the full output.

Usage: ``.venv/bin/python bench/run_all.py [--only engine,soak] [--out docs/BENCHMARKS.md]``
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bench:
    name: str
    args: list[str]
    #: what is measured, and against what (the baseline / peer in the same run)
    about: str
    #: output lines worth the summary table (regular expressions, case-insensitive)
    keys: tuple[str, ...]
    timeout_s: float = 240


BENCHES = [
    Bench(
        "engine",
        ["bench/engine.py", "--videos", "5000"],
        "engine throughput, simulated videos with every change and event persisted (SQLite); "
        "baseline: a bare aiosqlite loop doing the same writes",
        (r"videos/s", r"ratio"),
    ),
    Bench(
        "arq_peer",
        ["bench/arq_peer.py", "--tasks", "5000"],
        "the same no-op work through arq (Redis) as a peer job queue vs. a bulkdash simulated job",
        (r"arq", r"bulkdash", r"ratio"),
    ),
    Bench(
        "ws_fanout",
        ["bench/ws_fanout.py", "--clients", "100", "--videos", "500"],
        "/ws fan-out: N subscribers of one job; loss (gaps/repeats must be 0) and publish→receive latency",
        (r"clients", r"gaps", r"latency", r"missing", r"p50|p95|p99"),
    ),
    Bench(
        "render",
        ["bench/render.py", "2", "--resolution", "480p"],
        "real rendering (default_template) vs. bare ffmpeg on the same inputs; overhead ratio and 2-worker speed-up",
        (r"bulkdash", r"bare", r"ratio", r"throughput", r"speed-up"),
        timeout_s=300,
    ),
    Bench(
        "import_parse",
        ["bench/import_parse.py", "50000"],
        "CSV upload parsing vs. a bare csv.reader loop",
        (r"parse_upload", r"bare", r"ratio"),
    ),
    Bench(
        "import",
        ["bench/import.py"],
        "100,000-row CSV: POST /uploads then POST /bulk-jobs until the 201 (goal < 3 s), "
        "vs. a bare csv.reader + aiosqlite executemany of the same rows",
        (r"rows,", r"upload start", r"committed", r"bare total", r"goal"),
    ),
    Bench(
        "ui",
        ["bench/ui.py", "--rows", "100000", "--clients", "50"],
        "dashboard: first paint, table page change / sort / search, bytes per live update, memory per dashboard",
        (r"paint", r"page change", r"sort", r"search", r"update", r"ticks", r"refreshes", r"processing", r"memory"),
        timeout_s=300,
    ),
    Bench(
        "soak",
        ["bench/soak.py", "--videos", "5000", "--ui", "50", "--ws", "100"],
        "real `bulkdash serve`: 50 dashboards (socket.io) + 100 /ws subscribers while 5,000 simulated videos run; "
        "loss against the durable log, latency, server CPU/RSS before, during and after",
        (r"job ", r"loss", r"latency", r"dashboard", r"CPU", r"RSS"),
        timeout_s=300,
    ),
]


@dataclass
class Outcome:
    bench: Bench
    command: str
    status: str
    seconds: float
    output: str


def run(bench: Bench) -> Outcome:
    script = ROOT / bench.args[0]
    command = " ".join([".venv/bin/python", *bench.args])
    if not script.exists():
        return Outcome(bench, command, "not present", 0.0, "")
    t0 = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, *bench.args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=bench.timeout_s,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        status = "ok" if done.returncode == 0 else f"exit code {done.returncode}"
        output = done.stdout + (f"\n[stderr]\n{done.stderr[-3000:]}" if done.returncode != 0 else "")
    except subprocess.TimeoutExpired as exc:
        status = f"timed out after {bench.timeout_s:.0f} s"
        output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    return Outcome(bench, command, status, time.monotonic() - t0, output.strip())


def machine() -> str:
    freq = psutil.cpu_freq()
    return (
        f"{platform.platform()}; {os.cpu_count()} cores"
        + (f" @ {freq.max or freq.current:.0f} MHz" if freq else "")
        + f"; {psutil.virtual_memory().total / 2**30:.1f} GiB RAM; Python {platform.python_version()}"
    )


def summary(outcome: Outcome) -> list[str]:
    patterns = [re.compile(k, re.IGNORECASE) for k in outcome.bench.keys]
    return [
        line.strip()
        for line in outcome.output.splitlines()
        if any(p.search(line) for p in patterns) and not line.startswith(("machine:", "command:", "["))
    ]


def render_markdown(outcomes: list[Outcome]) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# bulkdash benchmarks",
        "",
        f"Generated by `.venv/bin/python bench/run_all.py` on {now}. Every figure below comes from this one run, "
        "on this machine, with the baseline or peer it is compared to measured in the same run.",
        "",
        f"**Machine:** {machine()}",
        "",
        "| benchmark | what, against what | status | time |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        out.append(f"| [{o.bench.name}](#{o.bench.name}) | {o.bench.about} | {o.status} | {o.seconds:.0f} s |")
    for o in outcomes:
        out += ["", f"## {o.bench.name}", "", o.bench.about + ".", "", f"Command: `{o.command}`", ""]
        if o.status == "not present":
            out.append(f"`{o.bench.args[0]}` does not exist yet; nothing measured.")
            continue
        lines = summary(o)
        if lines:
            out += ["Figures (baseline / peer and ratio from the same run):", ""]
            out += [f"- {line}" for line in lines]
            out.append("")
        out += [
            "<details><summary>full output</summary>",
            "",
            "```",
            o.output or "(no output)",
            "```",
            "",
            "</details>",
        ]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    outcomes = []
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        print(f"running {bench.name} ...", flush=True)
        outcome = run(bench)
        print(f"  {outcome.status} in {outcome.seconds:.0f} s", flush=True)
        for line in summary(outcome):
            print(f"  {line}", flush=True)
        outcomes.append(outcome)
    Path(args.out).write_text(render_markdown(outcomes))
    print(f"wrote {args.out}")
    return 0 if all(o.status in ("ok", "not present") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
