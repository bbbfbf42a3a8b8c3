"""Property-based run of the whole OpenAPI schema (schemathesis): no 5xx, every answer matches the schema.

schemathesis calls ASGI apps from its own event-loop thread, so the process under test is started by the
app's lifespan in that loop (the ``container`` fixture's loop would be the wrong one), without workers:
fuzzed jobs stay ``pending`` instead of rendering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api.limits import Limits
from app.api.router import install
from app.container import build
from tests.conftest import make_settings
from tests.helpers.sheets_emulator import SheetsEmulator

ADMIN_TOKEN = "bd_test_admin_token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MAX_EXAMPLES = 25
#: a schema-valid create body may still be refused with 422 for what JSON Schema cannot say (the template
#: exists, its overrides make sense, sheets are configured on this server, the row cap), so "valid data is
#: accepted" does not hold for this API; every other check runs
EXCLUDED = [positive_data_acceptance]


def make_app(tmp: Path, sheets_api_url: str) -> FastAPI:
    # /sheets/connect really calls the Sheets API: give it the local emulator, never the internet
    container = build(make_settings(tmp, sheets_api_url=sheets_api_url))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await container.start(workers=0)
        try:
            yield
        finally:
            await container.stop()

    app = FastAPI(lifespan=lifespan)
    install(app, container, Limits(max_body_bytes=256 * 1024, create_rate_per_min=60_000, create_burst=10_000))
    return app


@pytest.fixture
def fuzzed_schema(tmp_path: Path) -> Iterator[BaseSchema]:
    emulator = SheetsEmulator().start()
    app = make_app(tmp_path, emulator.url)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
        asgi.shutdown_lifespans()  # stops the container while its folder still exists
    finally:
        emulator.stop()


def test_every_operation_keeps_to_its_schema(fuzzed_schema: BaseSchema) -> None:
    """Each operation gets ``MAX_EXAMPLES`` generated requests with the admin token; all failures are reported.

    (schemathesis' own ``from_fixture`` parametrization does not run under pytest 9, hence the loop.)"""
    failures: list[str] = []
    operations = [result.ok() for result in fuzzed_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=AUTH, excluded_checks=EXCLUDED)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
