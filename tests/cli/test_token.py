"""``bulkdash token create`` / ``token list``: offline token management on the data dir's database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import ROOT, free_port, process_env


def bulkdash(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = process_env(data_dir, free_port(), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_create_prints_the_secret_once_and_list_shows_its_prefix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = bulkdash(data, "token", "create", "alice")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret and "\n" not in secret
    assert "token for user 'alice'" in created.stderr and "(admin)" not in created.stderr

    admin = bulkdash(data, "token", "create", "root", "--admin")
    assert admin.returncode == 0 and "(admin)" in admin.stderr

    listed = bulkdash(data, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert "alice" in listed.stdout and "root" in listed.stdout and "admin" in listed.stdout
    assert secret not in listed.stdout  # never the secret part
