"""Fixtures for the sources tests: a running Sheets emulator, a service account registered at it, clients.

The emulator and the account are the shared :mod:`tests.helpers.sheets_fixtures`; here they also go by the
names these tests use (``sheets_emulator``, ``service_account``).
"""

# ruff: noqa: F811 - the imported fixtures are fixture parameters here

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Until the project root is on pytest's path (tests/__init__.py or `pythonpath = ["."]`), put it there.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from app.sources.sheets import RetryPolicy, SheetsClient  # noqa: E402
from tests.helpers.sheets_emulator import SheetsEmulator  # noqa: E402
from tests.helpers.sheets_fixtures import account, emulator  # noqa: E402, F401 - fixtures

#: one client's retries: a budget short enough for tests that wait it out
FAST_RETRY = RetryPolicy(budget_s=0.5, base_s=0.01, max_s=0.05)


@pytest.fixture
def sheets_emulator(emulator: SheetsEmulator) -> SheetsEmulator:
    """The shared ``emulator`` fixture."""
    return emulator


@pytest.fixture
def service_account(account: dict[str, Any]) -> dict[str, Any]:
    """The shared ``account`` fixture: a registered service account's JSON info."""
    return account


@pytest.fixture
def sheets_client(sheets_emulator: SheetsEmulator, service_account: dict[str, Any]) -> SheetsClient:
    """A SheetsClient using the service account against the emulator, with fast retries."""
    return SheetsClient(sheets_emulator.url, service_account, retry=FAST_RETRY, timeout_s=5)


@pytest.fixture
def make_client(sheets_emulator: SheetsEmulator) -> Callable[..., SheetsClient]:
    def make(credentials: dict[str, Any] | str, retry: RetryPolicy = FAST_RETRY) -> SheetsClient:
        return SheetsClient(sheets_emulator.url, credentials, retry=retry, timeout_s=5)

    return make
