"""The composition root: builds every long-lived object of one bulkdash process and wires them together."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from app.bus import EventBus
from app.engine.engine import Engine
from app.generators.registry import TemplateRegistry
from app.services.auth import AuthService
from app.services.jobs import JobService
from app.services.sheets import SheetService
from app.services.uploads import UploadService
from app.services.webhooks import WebhookDispatcher, check_url
from app.settings import Settings
from app.sources.secrets import SecretBox
from app.sources.sheets import RetryPolicy
from app.store.database import Database
from app.store.events import EventLog
from app.store.jobs import JobStore
from app.store.migrate import upgrade
from app.store.sources import SourceStore
from app.store.users import UserStore
from app.store.writer import BatchWriter

log = logging.getLogger(__name__)


@dataclass
class Bulkdash:
    """Everything one process holds. Build with :func:`build`, then ``await start()`` / ``await stop()``."""

    settings: Settings
    db: Database
    bus: EventBus
    writer: BatchWriter
    jobs_store: JobStore
    users: UserStore
    events: EventLog
    templates: TemplateRegistry
    engine: Engine
    jobs: JobService
    auth: AuthService
    webhooks: WebhookDispatcher | None = None
    #: Google Sheets connections, sheet jobs' rows and write-back
    sheets: SheetService | None = None
    #: CSV/XLSX uploads
    uploads: UploadService | None = None
    admin_token: str = ""
    started: bool = field(default=False)
    _ready: asyncio.Event | None = field(default=None, repr=False)

    def _ready_event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until :meth:`start` has finished (web requests may arrive while it still runs)."""
        await asyncio.wait_for(self._ready_event().wait(), timeout)

    async def start(self, *, workers: int | None = None) -> None:
        """Applies migrations, recovers unfinished work and starts the writer and the workers."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.outputs.mkdir(parents=True, exist_ok=True)
        await upgrade(self.db)
        self.admin_token = await self.auth.ensure_admin()
        self.writer.start()
        if self.webhooks is not None:
            await self.webhooks.start()
        if isinstance(self.sheets, SheetService):  # before the engine resumes jobs, so every result is kept
            await self.sheets.restore_write_back()
        await self.engine.start(workers=workers)
        self.started = True
        self._ready_event().set()

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stops the workers (running videos go back to pending after ``grace_s``), flushes, closes."""
        if self.started:
            await self.engine.stop(grace_s)
            if isinstance(self.sheets, SheetService):  # (tests may swap in a fake)
                await self.sheets.close()
            await self.writer.stop()
            if self.webhooks is not None:
                await self.webhooks.stop(grace_s=5.0)
            self.started = False
        await self.db.close()


def build(settings: Settings) -> Bulkdash:
    """Wires one process from its settings (nothing is started yet)."""
    db = Database(settings.database_url)
    bus = EventBus()
    writer = BatchWriter(db, interval_s=settings.flush_interval_s, on_committed=bus.publish)
    jobs_store = JobStore(db)
    templates = TemplateRegistry(settings.templates_dir)
    engine = Engine(settings, jobs_store, writer, templates.get)

    async def check_webhook(url: str) -> str | None:
        return await check_url(url, allow_private=settings.webhook_allow_private)

    sheets, uploads = _sources(settings, db)
    jobs = JobService(
        jobs_store,
        engine,
        templates.get,
        max_rows=settings.max_rows_per_job,
        check_webhook=check_webhook,
        load_upload=uploads.load_rows,
        load_sheet=sheets.load_rows,
        check_source=sheets.check_source,
    )
    assert engine.ingest is not None  # the job service's: it builds a sheet job's videos once the rows are read
    engine.ingest = sheets.around_ingest(engine.ingest)
    engine.video_hooks.append(sheets.on_video_final)
    engine.finishing_hooks.append(sheets.finish_job)
    engine.reopen_hooks.append(sheets.on_job_reopened)
    bus.subscribe_callback(sheets.on_event)
    users = UserStore(db)
    webhooks = WebhookDispatcher(bus, db, jobs_store, settings, live_row=engine.live_row)
    return Bulkdash(
        settings=settings,
        db=db,
        bus=bus,
        writer=writer,
        jobs_store=jobs_store,
        users=users,
        events=EventLog(db),
        templates=templates,
        engine=engine,
        jobs=jobs,
        auth=AuthService(users, settings),
        webhooks=webhooks,
        sheets=sheets,
        uploads=uploads,
    )


def _sources(settings: Settings, db: Database) -> tuple[SheetService, UploadService]:
    store = SourceStore(db)
    sheets = SheetService(
        store,
        SecretBox(settings.data_dir / "secrets.key"),
        api_url=settings.sheets_api_url,
        default_credentials=settings.google_credentials,
        connect_retry=RetryPolicy(budget_s=settings.sheets_connect_budget_s),
        read_retry=RetryPolicy(budget_s=settings.sheets_retry_budget_s),
        write_back_interval_s=settings.write_back_interval_s,
        max_rows=settings.max_rows_per_job,
        public_url=settings.public_url,
    )
    uploads = UploadService(
        store,
        settings.data_dir,
        settings.uploads_dir,
        max_bytes=settings.upload_max_bytes,
        max_rows=settings.max_rows_per_job,
    )
    return sheets, uploads
