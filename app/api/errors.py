"""Maps service errors to HTTP answers (CONTRACT §4: JSON ``{"detail": ...}``) and documents them in OpenAPI."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.services.errors import Invalid, ServiceError


class ErrorDetail(BaseModel):
    """Every error answer but 422: a human-readable ``detail``."""

    detail: str


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationDetail(BaseModel):
    """422: one item per offending field, ``loc`` being its path (as FastAPI's own validation answers)."""

    detail: list[ValidationItem]


def _doc(description: str, model: type[BaseModel] = ErrorDetail, **extra: Any) -> dict[str, Any]:
    return {"model": model, "description": description, **extra}


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}
_CHALLENGE = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}

#: reusable ``responses=`` entries for the routes
UNAUTHORIZED = {401: _doc("Missing or unknown token", headers=_CHALLENGE)}
FORBIDDEN = {403: _doc("The token is not an admin token")}
NOT_FOUND = {404: _doc("No such object, or it belongs to another user")}
CONFLICT = {409: _doc("The move is illegal from the job's current state")}
INVALID = {422: _doc("Invalid request; `loc` is the field's path", ValidationDetail)}
TOO_LARGE = {413: _doc("The request body is too large")}
RATE_LIMITED = {429: _doc("Too many requests; retry after `Retry-After` seconds", headers=_RETRY_AFTER)}


def error_responses(*groups: dict[int, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Merges response documentation groups for a route's ``responses=``."""
    out: dict[int | str, dict[str, Any]] = {}
    for group in groups:
        out.update(group)
    return out


async def service_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """``NotFound`` → 404, ``Conflict`` → 409, ``Invalid`` → 422 (FastAPI's shape), ``TooLarge`` → 413."""
    assert isinstance(exc, ServiceError)
    if isinstance(exc, Invalid):
        loc = exc.loc or ["body"]
        item = {"loc": loc, "msg": exc.message, "type": "value_error"}
        return JSONResponse({"detail": [item]}, status_code=exc.status)
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, except that a NaN or Infinity the body carried is echoed as text: JSON cannot hold it, and
    the default handler answered such a body with a 500."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
