"""The e2e tests' fixtures: the shared Sheets ones (:mod:`tests.helpers.sheets_fixtures`) and the app's clients."""

from tests.e2e.support import http  # noqa: F401 - fixture
from tests.helpers.sheets_fixtures import account, emulator, fast_sheets, settings  # noqa: F401 - fixtures
