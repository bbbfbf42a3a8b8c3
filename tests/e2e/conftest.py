"""The e2e tests' fixtures (defined in :mod:`tests.e2e.support`, which other test folders import too)."""

from tests.e2e.support import account, emulator, fast_sheets, http, settings  # noqa: F401 - fixtures
