"""A small real HTTP server that speaks the parts of the Google Sheets API v4 (and OAuth token endpoint)
that bulkdash calls. Start it, point ``api_url`` and a service account's ``token_uri`` at it.

In-memory spreadsheets, a call log, fault injection, per-sheet sharing (service-account emails, API key).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    time: float
    status: int = 0
    body: Any = None


@dataclass
class Fault:
    path_substring: str
    status: int
    count: int
    retry_after: float | None = None


@dataclass
class Spreadsheet:
    id: str
    title: str
    sheets: dict[str, list[list[str]]]
    allowed_emails: set[str] = field(default_factory=set)
    api_key: str | None = None


class SheetsEmulator:
    """Thread-safe in-memory Sheets API; ``start()`` serves it on 127.0.0.1 at a free port."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.public_keys: dict[str, Any] = {}  # client_email -> RSA public key
        self.tokens: dict[str, str] = {}  # access token -> client_email
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------ set-up API

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the emulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def start(self) -> SheetsEmulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="sheets-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add_sheet(
        self,
        id: str,
        title: str,
        rows: list[list[Any]],
        *,
        sheet_name: str = "Sheet1",
        allowed_emails: tuple[str, ...] | list[str] = (),
        api_key: str | None = None,
        extra_sheets: dict[str, list[list[Any]]] | None = None,
    ) -> Spreadsheet:
        """Add a spreadsheet; ``rows`` fill ``sheet_name`` from A1. Shared with ``allowed_emails`` and/or
        readable by anyone holding ``api_key`` ("anyone with the link")."""
        sheets = {sheet_name: [[_s(v) for v in row] for row in rows]}
        for name, extra in (extra_sheets or {}).items():
            sheets[name] = [[_s(v) for v in row] for row in extra]
        sheet = Spreadsheet(id, title, sheets, set(allowed_emails), api_key)
        with self.lock:
            self.spreadsheets[id] = sheet
        return sheet

    def register_service_account(self, email: str, public_key: Any) -> None:
        with self.lock:
            self.public_keys[email] = public_key

    def fail_next(self, path_substring: str, status: int, count: int = 1, retry_after: float | None = None) -> None:
        """The next ``count`` requests whose path contains ``path_substring`` answer ``status``."""
        with self.lock:
            self.faults.append(Fault(path_substring, status, count, retry_after))

    def value(self, id: str, a1: str, sheet: str | None = None) -> str:
        """The text in one cell (``""`` when empty), for assertions."""
        book = self.spreadsheets[id]
        grid = book.sheets[sheet or next(iter(book.sheets))]
        col, row = _cell(a1)
        if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
            return grid[row - 1][col - 1]
        return ""

    def count(self, method: str | None = None, contains: str = "") -> int:
        """How many logged calls match ``method`` and contain ``contains`` in the path."""
        with self.lock:
            return sum(1 for c in self.calls if (method is None or c.method == method) and contains in c.path)

    # --------------------------------------------------------------------------------- request logic

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        call = Call(method, path, query, time.monotonic())
        with self.lock:
            self.calls.append(call)
            fault = next((f for f in self.faults if f.count > 0 and f.path_substring in path), None)
            if fault is not None:
                fault.count -= 1
        if fault is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            call.status = fault.status
            return fault.status, extra, _error(fault.status, "injected fault")
        status, payload = self._route(method, path, query, headers, body, call)
        call.status = status
        return status, {}, payload

    def _route(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes, call: Call):
        if path == "/token" and method == "POST":
            return self._token(body)
        m = re.match(r"^/v4/spreadsheets/([^/]+)(/.*)?$", path)
        if not m:
            return 404, _error(404, f"no route for {path}")
        book_id, rest = m.group(1), m.group(2) or ""
        with self.lock:
            book = self.spreadsheets.get(book_id)
        denied = self._authorize(book, query, headers, write=(method == "POST"))
        if denied:
            return denied
        assert book is not None
        if method == "GET" and rest == "":
            return 200, _metadata(book)
        if method == "GET" and rest.startswith("/values/"):
            return self._values_get(book, rest[len("/values/") :], query)
        if method == "POST" and rest == "/values:batchUpdate":
            call.body = json.loads(body or b"{}")
            return self._batch_update(book, call.body)
        return 404, _error(404, f"no route for {method} {path}")

    def _authorize(self, book: Spreadsheet | None, query: dict[str, list[str]], headers: Any, write: bool):
        key = (query.get("key") or [None])[0] or headers.get("x-goog-api-key")
        auth = headers.get("Authorization", "")
        if key is not None:
            known = {b.api_key for b in self.spreadsheets.values() if b.api_key}
            if key not in known:
                return 400, _error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
            if book is None:
                return 404, _error(404, "Requested entity was not found.", "NOT_FOUND")
            if book.api_key != key or write:
                return 403, _error(403, "The caller does not have permission", "PERMISSION_DENIED")
            return None
        if not auth.startswith("Bearer "):
            return 403, _error(403, "The request is missing a valid API key.", "PERMISSION_DENIED")
        email = self.tokens.get(auth[len("Bearer ") :])
        if email is None:
            return 401, _error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        if book is None:
            return 404, _error(404, "Requested entity was not found.", "NOT_FOUND")
        if email not in book.allowed_emails:
            return 403, _error(403, "The caller does not have permission", "PERMISSION_DENIED")
        return None

    def _token(self, body: bytes) -> tuple[int, Any]:
        form = parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type"}
        assertion = (form.get("assertion") or [""])[0]
        try:
            head_b64, claims_b64, sig_b64 = assertion.split(".")
            claims = json.loads(_b64(claims_b64))
            key = self.public_keys[claims["iss"]]
            key.verify(_b64(sig_b64), f"{head_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, KeyError, InvalidSignature):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        token = "emu-" + secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[token] = claims["iss"]
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _values_get(self, book: Spreadsheet, a1: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if query.get("majorDimension", ["ROWS"]) != ["ROWS"]:
            return 400, _error(400, "only majorDimension=ROWS is emulated")
        try:
            sheet, c1, r1, c2, r2 = self._parse_range(book, a1)
        except ValueError as exc:
            return 400, _error(400, f"Unable to parse range: {a1} ({exc})", "INVALID_ARGUMENT")
        grid = book.sheets[sheet]
        r2 = r2 or max(len(grid), r1)
        c2 = c2 or max((len(r) for r in grid), default=c1)
        values = [[*row[c1 - 1 : c2]] for row in grid[r1 - 1 : r2]]
        for row in values:
            while row and row[-1] == "":
                row.pop()
        while values and not values[-1]:
            values.pop()
        answer: dict[str, Any] = {
            "range": f"{_quote(sheet)}!{_letters(c1)}{r1}:{_letters(c2)}{r2}",
            "majorDimension": "ROWS",
        }
        if values:
            answer["values"] = values
        return 200, answer

    def _batch_update(self, book: Spreadsheet, body: dict[str, Any]) -> tuple[int, Any]:
        total = 0
        with self.lock:
            for item in body.get("data", []):
                try:
                    sheet, c1, r1, _, _ = self._parse_range(book, item["range"])
                except ValueError as exc:
                    return 400, _error(400, f"Unable to parse range: {item['range']} ({exc})", "INVALID_ARGUMENT")
                grid = book.sheets[sheet]
                for dr, row in enumerate(item.get("values", [])):
                    for dc, value in enumerate(row):
                        r, c = r1 + dr, c1 + dc
                        while len(grid) < r:
                            grid.append([])
                        line = grid[r - 1]
                        while len(line) < c:
                            line.append("")
                        line[c - 1] = _s(value)
                        total += 1
        return 200, {"spreadsheetId": book.id, "totalUpdatedCells": total, "responses": []}

    @staticmethod
    def _parse_range(book: Spreadsheet, a1: str) -> tuple[str, int, int, int | None, int | None]:
        sheet = next(iter(book.sheets))
        cells = a1
        if "!" in a1:
            name, cells = a1.rsplit("!", 1)
            sheet = name[1:-1].replace("''", "'") if name.startswith("'") else name
        elif a1.strip("'") in book.sheets:
            return a1.strip("'"), 1, 1, None, None
        if sheet not in book.sheets:
            raise ValueError(f"no sheet named {sheet!r}")
        parts = cells.split(":")
        matches = [_CELL.match(p) for p in parts]
        if len(parts) > 2 or not parts[0] or any(m is None for m in matches):
            raise ValueError("bad A1 notation")
        (l1, n1), (l2, n2) = (m.groups() for m in (matches[0], matches[-1]))  # type: ignore[union-attr]
        return (
            sheet,
            _number(l1) if l1 else 1,
            int(n1) if n1 else 1,
            _number(l2) or None,
            int(n2) if n2 else None,
        )


class _Handler(BaseHTTPRequestHandler):
    emu: SheetsEmulator
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, extra, payload = self.emu.handle(self.command, self.path, self.headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


# ---------------------------------------------------------------------------------------- helpers


def write_service_account(
    directory: Path,
    emulator: SheetsEmulator,
    email: str = "bot@bulkdash-test.iam.gserviceaccount.com",
    *,
    register: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Write a service-account JSON with ``token_uri`` at the emulator; register its key unless told not."""
    key = _rsa_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "bulkdash-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": "1234567890",
        "auth_uri": f"{emulator.url}/auth",
        "token_uri": emulator.token_uri,
    }
    if register:
        emulator.register_service_account(email, key.public_key())
    path = directory / f"{email.split('@')[0]}.json"
    path.write_text(json.dumps(info))
    return path, info


_KEYS: list[Any] = []


def _rsa_key() -> Any:
    # RSA generation costs ~50 ms; a few keys reused across the session keep tests fast.
    if len(_KEYS) < 3:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _KEYS[-1]
    return _KEYS[secrets.randbelow(len(_KEYS))]


def _error(code: int, message: str, status: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status or "ERROR"}}


def _metadata(book: Spreadsheet) -> dict[str, Any]:
    return {
        "spreadsheetId": book.id,
        "properties": {"title": book.title, "locale": "en_US"},
        "sheets": [
            {
                "properties": {
                    "sheetId": i,
                    "title": name,
                    "index": i,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": max(1000, len(grid)), "columnCount": 26},
                }
            }
            for i, (name, grid) in enumerate(book.sheets.items())
        ],
    }


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _letters(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(a1: str) -> tuple[int, int]:
    m = _CELL.match(a1)
    if m is None:
        raise ValueError(a1)
    return _number(m.group(1)), int(m.group(2))
