"""Where rows come from: Google Sheets, uploaded CSV/XLSX files, inline rows.

Pure: imports nothing from the store, engine, services or UI.
"""

from app.sources.table import SheetOrigin, SourceError, SourceRow, SourceTable, table_from_records

__all__ = ["SheetOrigin", "SourceError", "SourceRow", "SourceTable", "table_from_records"]
