"""Metric cards: success rate, throughput, average and p95 processing time, failures."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from components.progress_summary import set_text

METRICS: tuple[tuple[str, str], ...] = (
    ("success", "success rate"),
    ("throughput", "throughput / min"),
    ("avg", "avg processing"),
    ("p95", "p95 processing"),
    ("failures", "failures"),
)


def metric_values(progress: dict[str, Any]) -> dict[str, str]:
    """The text of each card, from a progress object."""
    return {
        "success": f"{100 * float(progress.get('success_rate') or 0):.1f}%",
        "throughput": f"{float(progress.get('throughput_per_min') or 0):.1f}",
        "avg": f"{float(progress.get('avg_processing_ms') or 0):,.0f} ms",
        "p95": f"{float(progress.get('p95_processing_ms') or 0):,.0f} ms",
        "failures": f"{int(progress.get('failed') or 0):,}",
    }


class MetricCards:
    def __init__(self, progress: dict[str, Any]) -> None:
        self.values: dict[str, ui.label] = {}
        with ui.grid().classes("w-full gap-2 grid-cols-2 sm:grid-cols-3 md:grid-cols-5"):
            for key, caption in METRICS:
                with ui.card().classes("gap-0 p-3"):
                    ui.label(caption).classes("text-xs uppercase opacity-70")
                    self.values[key] = ui.label().classes("text-xl font-semibold").mark(f"metric-{key}")
        self.update(progress)

    def update(self, progress: dict[str, Any]) -> None:
        for key, text in metric_values(progress).items():
            set_text(self.values[key], text)
