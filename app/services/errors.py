"""Service errors; the web edge maps them to HTTP status codes (and the UI to messages)."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, *, loc: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


class NotFound(ServiceError):
    """The object does not exist, or belongs to someone else (the two are indistinguishable)."""

    status = 404


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    """Bad input; ``loc`` is the path of the offending field, as in FastAPI's 422 answers."""

    status = 422


class TooLarge(ServiceError):
    status = 413
