"""Time parse_upload on a generated 100,000-row, 6-column CSV against a bare csv.reader loop.

Run: .venv/bin/python bench/import_parse.py [rows]
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.sources.uploads import parse_upload

HEADER = "title,subtitle,script,style,voice,priority\n"
ROW = '"Video {i}",Subtitle {i},"Script for video {i}, with a comma.",modern,female,{p}\n'


def best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bare_reader(data: bytes) -> int:
    n = 0
    for _ in csv.reader(io.StringIO(data.decode("utf-8"), newline="")):
        n += 1
    return n


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        path.write_text(HEADER + "".join(ROW.format(i=i, p=i % 4) for i in range(rows)), encoding="utf-8")
        data = path.read_bytes()
    assert len(parse_upload(data, "bench.csv")) == rows
    parse_s = best_of(3, lambda: parse_upload(data, "bench.csv"))
    bare_s = best_of(3, lambda: bare_reader(data))
    print(f"{rows:,} rows x 6 columns, {len(data) / 1e6:.1f} MB (best of 3)")
    print(f"parse_upload     : {parse_s * 1000:7.1f} ms  {rows / parse_s:12,.0f} rows/s")
    print(f"bare csv.reader  : {bare_s * 1000:7.1f} ms  {rows / bare_s:12,.0f} rows/s")
    print(f"ratio            : {parse_s / bare_s:.2f}x the bare reader")


if __name__ == "__main__":
    main()
