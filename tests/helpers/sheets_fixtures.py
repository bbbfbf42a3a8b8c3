"""Google Sheets fixtures shared by the sources, api, services and e2e tests: a running emulator, a service
account registered at it, and settings / a container pointed at it.

Import the fixtures a test module (or conftest) uses: ``from tests.helpers.sheets_fixtures import emulator, ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.container import Bulkdash
from app.settings import Settings
from app.sources.sheets import RetryPolicy
from tests.conftest import make_settings
from tests.helpers.sheets_emulator import SheetsEmulator, write_service_account

#: Sheets retries for a whole process: short backoffs, a budget of a few seconds
FAST = RetryPolicy(budget_s=2.0, base_s=0.01, max_s=0.05)
UPLOAD_LIMIT = 256 * 1024


@pytest.fixture
def emulator() -> Iterator[SheetsEmulator]:
    """A Sheets API emulator on 127.0.0.1 at a free port, stopped after the test."""
    emu = SheetsEmulator().start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def account(tmp_path: Path, emulator: SheetsEmulator) -> dict[str, Any]:
    """A service account registered at the emulator (its JSON info; its ``token_uri`` is the emulator's)."""
    return write_service_account(tmp_path, emulator)[1]


@pytest.fixture
def settings(tmp_path: Path, emulator: SheetsEmulator) -> Settings:
    """Overrides the suite's settings: Sheets at the emulator, fast write-back, a small upload limit."""
    return make_settings(
        tmp_path, sheets_api_url=emulator.url, write_back_interval_s=0.05, upload_max_bytes=UPLOAD_LIMIT
    )


@pytest.fixture
def fast_sheets(container: Bulkdash) -> Bulkdash:
    """The container with short Sheets retry backoffs (the budgets stay a few seconds)."""
    assert container.sheets is not None
    container.sheets.connect_retry = container.sheets.read_retry = container.sheets.write_retry = FAST
    return container
