"""results.csv, streamed: one line per video in row order — the row's variables (every column seen, in
first-seen order), then ``state, error, output_url`` (CONTRACT §5).

The REST route and the browser download both stream :func:`stream_results`. Cells a spreadsheet would run as a
formula get a leading ``'`` (CSV injection). The videos are read twice, in batches (the header needs every
column), and the text goes out in chunks of about 64 KiB, so memory stays flat with 100k videos.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from app.domain.views import video_view

if TYPE_CHECKING:
    from app.services.jobs import JobService

RESULT_COLUMNS = ("state", "error", "output_url")
#: a spreadsheet would run a cell starting with one of these as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_CHARS = 64 * 1024


def escape_cell(value: Any) -> str:
    """The cell as text, with a leading ``'`` when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


async def stream_results(
    jobs: JobService, user: dict[str, Any], job_id: str, *, row_index: bool = False
) -> AsyncIterator[str]:
    """The CSV text in chunks; ``row_index=True`` adds the source row number as the first column.

    :raises NotFound: (before the first chunk) when ``user`` may not see the job.
    """
    columns: dict[str, None] = {}
    async for row in jobs.iter_videos(user, job_id, columns=("row_index", "variables")):  # the header's columns
        columns.update(dict.fromkeys(row.get("variables") or {}))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([escape_cell(c) for c in (*(["row_index"] if row_index else []), *columns, *RESULT_COLUMNS)])
    async for row in jobs.iter_videos(user, job_id):
        view = video_view(row)
        variables = view["variables"]
        error = (view["error"] or {}).get("message") or ""
        lead = [view["row_index"]] if row_index else []
        cells = [*lead, *(variables.get(c, "") for c in columns), view["state"], error, view["output_url"] or ""]
        writer.writerow([escape_cell(v) for v in cells])
        if buf.tell() >= CHUNK_CHARS:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
