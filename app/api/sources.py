"""Sources: ``POST /sheets/connect``, ``GET /sheets/connections``, ``POST /uploads`` (CONTRACT §5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import INVALID, TOO_LARGE, UNAUTHORIZED, ErrorDetail, error_responses
from app.api.paging import PageParams
from app.domain.schemas import Page
from app.services.errors import Invalid, ServiceError

_SOURCE_FAILED: dict[int, dict[str, Any]] = {
    code: {"model": ErrorDetail, "description": text}
    for code, text in (
        (401, "The Google credentials were rejected"),
        (403, "No access to the sheet (the message names the account to share it with)"),
        (404, "No such spreadsheet"),
        (429, "The Sheets API rate limit was hit"),
        (502, "The Sheets API failed or cannot be reached"),
    )
}
_CHUNK = 1024 * 1024


class SheetConnect(BaseModel):
    """A spreadsheet to connect, with the credentials to read it (kept encrypted, never returned)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sheet_id": "1A2B3C4D5E6F7G8H9I0J", "range": "Sheet1!A1:Z1000"}]},
    )

    sheet_id: str = Field(min_length=1, max_length=200)
    range: str | None = Field(None, max_length=200, description="A1 range; its first row is the header")
    title: str | None = Field(None, max_length=300, description="default: the spreadsheet's title")
    service_account: dict[str, Any] | None = Field(None, description="the service-account JSON key file's content")
    api_key: str | None = Field(None, max_length=200, description="an API key, for sheets shared by link")


class SheetConnectionPublic(BaseModel):
    id: str
    sheet_id: str
    title: str
    range: str | None
    columns: list[str]
    created_at: str


class UploadPublic(BaseModel):
    id: str
    filename: str
    rows: int
    columns: list[str]
    created_at: str | None = None


def sources_router() -> APIRouter:
    """Mounted under ``/api/v1``."""
    router = APIRouter(tags=["sources"])

    @router.post(
        "/sheets/connect",
        status_code=status.HTTP_201_CREATED,
        response_model=SheetConnectionPublic,
        summary="Connect a Google Sheet",
        responses=error_responses(UNAUTHORIZED, INVALID, _SOURCE_FAILED),
    )
    async def connect_sheet(body: SheetConnect, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        """Checks access at once (reads the metadata and the header row) and stores the connection. Without
        credentials the server's `BULKDASH_GOOGLE_CREDENTIALS` are used; without those either → 422."""
        sheets = _sheets(container)
        return await sheets.connect(user, body.sheet_id, body.range, body.title, body.service_account, body.api_key)

    @router.get(
        "/sheets/connections",
        response_model=Page[SheetConnectionPublic],
        summary="List sheet connections",
        responses=error_responses(UNAUTHORIZED, INVALID),
    )
    async def list_connections(container: ContainerDep, user: CurrentUser, page: PageParams) -> dict[str, Any]:
        """The caller's connections, newest first."""
        items, total = await _sheets(container).page(user, limit=page.limit, offset=page.offset)
        return page.of(items, total)

    @router.post(
        "/uploads",
        status_code=status.HTTP_201_CREATED,
        response_model=UploadPublic,
        summary="Upload a CSV or XLSX file",
        responses=error_responses(UNAUTHORIZED, TOO_LARGE, INVALID),
    )
    async def upload(
        container: ContainerDep,
        user: CurrentUser,
        file: Annotated[UploadFile, File(description="a CSV (any common delimiter) or XLSX file; row 1 = header")],
        sheet_name: Annotated[str | None, Form(max_length=200, description="XLSX: the worksheet to read")] = None,
    ) -> dict[str, Any]:
        """Stores and parses the file; use its `id` as `input_source: {"type": "upload", "upload_id"}`."""
        uploads = container.uploads
        if uploads is None:
            raise ServiceError("uploads are not configured on this server")
        data = await _read_limited(file, uploads)
        return await uploads.create(user, file.filename, data, sheet_name or None)

    return router


def _sheets(container: Any) -> Any:
    if container.sheets is None:
        raise Invalid("Google Sheets are not configured on this server")
    return container.sheets


async def _read_limited(file: UploadFile, uploads: Any) -> bytes:
    """The file's bytes; 413 as soon as it is known to be larger than the upload limit."""
    if file.size is not None:
        uploads.check_size(file.filename, file.size)
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > uploads.max_bytes:
            uploads.check_size(file.filename, None)
        chunks.append(chunk)
    return b"".join(chunks)
