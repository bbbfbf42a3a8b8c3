"""``POST /api/v1/tokens`` and ``GET /api/v1/tokens``: API tokens, for admin tokens only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.api.deps import AdminUser, ContainerDep
from app.api.errors import FORBIDDEN, INVALID, UNAUTHORIZED, error_responses
from app.api.paging import PageParams100
from app.domain.schemas import Page


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they are UTC (CONTRACT §4: times are ISO 8601 UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


UtcTime = Annotated[datetime, AfterValidator(_utc)]


class TokenCreate(BaseModel):
    """A token for user ``name`` (created when it does not exist yet)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "alice", "admin": False}]})

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
    admin: bool = Field(False, description="make a new user an admin (an existing user keeps its role)")


class TokenPublic(BaseModel):
    """A token as listed: never the secret, only its first characters."""

    id: str
    name: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    user: str
    is_admin: bool
    created_at: UtcTime
    last_used_at: UtcTime | None = None


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret: shown in this answer only, never again")


def tokens_router() -> APIRouter:
    """Mounted under ``/api/v1``."""
    router = APIRouter(prefix="/tokens", tags=["tokens"])
    responses = error_responses(UNAUTHORIZED, FORBIDDEN, INVALID)

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=TokenCreated,
        summary="Create a token",
        responses=responses,
    )
    async def create_token(body: TokenCreate, container: ContainerDep, admin: AdminUser) -> dict[str, Any]:
        """The answer carries the secret `token` once; store it, it cannot be shown again."""
        token, record = await container.auth.create_token(body.name, admin=body.admin)
        return {**record, "token": token}

    @router.get("", response_model=Page[TokenPublic], summary="List tokens", responses=responses)
    async def list_tokens(container: ContainerDep, admin: AdminUser, page: PageParams100) -> dict[str, Any]:
        """Every token, oldest first (secrets are stored hashed and never listed)."""
        return page.cut(await container.auth.list_tokens())

    return router
