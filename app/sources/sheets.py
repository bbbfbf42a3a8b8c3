"""Google Sheets through gspread v6, re-rooted at any Sheets-compatible API URL.

gspread is synchronous (requests); every call runs in ``asyncio.to_thread``. Retries sleep on the event loop,
not in a worker thread, so a backing-off client holds no thread.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.oauth2.service_account import Credentials as ServiceAccountCredentials
from gspread import urls as gspread_urls
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from app.sources.a1 import A1Range, cell_a1, parse_a1
from app.sources.table import SheetOrigin, SourceError, SourceTable, build_rows, check_header

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
# gspread builds every Sheets URL from this root; we swap it per client instead of patching gspread.urls.
_GOOGLE_ROOT = gspread_urls.SPREADSHEETS_API_V4_BASE_URL.removesuffix("/v4/spreadsheets")
_RETRYABLE = {429, 500, 502, 503, 504}
T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class SheetInfo:
    """What ``check_access`` learned: the spreadsheet title, the header of the range, the sheet names."""

    title: str
    columns: list[str]
    sheet_names: list[str]
    sheet_title: str  # the sheet the range is on


@dataclass(slots=True, frozen=True)
class CellUpdate:
    """One cell to write: sheet title, 1-based row and column, and the text."""

    sheet_title: str
    row: int
    column: int
    value: str

    @property
    def a1(self) -> str:
        return cell_a1(self.sheet_title, self.row, self.column)


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for 429/5xx, bounded by ``budget_s`` in total."""

    budget_s: float = 30.0
    base_s: float = 0.5
    max_s: float = 8.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_s, self.base_s * 2**attempt))


class _RootedHTTPClient(HTTPClient):
    """gspread's HTTP client, sending to ``api_root`` instead of sheets.googleapis.com; optional API key."""

    def __init__(self, auth: Any, session: requests.Session | None, api_root: str, api_key: str | None) -> None:
        super().__init__(auth, session)
        self._root = api_root.rstrip("/")
        self._api_key = api_key

    def request(self, method: str, endpoint: str, params: Any = None, **kwargs: Any) -> requests.Response:
        if endpoint.startswith(_GOOGLE_ROOT):
            endpoint = self._root + endpoint[len(_GOOGLE_ROOT) :]
        if self._api_key is not None:
            params = {**(params or {}), "key": self._api_key}
        return super().request(method, endpoint, params=params, **kwargs)


class SheetsClient:
    """Async access to one set of credentials against one Sheets API root.

    ``credentials`` is a service-account info dict (the JSON file's content) or an API key string
    (link-shared sheets only, read-only in practice).
    """

    def __init__(
        self,
        api_url: str,
        credentials: Mapping[str, Any] | str,
        *,
        retry: RetryPolicy | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.client_email: str | None = None
        if isinstance(credentials, str):
            self._http = _RootedHTTPClient(None, requests.Session(), self.api_url, credentials)
        else:
            try:
                creds = ServiceAccountCredentials.from_service_account_info(dict(credentials), scopes=SCOPES)
            except (ValueError, KeyError, TypeError) as exc:
                raise SourceError(f"the service-account JSON is not valid: {exc}", 400) from exc
            self.client_email = creds.service_account_email
            self._http = _RootedHTTPClient(creds, None, self.api_url, None)
        self._http.set_timeout(timeout_s)

    # ------------------------------------------------------------------------------------ public API

    async def check_access(self, sheet_id: str, range_: str | None = None) -> SheetInfo:
        """Read the metadata and the header row of ``range_``; raise SourceError if either fails."""
        meta = await self._call(sheet_id, range_, lambda: self._http.fetch_sheet_metadata(sheet_id))
        title = meta.get("properties", {}).get("title", "")
        names = [s.get("properties", {}).get("title", "") for s in meta.get("sheets", [])]
        rng = parse_a1(range_) if range_ else A1Range(names[0] if names else None)
        sheet_title = rng.sheet if rng.sheet is not None else (names[0] if names else "")
        if rng.sheet is not None and rng.sheet not in names:
            listed = ", ".join(repr(n) for n in names)
            raise SourceError(f"spreadsheet {sheet_id!r} has no sheet named {rng.sheet!r}; it has {listed}", 400)
        header_range, skip = rng.header_range()
        got = await self._call(sheet_id, header_range, lambda: self._values_get(sheet_id, header_range))
        values = got.get("values") or [[]]
        where = f"spreadsheet {sheet_id!r} range {range_ or sheet_title!r}"
        columns = check_header(values[0][skip:], where, rng.start_col)
        return SheetInfo(title, columns, names, sheet_title)

    async def read_range(self, sheet_id: str, range_: str, *, max_rows: int = 100_000) -> SourceTable:
        """Read ``range_`` with ONE values.get call; its first row is the header."""
        requested = parse_a1(range_)
        got = await self._call(sheet_id, range_, lambda: self._values_get(sheet_id, range_))
        try:
            answered = parse_a1(got.get("range", ""))
        except SourceError:
            answered = requested
        sheet_title = answered.sheet or requested.sheet or ""
        values: list[list[Any]] = got.get("values") or []
        where = f"spreadsheet {sheet_id!r} range {range_!r}"
        if not values or not any(values[0]):
            raise SourceError(f"{where}: the first row must be a header with column names, but it is empty")
        columns = check_header(values[0], where, answered.start_col)
        records = ([str(v) for v in rec] for rec in values[1:])
        rows = build_rows(columns, records, where, max_rows=max_rows, first_sheet_row=answered.start_row + 1)
        return SourceTable(columns, rows, SheetOrigin(sheet_title, answered.start_row, answered.start_col))

    async def batch_write(self, sheet_id: str, updates: list[CellUpdate]) -> None:
        """Write many cells with ONE values:batchUpdate call (RAW values)."""
        if not updates:
            return
        body = {"valueInputOption": "RAW", "data": [{"range": u.a1, "values": [[u.value]]} for u in updates]}
        await self._call(sheet_id, None, lambda: self._http.values_batch_update(sheet_id, body))

    # ---------------------------------------------------------------------------------------- internals

    def _values_get(self, sheet_id: str, range_: str) -> Any:
        return self._http.values_get(sheet_id, range_, params={"majorDimension": "ROWS"})

    async def _call(self, sheet_id: str, range_: str | None, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.retry.budget_s
        attempt = 0
        while True:
            try:
                return await asyncio.to_thread(fn)
            except (APIError, RefreshError, GoogleAuthError, requests.RequestException) as exc:
                error, retry_after = self._map_error(exc, sheet_id, range_)
            if error.status not in (429, 502):
                raise error
            delay = max(self.retry.delay(attempt), retry_after or 0.0)
            if time.monotonic() + delay > deadline:
                raise error
            attempt += 1
            await asyncio.sleep(delay)

    def _map_error(self, exc: Exception, sheet_id: str, range_: str | None) -> tuple[SourceError, float | None]:
        if isinstance(exc, APIError):
            return self._map_api_error(exc, sheet_id, range_)
        if isinstance(exc, RefreshError):
            detail = exc.args[0] if exc.args else str(exc)
            if getattr(exc, "retryable", False):
                return SourceError(f"Google sign-in is unavailable right now: {detail}", 502), None
            return SourceError(
                f"the Google credentials were rejected ({detail}); check the service-account JSON key", 401
            ), None
        if isinstance(exc, requests.RequestException | TransportError):
            return SourceError(f"cannot reach the Sheets API at {self.api_url}: {type(exc).__name__}", 502), None
        return SourceError(f"Google authentication failed: {exc}", 401), None

    def _map_api_error(self, exc: APIError, sheet_id: str, range_: str | None) -> tuple[SourceError, float | None]:
        status = exc.response.status_code
        message = _api_message(exc)
        if status == 404:
            return SourceError(f"spreadsheet {sheet_id!r} not found: check the id ({message})", 404), None
        if status == 403:
            if self.client_email:
                hint = f"share the sheet with {self.client_email} (Viewer to read, Editor to write back)"
            else:
                hint = "share the sheet as 'anyone with the link' or connect with a service account"
            return SourceError(f"no access to spreadsheet {sheet_id!r}: {hint} ({message})", 403), None
        if status == 401:
            return SourceError(f"the Sheets API rejected the credentials: {message}", 401), None
        if status == 400:
            if "API key" in message or "API_KEY" in message:
                return SourceError(f"the API key is not valid: {message}", 401), None
            what = f"range {range_!r}" if range_ else "the request"
            return SourceError(f"{what} is not valid for spreadsheet {sheet_id!r}: {message}", 400), None
        if status == 429:
            return (
                SourceError(f"the Sheets API rate limit was hit for spreadsheet {sheet_id!r}; try again later", 429),
                _retry_after(exc.response),
            )
        if status in _RETRYABLE:
            return (
                SourceError(f"the Sheets API failed with HTTP {status} for spreadsheet {sheet_id!r}: {message}", 502),
                _retry_after(exc.response),
            )
        return SourceError(f"the Sheets API answered HTTP {status} for {sheet_id!r}: {message}", 502), None


def _api_message(exc: APIError) -> str:
    try:
        return str(exc.response.json()["error"]["message"])
    except Exception:
        return exc.response.text[:200] or exc.response.reason or ""


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
