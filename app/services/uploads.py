"""Uploaded CSV/XLSX files: stored under ``<uploads_dir>/<upload_id>/``, parsed once, read back for jobs."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any

from app.domain.events import iso
from app.domain.tables import utcnow
from app.ids import new_id
from app.services.errors import Invalid, TooLarge
from app.services.sources import service_error, table_rows
from app.sources.table import SourceError
from app.sources.uploads import parse_upload
from app.store.sources import SourceStore

Rows = list[tuple[int, int | None, dict[str, str]]]
_META = ".bulkdash-upload.json"  # sanitized names never start with a dot, so this cannot collide
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def safe_filename(name: str | None, fallback: str = "upload.csv") -> str:
    """A plain basename: no directories, no leading dots, no control or shell characters, at most 100 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 99 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:100]
    return base or fallback


class UploadService:
    """``create`` stores and parses a file; ``load_rows`` is the job service's ``load_upload``."""

    def __init__(
        self,
        store: SourceStore,
        data_dir: Path,
        uploads_dir: Path,
        *,
        max_bytes: int,
        max_rows: int,
        cache_rows: int = 200_000,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.uploads_dir = uploads_dir
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        #: the rows of recent uploads, so a job created right after its upload does not parse the file again
        self.cache_rows = cache_rows
        self._cache: OrderedDict[str, Rows] = OrderedDict()

    async def create(
        self, user: dict[str, Any], filename: str | None, data: bytes, sheet_name: str | None = None
    ) -> dict[str, Any]:
        """Parses ``data`` (CSV or XLSX, first row the header), keeps the file, answers ``{id, filename, rows,
        columns, created_at}``. Raises TooLarge (413) or Invalid (422) with the reason."""
        name = safe_filename(filename)
        self.check_size(name, len(data))
        try:
            table = await asyncio.to_thread(
                parse_upload, data, name, sheet_name=sheet_name, max_rows=self.max_rows, max_bytes=self.max_bytes
            )
        except SourceError as exc:
            if exc.status == 404:  # no such worksheet
                raise Invalid(exc.message, loc=["body", "sheet_name"]) from exc
            raise service_error(exc, ["body", "file"]) from exc
        if not table.rows:
            raise Invalid(f"{name}: the file has a header but no data rows", loc=["body", "file"])
        upload_id = new_id("upl")
        path = await asyncio.to_thread(self._save, upload_id, name, data, sheet_name)
        row = {
            "id": upload_id,
            "owner_id": user["id"],
            "filename": name,
            "rows": len(table.rows),
            "columns": table.columns,
            "path": path,
            "created_at": utcnow(),
        }
        await self.store.add_upload(row)
        self._remember(upload_id, table_rows(table))
        return upload_view(row)

    def check_size(self, filename: str | None, size: int | None) -> None:
        """Raises TooLarge (413) when a file of ``size`` bytes is over the limit (``None``: over it, size
        unknown), so a caller can refuse a file before reading it whole."""
        name = safe_filename(filename)
        if size is None:
            raise TooLarge(f"{name}: over the {self.max_bytes:,}-byte upload limit")
        if size > self.max_bytes:
            raise TooLarge(f"{name}: {size:,} bytes is over the {self.max_bytes:,}-byte upload limit")

    async def get(self, user: dict[str, Any], upload_id: str) -> dict[str, Any] | None:
        """The user's upload (an admin's: any), or ``None``."""
        row = await self.store.get_upload(upload_id, None if user.get("is_admin") else user["id"])
        return upload_view(row) if row else None

    async def load_rows(self, user: dict[str, Any], source: dict[str, Any]) -> Rows:
        """The rows of ``source["upload_id"]``; an unknown or foreign upload is a 422 on that field."""
        upload_id = source["upload_id"]
        loc = ["body", "input_source", "upload_id"]
        row = await self.store.get_upload(upload_id, None if user.get("is_admin") else user["id"])
        if row is None:
            raise Invalid(f"upload {upload_id} not found", loc=loc)
        cached = self._cache.get(upload_id)
        if cached is not None:
            self._cache.move_to_end(upload_id)
            return cached
        try:
            table = await asyncio.to_thread(self._parse_stored, row)
        except FileNotFoundError as exc:
            raise Invalid(f"the file of upload {upload_id} is gone from the server; upload it again", loc=loc) from exc
        except SourceError as exc:
            raise service_error(exc, loc) from exc
        rows = table_rows(table)
        self._remember(upload_id, rows)
        return rows

    # -- internals ------------------------------------------------------------------------------------------
    def _save(self, upload_id: str, name: str, data: bytes, sheet_name: str | None) -> str:
        folder = self.uploads_dir / upload_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if target.resolve().parent != folder.resolve():  # cannot happen with safe_filename; belt and braces
            raise Invalid("bad file name", loc=["body", "file"])
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(target)
        (folder / _META).write_text(json.dumps({"sheet_name": sheet_name}))
        try:
            return str(target.relative_to(self.data_dir))
        except ValueError:
            return str(target)

    def _parse_stored(self, row: dict[str, Any]) -> Any:
        path = Path(row["path"])
        if not path.is_absolute():
            path = self.data_dir / path
        meta_file = path.parent / _META
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        return parse_upload(
            path.read_bytes(),
            row["filename"],
            sheet_name=meta.get("sheet_name"),
            max_rows=self.max_rows,
            max_bytes=max(self.max_bytes, path.stat().st_size),
        )

    def _remember(self, upload_id: str, rows: Rows) -> None:
        if len(rows) > self.cache_rows:
            return
        self._cache[upload_id] = rows
        while sum(len(r) for r in self._cache.values()) > self.cache_rows:
            self._cache.popitem(last=False)


def upload_view(row: dict[str, Any]) -> dict[str, Any]:
    """The public shape of an upload (CONTRACT §5: ``{id, filename, rows, columns}``, plus ``created_at``)."""
    return {
        "id": row["id"],
        "filename": row["filename"],
        "rows": row["rows"],
        "columns": list(row["columns"]),
        "created_at": iso(row["created_at"]),
    }
