"""The results.csv streamer the REST route and the browser download share (:mod:`app.services.results`)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from app.services.results import CHUNK_CHARS, escape_cell, stream_results


class FakeJobs:
    """Stands in for the job service: ``rows`` videos, counting how often they are read."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.reads = 0
        self.asked: list[tuple[str, ...] | None] = []

    async def iter_videos(
        self, user: dict[str, Any], job_id: str, columns: tuple[str, ...] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        self.reads += 1
        self.asked.append(columns)
        for i in range(1, self.rows + 1):
            variables = {"title": f"video {i}", "note": "=1+1" if i == 1 else "x" * 40}
            if i == self.rows:
                variables["late"] = "only in the last row"
            row = {"id": f"vid_{i}", "job_id": job_id, "row_index": i, "title": f"video {i}", "state": "completed"}
            full = {**row, "variables": variables, "error": None, "output_path": None}
            yield {k: full[k] for k in columns} if columns else full


async def _text(jobs: FakeJobs, **options: Any) -> tuple[str, list[str]]:
    chunks = [chunk async for chunk in stream_results(jobs, {}, "job_1", **options)]  # type: ignore[arg-type]
    return "".join(chunks), chunks


async def test_every_column_escaped_in_chunks() -> None:
    jobs = FakeJobs(5000)
    text, chunks = await _text(jobs)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["title", "note", "late", "state", "error", "output_url"]
    assert table[1] == ["video 1", "'=1+1", "", "completed", "", ""]
    assert table[-1][2] == "only in the last row" and len(table) == 5001
    assert len(chunks) > 1 and all(len(c) < 2 * CHUNK_CHARS for c in chunks)  # streamed, never all at once
    assert jobs.reads == 2
    assert jobs.asked == [("row_index", "variables"), None]  # the header's pass reads only the variables


async def test_row_index_column_for_the_browser_download() -> None:
    text, _ = await _text(FakeJobs(2), row_index=True)
    assert text.splitlines()[:2] == ["row_index,title,note,late,state,error,output_url", "1,video 1,'=1+1,,completed,,"]


async def test_a_job_without_videos_is_the_header_only() -> None:
    text, _ = await _text(FakeJobs(0))
    assert text == "state,error,output_url\r\n"


def test_escape_cell() -> None:
    assert [escape_cell(v) for v in ("=a", "+a", "-1", "@a", "\ta", "\ra", "a=b", None, 3)] == [
        "'=a",
        "'+a",
        "'-1",
        "'@a",
        "'\ta",
        "'\ra",
        "a=b",
        "",
        "3",
    ]
