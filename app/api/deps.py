"""Dependencies shared by the REST routers: the container, the bearer-token user, the admin check.

:func:`bind` (a dependency of the whole ``/api/v1`` router) puts the process's container on the request, so
these aliases work in any app that includes the router, without globals.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.container import Bulkdash
from app.services.tokens import TokenUsage

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`")


def unauthorized(detail: str = "missing or unknown token") -> HTTPException:
    """401 with the challenge header CONTRACT §3 requires."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def bind(container: Bulkdash, usage: TokenUsage):  # noqa: ANN201 - a dependency callable
    """The router-level dependency that makes ``container`` reachable from :data:`ContainerDep`."""

    def bind_container(request: Request) -> None:
        request.state.bulkdash = container
        request.state.bulkdash_usage = usage

    return bind_container


def get_container(request: Request) -> Bulkdash:
    return request.state.bulkdash


ContainerDep = Annotated[Bulkdash, Depends(get_container)]


async def current_user(
    container: ContainerDep,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    """The user behind ``Authorization: Bearer <token>``; 401 when the token is missing or unknown."""
    if credentials is None or not credentials.credentials:
        raise unauthorized()
    user = await container.auth.authenticate(credentials.credentials.strip())
    if user is None:
        raise unauthorized()
    await request.state.bulkdash_usage.used(user.get("token_id"))
    return user


CurrentUser = Annotated[dict[str, Any], Depends(current_user)]


async def admin_user(user: CurrentUser) -> dict[str, Any]:
    """The current user if it is an admin; 403 otherwise."""
    if not user.get("is_admin"):
        raise HTTPException(403, "only an admin token may manage tokens")
    return user


AdminUser = Annotated[dict[str, Any], Depends(admin_user)]
