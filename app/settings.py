"""The one settings object (CONTRACT §2): built once at start-up and passed to whatever needs it."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every ``BULKDASH_*`` environment variable, also read from ``.env``."""

    model_config = SettingsConfigDict(env_prefix="BULKDASH_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("./data")
    database_url: str = ""
    output_dir: Path | None = None
    admin_token: str | None = None
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    sheets_api_url: str = "https://sheets.googleapis.com"
    google_credentials: Path | None = None
    log_level: str = "INFO"

    # Engine tuning (not in the contract's table; sensible defaults).
    max_attempts: int = Field(3, ge=1, le=20)
    retry_base_s: float = Field(1.0, ge=0)
    retry_max_s: float = Field(60.0, ge=0)
    flush_interval_s: float = Field(0.05, gt=0, description="write-behind batch interval")
    progress_interval_s: float = Field(0.25, gt=0, description="coalescing window for progress events")
    max_rows_per_job: int = Field(100_000, ge=1)
    templates_dir: Path | None = None
    webhook_secret: str | None = Field(None, description="HMAC key for webhook signatures (default: generated once)")
    webhook_allow_private: bool = Field(False, description="allow webhooks to private/loopback addresses")
    webhook_state_changes: bool = Field(False, description="also POST every job.state_changed")
    webhook_max_attempts: int = Field(5, ge=1, le=50)
    webhook_retry_base_s: float = Field(1.0, ge=0)
    webhook_retry_max_s: float = Field(60.0, ge=0)
    webhook_timeout_s: float = Field(10.0, gt=0)
    #: events buffered per WebSocket client (references to shared events, so cheap): a 100k-row job's
    #: creation publishes one video.created per row in a single commit
    ws_queue_size: int = Field(250_000, ge=100)
    shutdown_grace_s: float = Field(10.0, ge=0, le=600, description="seconds running videos get to finish at shutdown")
    # Sources (uploads, Google Sheets).
    upload_max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="largest CSV/XLSX upload")
    sheets_connect_budget_s: float = Field(5.0, ge=0, description="retry budget of the access check at connect")
    sheets_retry_budget_s: float = Field(30.0, ge=0, description="retry budget (429/5xx) of reading a sheet job")
    write_back_interval_s: float = Field(5.0, gt=0, description="at most one write-back request per interval")
    public_url: str | None = Field(None, description="prefix of the output URLs written back to sheets")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'bulkdash.db').resolve()}"
        if self.output_dir is None:
            self.output_dir = self.data_dir / "outputs"
        if self.templates_dir is None:
            self.templates_dir = self.data_dir / "templates"
        self.log_level = self.log_level.upper()
        return self

    @property
    def outputs(self) -> Path:
        """The root of the output buckets (never ``None`` after validation)."""
        assert self.output_dir is not None
        return self.output_dir

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
