"""Registers every page of the product (CONTRACT §8)."""

from __future__ import annotations

from nicegui import ui

from app.container import Bulkdash


def register_pages(container: Bulkdash) -> None:
    """Adds the pages to NiceGUI's router (once per process)."""

    @ui.page("/")
    def jobs_page() -> None:
        ui.label("bulkdash")
