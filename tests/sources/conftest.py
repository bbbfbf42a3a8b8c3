"""Fixtures for the sources tests: a running Sheets emulator and service-account files pointing at it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Until the project root is on pytest's path (tests/__init__.py or `pythonpath = ["."]`), put it there.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from app.sources.sheets import RetryPolicy, SheetsClient  # noqa: E402
from tests.helpers.sheets_emulator import SheetsEmulator, write_service_account  # noqa: E402

FAST_RETRY = RetryPolicy(budget_s=0.5, base_s=0.01, max_s=0.05)


@pytest.fixture
def sheets_emulator() -> Iterator[SheetsEmulator]:
    """A Sheets API emulator on 127.0.0.1 at a free port, stopped after the test."""
    emulator = SheetsEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def service_account(tmp_path: Path, sheets_emulator: SheetsEmulator) -> dict[str, Any]:
    """A registered service account's JSON info (its token_uri is the emulator's)."""
    return write_service_account(tmp_path, sheets_emulator)[1]


@pytest.fixture
def sheets_client(sheets_emulator: SheetsEmulator, service_account: dict[str, Any]) -> SheetsClient:
    """A SheetsClient using the service account against the emulator, with fast retries."""
    return SheetsClient(sheets_emulator.url, service_account, retry=FAST_RETRY, timeout_s=5)


@pytest.fixture
def make_client(sheets_emulator: SheetsEmulator) -> Callable[..., SheetsClient]:
    def make(credentials: dict[str, Any] | str, retry: RetryPolicy = FAST_RETRY) -> SheetsClient:
        return SheetsClient(sheets_emulator.url, credentials, retry=retry, timeout_s=5)

    return make
