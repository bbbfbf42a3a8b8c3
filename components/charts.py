"""ECharts of one job: throughput over time (a small ring buffer of samples) and videos by state."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from nicegui import ui

from components.state_badge import VIDEO_COLORS

_QUASAR_HEX = {
    "grey-7": "#616161",
    "primary": "#1976d2",
    "positive": "#21ba45",
    "negative": "#c10015",
    "amber-9": "#ff6f00",
    "blue-grey-7": "#455a64",
}
STATES = ("pending", "processing", "completed", "failed", "skipped", "canceled")


class ThroughputChart:
    """Throughput per minute, sampled at most every ``every_s`` seconds, last ``size`` samples kept."""

    def __init__(self, size: int = 60, every_s: float = 2.0) -> None:
        self.samples: deque[tuple[str, float]] = deque(maxlen=size)
        self.every_s = every_s
        self._last = 0.0
        self.chart = ui.echart(self._options()).classes("w-full h-56").mark("throughput-chart")

    def _options(self) -> dict[str, Any]:
        return {
            "title": {"text": "throughput / min", "textStyle": {"fontSize": 13}},
            "grid": {"left": 40, "right": 10, "top": 35, "bottom": 25},
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": [t for t, _ in self.samples]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {
                    "type": "line",
                    "smooth": True,
                    "showSymbol": False,
                    "areaStyle": {},
                    "data": [v for _, v in self.samples],
                }
            ],
        }

    def sample(self, progress: dict[str, Any], *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        self.samples.append((time.strftime("%H:%M:%S"), float(progress.get("throughput_per_min") or 0)))
        self.chart.options.clear()
        self.chart.options.update(self._options())
        self.chart.update()


class StatesChart:
    """Videos by state as a horizontal bar per state; repainted only when the counts change."""

    def __init__(self, progress: dict[str, Any]) -> None:
        self._counts: tuple[int, ...] = ()
        self.chart = ui.echart(self._options((0,) * len(STATES))).classes("w-full h-56").mark("states-chart")
        self.update(progress)

    @staticmethod
    def _options(counts: tuple[int, ...]) -> dict[str, Any]:
        colors = [_QUASAR_HEX[VIDEO_COLORS[s]] for s in STATES]
        data = [{"value": n, "itemStyle": {"color": c}} for n, c in zip(counts, colors, strict=True)]
        return {
            "title": {"text": "videos by state", "textStyle": {"fontSize": 13}},
            "grid": {"left": 80, "right": 20, "top": 35, "bottom": 25},
            "tooltip": {},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": list(STATES), "inverse": True},
            "series": [{"type": "bar", "data": data, "label": {"show": True, "position": "right"}}],
        }

    def update(self, progress: dict[str, Any]) -> None:
        counts = tuple(int(progress.get(s) or 0) for s in STATES)
        if counts == self._counts:
            return
        self._counts = counts
        self.chart.options.clear()
        self.chart.options.update(self._options(counts))
        self.chart.update()
