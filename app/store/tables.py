"""Core table handles for fast bulk statements (the ORM classes live in :mod:`app.domain.tables`)."""

from sqlalchemy import Table

from app.domain.tables import (
    ApiToken,
    EventRecord,
    Job,
    SheetConnection,
    Upload,
    User,
    Video,
    WebhookDelivery,
)

users: Table = User.__table__  # type: ignore[assignment]
tokens: Table = ApiToken.__table__  # type: ignore[assignment]
jobs: Table = Job.__table__  # type: ignore[assignment]
videos: Table = Video.__table__  # type: ignore[assignment]
events: Table = EventRecord.__table__  # type: ignore[assignment]
sheet_connections: Table = SheetConnection.__table__  # type: ignore[assignment]
uploads: Table = Upload.__table__  # type: ignore[assignment]
webhook_deliveries: Table = WebhookDelivery.__table__  # type: ignore[assignment]
