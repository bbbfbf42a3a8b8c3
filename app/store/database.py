"""Async engines for SQLite (default) and PostgreSQL, with the SQLite settings that keep one writer fast."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)
#: page cache per connection, in KiB, held for as long as the connection lives: the one writer keeps a large
#: one (its batched commits touch many index pages); each of the up to eight readers a smaller one, since the
#: OS page cache serves re-reads of the WAL-mode file anyway and eight 32 MiB caches stay resident after load
WRITER_CACHE_KIB = 32_000
READER_CACHE_KIB = 8_000


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


#: JSON columns through orjson: a 100,000-row job stores 100,000 ``variables`` documents (and as many events)
_JSON: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


class Database:
    """Two engines over one database URL.

    On SQLite the *writer* engine has a single connection whose transactions start with ``BEGIN IMMEDIATE``
    (a read-then-write transaction never fails half-way with "database is locked"), and the *reader* engine
    has a small pool of connections that read a WAL snapshot without blocking the writer. On PostgreSQL both
    are ordinary pools.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            self.writer = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0, **_JSON)
            self.reader = create_async_engine(url, echo=echo, pool_size=4, max_overflow=4, **_JSON)
            _configure_sqlite(self.writer, begin="BEGIN IMMEDIATE", cache_kib=WRITER_CACHE_KIB)
            _configure_sqlite(self.reader, begin="BEGIN", cache_kib=READER_CACHE_KIB)
        else:
            self.writer = create_async_engine(url, echo=echo, pool_size=4, max_overflow=4, pool_pre_ping=True, **_JSON)
            self.reader = self.writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction (committed on success, rolled back on error)."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot."""
        async with self.reader.connect() as conn:
            yield conn

    async def close(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, *, begin: str, cache_kib: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, so that our BEGIN is the one that runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (*_SQLITE_PRAGMAS, f"PRAGMA cache_size=-{cache_kib}"):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
