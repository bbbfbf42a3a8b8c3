"""Write job results back to the sheet in batches: many ``add`` calls, at most one request per interval."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from app.sources.a1 import parse_a1
from app.sources.sheets import CellUpdate
from app.sources.table import SheetOrigin, SourceError, SourceTable, column_letter, column_number

log = logging.getLogger(__name__)
WRITE_BACK_KEYS = ("status_column", "output_column", "error_column")
_LETTERS = re.compile(r"^[A-Za-z]{1,3}$")


class CellWriter(Protocol):
    async def batch_write(self, sheet_id: str, updates: list[CellUpdate]) -> None: ...


def resolve_columns(mapping: Mapping[str, str | None], columns: Sequence[str], first_column: int = 1) -> dict[str, int]:
    """Map ``{"status_column": "Status", ...}`` to 1-based sheet columns; header names first, then letters.

    Raises SourceError (422) naming the key when a name is neither a header nor a column letter.
    """
    unknown = set(mapping) - set(WRITE_BACK_KEYS)
    if unknown:
        raise SourceError(f"write_back: unknown key(s) {sorted(unknown)}; use {', '.join(WRITE_BACK_KEYS)}")
    by_name = {c.strip().casefold(): i for i, c in enumerate(columns)}
    resolved: dict[str, int] = {}
    for key in WRITE_BACK_KEYS:
        name = (mapping.get(key) or "").strip()
        if not name:
            continue
        if name.casefold() in by_name:
            resolved[key] = first_column + by_name[name.casefold()]
        elif _LETTERS.match(name):
            resolved[key] = column_number(name)
        else:
            raise SourceError(
                f"write_back.{key}: no column named {name!r} in the header ({', '.join(columns)}); "
                "use a header name or a column letter such as F"
            )
    return resolved


def header_read_range(range_: str) -> str:
    """What to read to rebuild a batcher for ``range_`` without its data: the range's header row when A1
    notation can say so with the same origin (``Sheet1!A1:E1000`` → ``'Sheet1'!A1:E1``), else ``range_``
    itself (an open-ended range starting after column A, such as ``B5:1000``). Raises SourceError (400)."""
    rng = parse_a1(range_)
    if rng.end_col is None and rng.start_col > 1:
        return range_  # a whole-row header read would start at column A and shift the origin
    return rng.header_range()[0]


class WriteBackBatcher:
    """Collects per-row results of one job and writes them to the sheet in batches.

    ``add`` is synchronous and does no I/O, so the engine can call it from the event loop. ``run()`` sends
    at most one batchUpdate per ``interval_s``, of at most ``max_cells`` cells (a big backlog, such as a whole
    job's results queued again after a restart, goes out over several intervals); a failed write never raises:
    it is kept in ``last_error`` (retryable failures stay pending and are retried with backoff, others are
    dropped and counted).
    """

    def __init__(
        self,
        client: CellWriter,
        sheet_id: str,
        origin: SheetOrigin,
        columns: Sequence[str],
        mapping: Mapping[str, str | None],
        *,
        interval_s: float = 5.0,
        max_backoff_s: float = 60.0,
        max_cells: int = 10_000,
    ) -> None:
        self.client = client
        self.sheet_id = sheet_id
        self.origin = origin
        self.targets = resolve_columns(mapping, columns, origin.first_column)
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.max_cells = max(1, max_cells)
        self.last_error: str | None = None
        self.failures = 0  # failed requests
        self.dropped_cells = 0  # cells given up after a permanent failure
        self.batches_sent = 0
        self._pending: dict[tuple[int, int], str] = {}
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._stop = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._streak = 0  # consecutive failures, for backoff
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_table(
        cls,
        client: CellWriter,
        sheet_id: str,
        table: SourceTable,
        mapping: Mapping[str, str | None],
        **kw: float,
    ) -> WriteBackBatcher:
        """Build from a table read by ``SheetsClient.read_range`` (it carries the sheet origin)."""
        if table.origin is None:
            raise SourceError("write-back needs a table read from a Google Sheet")
        return cls(client, sheet_id, table.origin, table.columns, mapping, **kw)

    @property
    def pending(self) -> int:
        """Cells waiting to be written."""
        return len(self._pending)

    def describe_targets(self) -> dict[str, str]:
        """``{"status_column": "F", ...}``: where results go, for display."""
        return {k: column_letter(v) for k, v in self.targets.items()}

    def add(
        self,
        sheet_row: int,
        status: str | None = None,
        output_url: str | None = None,
        error: str | None = None,
    ) -> None:
        """Queue a row's result; later values for the same cell replace earlier ones.

        A status without an error clears the error cell, so a retried row does not keep a stale message.
        """
        targets = self.targets
        if error is None and status is not None:
            error = ""
        for key, value in (("status_column", status), ("output_column", output_url), ("error_column", error)):
            col = targets.get(key)
            if col is not None and value is not None:
                self._pending[(sheet_row, col)] = value
        if self._pending:
            self._idle.clear()
            self._wakeup.set()

    def add_row(
        self,
        row_index: int,
        status: str | None = None,
        output_url: str | None = None,
        error: str | None = None,
    ) -> None:
        """``add`` addressed by the 1-based data row index instead of the sheet row."""
        self.add(self.origin.sheet_row(row_index), status, output_url, error)

    def start(self) -> asyncio.Task[None]:
        """Run ``run()`` as a task owned by this batcher (``close()`` stops it)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"write-back {self.sheet_id}")
        return self._task

    async def run(self) -> None:
        """Flush whenever cells are pending, then pause ``interval_s`` (longer after failures)."""
        while not self._stop.is_set():
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._stop.is_set():
                break
            await self.flush()
            if self._pending:
                self._wakeup.set()  # retry leftovers after the pause
            pause = self.interval_s if self._streak == 0 else min(self.max_backoff_s, self.interval_s * 2**self._streak)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    async def flush(self) -> bool:
        """Send what is pending (the oldest ``max_cells`` cells) in one request now; True on success (or nothing
        to send). Never raises."""
        async with self._lock:
            if not self._pending:
                self._idle.set()
                return True
            if len(self._pending) <= self.max_cells:
                batch, self._pending = self._pending, {}
            else:
                batch = {key: self._pending.pop(key) for key in list(itertools.islice(self._pending, self.max_cells))}
            updates = [CellUpdate(self.origin.sheet_title, r, c, v) for (r, c), v in batch.items()]
            try:
                await self.client.batch_write(self.sheet_id, updates)
            except asyncio.CancelledError:
                self._restore(batch)
                raise
            except Exception as exc:  # a write-back failure must never reach the job
                self._record_failure(exc, batch)
                return False
            else:
                self.batches_sent += 1
                self._streak = 0
                self.last_error = None
                return True
            finally:
                if not self._pending:
                    self._idle.set()

    async def wait_idle(self) -> None:
        """Wait until nothing is pending (after a success or a permanent failure)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop ``run()`` and flush what is left (one last attempt; a backlog bigger than ``max_cells`` goes out
        in as many requests as it takes, until one fails)."""
        self._stop.set()
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while await self.flush() and self._pending:
            pass

    def _record_failure(self, exc: Exception, batch: dict[tuple[int, int], str]) -> None:
        self.failures += 1
        self._streak += 1
        retryable = isinstance(exc, SourceError) and exc.status in (429, 502)
        self.last_error = f"write-back to spreadsheet {self.sheet_id!r} failed: {exc}"
        if retryable:
            self._restore(batch)
        else:
            self.dropped_cells += len(batch)
        log.warning("%s (%s)", self.last_error, "will retry" if retryable else f"{len(batch)} cells dropped")

    def _restore(self, batch: dict[tuple[int, int], str]) -> None:
        for key, value in batch.items():
            self._pending.setdefault(key, value)  # values added meanwhile are newer
