"""What the sheet and upload services share: turning a source's error into a service error, rows into
the job service's ``(row_index, source_row, values)`` tuples."""

from __future__ import annotations

from typing import Any

from app.services.errors import Invalid, NotFound, ServiceError, TooLarge
from app.sources.table import SourceError, SourceTable


class SourceFailed(ServiceError):
    """A source answered with a problem that is not the request's shape (401, 403, 429, 502, ...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def service_error(exc: SourceError, loc: list[Any]) -> ServiceError:
    """The service error for ``exc``, keeping its message and its HTTP status hint."""
    if exc.status == 422:
        return Invalid(exc.message, loc=loc)
    if exc.status == 413:
        return TooLarge(exc.message)
    if exc.status == 404:
        return NotFound(exc.message)
    return SourceFailed(exc.message, exc.status)


def table_rows(table: SourceTable) -> list[tuple[int, int | None, dict[str, str]]]:
    """The job service's rows of a table."""
    return [(r.row_index, r.sheet_row, r.values) for r in table.rows]
