"""The progress object of CONTRACT §4, computed from counts and recent completions."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from app.domain.states import VIDEO_FINAL, VideoState

_WINDOW_S = 60.0
_SAMPLES = 2048


class ProgressTracker:
    """Counts per video state plus a sliding window of completions for throughput, ETA and timings.

    Memory is bounded: at most the last 60 s of final transitions and the last 2,048 processing times.
    """

    def __init__(self, counts: dict[str, int] | None = None, started_monotonic: float | None = None) -> None:
        self.counts: dict[str, int] = {state.value: 0 for state in VideoState}
        if counts:
            for key, value in counts.items():
                self.counts[key] = value
        self._finals: deque[float] = deque()
        self._durations: deque[int] = deque(maxlen=_SAMPLES)
        self._duration_sum = 0
        self._duration_n = 0
        self._started = started_monotonic

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def move(self, old: str | None, new: str, processing_ms: int | None = None) -> None:
        """Records one video moving from ``old`` (``None`` when new) to ``new``."""
        if old is not None:
            self.counts[old] -= 1
        self.counts[new] += 1
        now = time.monotonic()
        if self._started is None and new == VideoState.PROCESSING:
            self._started = now
        if new in VIDEO_FINAL and old is not None:
            self._finals.append(now)
        if processing_ms is not None and new == VideoState.COMPLETED:
            self._durations.append(processing_ms)
            self._duration_sum += processing_ms
            self._duration_n += 1

    def add_many(self, state: str, n: int, old: str | None = None) -> None:
        """Moves ``n`` videos at once (bulk cancel, bulk retry, creation)."""
        if old is not None:
            self.counts[old] -= n
        self.counts[state] += n

    def snapshot(self) -> dict[str, Any]:
        """The progress object (CONTRACT §4)."""
        now = time.monotonic()
        while self._finals and now - self._finals[0] > _WINDOW_S:
            self._finals.popleft()
        c = self.counts
        total = self.total
        final = c["completed"] + c["failed"] + c["skipped"] + c["canceled"]
        percent = round(100.0 * final / total, 2) if total else 0.0
        window = _WINDOW_S if self._started is None else min(_WINDOW_S, max(now - self._started, 1e-3))
        rate_per_s = len(self._finals) / window if self._finals else 0.0
        remaining = c["pending"] + c["processing"]
        if remaining == 0:
            eta: float | None = 0.0 if total else None
        elif rate_per_s > 0:
            eta = round(remaining / rate_per_s, 1)
        else:
            eta = None
        attempted = c["completed"] + c["failed"]
        durations = sorted(self._durations)
        p95 = float(durations[min(len(durations) - 1, int(0.95 * len(durations)))]) if durations else 0.0
        return {
            "total": total,
            "pending": c["pending"],
            "processing": c["processing"],
            "completed": c["completed"],
            "failed": c["failed"],
            "skipped": c["skipped"],
            "canceled": c["canceled"],
            "percent_complete": percent,
            "eta_seconds": eta,
            "throughput_per_min": round(rate_per_s * 60, 2),
            "success_rate": round(c["completed"] / attempted, 4) if attempted else 1.0,
            "avg_processing_ms": round(self._duration_sum / self._duration_n, 1) if self._duration_n else 0.0,
            "p95_processing_ms": p95,
        }


def empty_progress(total: int = 0) -> dict[str, Any]:
    """A progress object for a job nothing has happened to yet."""
    tracker = ProgressTracker({"pending": total})
    return tracker.snapshot()
