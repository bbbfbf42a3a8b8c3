"""Bulk INSERT at the driver level: one prepared statement, one ``executemany``, no per-row SQL compilation.

SQLAlchemy's ``conn.execute(insert(table), rows)`` compiles and binds every row through its generic machinery,
which costs several times the insert itself for 100,000 rows. Here each column's bind processor (JSON,
datetime ...) of the connection's dialect is looked up once and applied per value, and the rows go to the
DB-API cursor's ``executemany`` as plain tuples, with the dialect's own placeholder style.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

_CHUNK = 5000


async def insert_many(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> None:
    """Inserts ``rows``; a key a row lacks takes its column's scalar default (as ``insert()`` would), else NULL."""
    dialect = conn.dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type._cached_bind_processor(dialect) for name in columns
    ]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({_placeholders(dialect.paramstyle, len(columns))})"
    defaults = [_scalar_default(table.c[name]) for name in columns]
    converted = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        get = row.get
        values = [get(name, default) for name, default in zip(columns, defaults, strict=True)]
        for i, proc in converted:
            if values[i] is not None:
                values[i] = proc(values[i])
        chunk.append(tuple(values))
        if len(chunk) >= _CHUNK:
            await conn.exec_driver_sql(sql, chunk)
            chunk = []
    if chunk:
        await conn.exec_driver_sql(sql, chunk)


def _scalar_default(column: Any) -> Any:
    default = column.default
    return default.arg if default is not None and default.is_scalar else None


def _placeholders(paramstyle: str, n: int) -> str:
    if paramstyle == "qmark":
        return ", ".join("?" * n)
    if paramstyle in ("numeric_dollar",):
        return ", ".join(f"${i}" for i in range(1, n + 1))
    if paramstyle in ("format", "pyformat"):
        return ", ".join(["%s"] * n)
    raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")
