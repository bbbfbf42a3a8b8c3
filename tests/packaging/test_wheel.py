"""What a non-editable install carries: the bundled assets and Alembic files are package data of ``app``.

The fast test runs setuptools' ``build_py`` (the step that fills a wheel's package directories) on a copy of
the project, offline. The slow one builds the real wheel with pip, installs it into a throwaway venv and runs
``bulkdash demo`` from there (``pytest -m slow tests/packaging``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from app.paths import assets_dir, sample_sheet

ROOT = Path(__file__).resolve().parents[2]
# Files a wheel must carry besides the modules (relative to site-packages).
REQUIRED_DATA = (
    "app/assets/sample_campaign.csv",
    "app/migrations/script.py.mako",
    "components/video_table.js",
    "app/migrations/env.py",
)


def copy_project(dest: Path) -> Path:
    """The files setuptools builds from (no caches, no venv, no data)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for package in ("app", "components"):
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)
    return dest


def test_assets_are_found_beside_the_app_package() -> None:
    assert assets_dir() == ROOT / "app" / "assets"
    assert sample_sheet().is_file()
    assert (ROOT / "assets" / "sample_campaign.csv").read_bytes() == sample_sheet().read_bytes()  # README's path


def test_package_build_contains_the_assets(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "src")
    out = tmp_path / "lib"
    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    built = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for required in REQUIRED_DATA:
        assert required in built
    assert "app/paths.py" in built and "components/source_picker.py" in built
    assert not any(name.startswith(("assets/", "tests/")) for name in built)  # nothing outside the packages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_installed_wheel_runs_the_demo(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(project)],
        check=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("bulkdash-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in REQUIRED_DATA:
        assert required in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=1200)

    # The installed copy, not this checkout: run from an empty folder with no PYTHONPATH.
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULKDASH_", "NICEGUI_", "PYTEST_"))}
    env.pop("PYTHONPATH", None)
    env.pop("DISPLAY", None)
    where = subprocess.run(
        [str(python), "-c", "import app.paths, components.source_picker as s; print(app.paths.__file__); "
         "print(len(s.read_sample()))"],
        cwd=work, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    module_path, sample_rows = where.stdout.split()
    assert Path(module_path).is_relative_to(venv)
    assert sample_rows == "15", "the new-job form's sample must come from the installed package"

    port = free_port()
    env.update(BULKDASH_PORT=str(port), BULKDASH_WORKERS="1", PYTHONUNBUFFERED="1")
    log = work / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(venv / "bin" / "bulkdash"), "demo"], cwd=work, env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 120
            while "watch it:" not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10) as resp:
                assert resp.status == 200
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
    text = log.read_text(errors="replace")
    assert "started with 15 videos" in text, text
    assert code == 0, text
    assert (work / "data" / "bulkdash.db").is_file()  # the default data dir, below the working folder
