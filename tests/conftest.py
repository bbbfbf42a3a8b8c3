"""Fixtures shared by the whole suite: settings on a temporary data dir, a started process, users.

The ``database_url`` fixture runs a test on SQLite and, when a PostgreSQL server answers on
127.0.0.1:5432 (database ``test``), on PostgreSQL too; without one that variant is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.container import Bulkdash, build
from app.settings import Settings

PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"
PG_URL = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{PG_DB}"


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=0.5):
            return True
    except OSError:
        return False


async def reset_postgres() -> None:
    """An empty ``public`` schema, so every PostgreSQL test starts from nothing."""
    import asyncpg

    conn = await asyncpg.connect(user="postgres", host=PG_HOST, port=PG_PORT, database=PG_DB)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: SQLite in tmp_path, or the machine's PostgreSQL emptied first."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bulkdash.db'}"
    if not postgres_reachable():
        pytest.skip(f"no PostgreSQL server on {PG_HOST}:{PG_PORT}; the PostgreSQL variant cannot run here")
    await reset_postgres()
    return PG_URL


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test: everything under tmp_path, fast ticks and short retries."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "workers": 2,
        "flush_interval_s": 0.01,
        "progress_interval_s": 0.05,
        "retry_base_s": 0.01,
        "retry_max_s": 0.05,
        "admin_token": "bd_test_admin_token",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Bulkdash]:
    """A started process (migrations applied, writer and workers running) on SQLite."""
    app = build(settings)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def admin(container: Bulkdash) -> dict[str, Any]:
    user = await container.users.authenticate(container.admin_token)
    assert user is not None
    return user


@pytest.fixture
async def alice(container: Bulkdash) -> dict[str, Any]:
    return await container.users.get_or_create_user("alice")


@pytest.fixture
async def bob(container: Bulkdash) -> dict[str, Any]:
    return await container.users.get_or_create_user("bob")


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.01) -> None:
    """Polls a cheap in-memory predicate (for conditions no event signals); fails after ``timeout``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
