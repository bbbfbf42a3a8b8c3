"""The one-file binary (slow: building takes 2–3 minutes). Run with ``pytest -m slow tests/packaging``.

Set ``BULKDASH_BINARY=dist/bulkdash`` to check an existing binary instead of building one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def binary() -> Path:
    given = os.environ.get("BULKDASH_BINARY")
    if given:
        return Path(given).resolve()
    subprocess.run([sys.executable, str(ROOT / "packaging" / "build_binary.py")], cwd=ROOT, check=True, timeout=900)
    return ROOT / "dist" / "bulkdash"


def test_binary_serves_and_renders_a_real_video(binary: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "smoke_binary.py"), str(binary)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["via"] == "rest"  # POST /api/v1/bulk-jobs, not a fallback
    assert report["output_bytes"] > 0 and report["output"].endswith(".mp4")
    assert report["demo_videos"] == 15  # `bulkdash demo` found the bundled sample sheet inside the binary
    assert report["new_job_form"] == "shows the bundled sample"
    print(report)  # size and start-up time, for the record (pytest -s)


def test_binary_cli_help(binary: Path) -> None:
    done = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for command in ("serve", "demo", "token"):
        assert command in done.stdout
