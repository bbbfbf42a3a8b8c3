"""Small text formatters shared by the widgets."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_ts(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def duration(seconds: float | None) -> str:
    """``95`` → ``1m 35s``; ``None`` → ``—``."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m {s:02d}s" if m else f"{s}s"


def elapsed(started: str | None, finished: str | None = None) -> float | None:
    start = parse_ts(started)
    if start is None:
        return None
    end = parse_ts(finished) or datetime.now(UTC)
    return max(0.0, (end - start).total_seconds())


def when(text: str | None) -> str:
    """ISO time → ``2024-05-01 12:34`` (UTC)."""
    ts = parse_ts(text)
    return ts.strftime("%Y-%m-%d %H:%M") if ts else "—"


def percent(progress: dict) -> str:
    """``NN%``, floored so 100% means every video reached a final state."""
    return f"{int(progress.get('percent_complete') or 0)}%"


def done_of(progress: dict) -> str:
    """``N / M`` videos in a final state out of all."""
    done = sum(int(progress.get(k) or 0) for k in ("completed", "failed", "skipped", "canceled"))
    return f"{done} / {int(progress.get('total') or 0)}"
