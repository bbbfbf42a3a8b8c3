"""The store on SQLite and PostgreSQL: migrations, batched writes, queries, the event log, recovery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from app.domain.events import Event, EventType
from app.domain.progress import empty_progress
from app.ids import new_id
from app.store.database import Database
from app.store.events import EventLog
from app.store.jobs import JobStore
from app.store.migrate import alembic_config, upgrade
from app.store.users import UserStore
from app.store.writer import BatchWriter


@pytest.fixture
async def db(database_url: str) -> Any:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.close()


async def make_job(db: Database, n: int = 5) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    user = await UserStore(db).get_or_create_user("owner")
    job = {
        "id": new_id("job"),
        "owner_id": user["id"],
        "title": "store test",
        "state": "pending",
        "priority": "normal",
        "priority_rank": 1,
        "created_at": datetime.now(UTC),
        "input_source": {"type": "inline"},
        "output": {},
        "template": {"template_id": "simulated"},
        "progress": empty_progress(n),
        "last_seq": 0,
    }
    videos = [
        {
            "id": new_id("vid"),
            "job_id": job["id"],
            "row_index": i,
            "title": f"Clip {i}",
            "state": "pending",
            "progress": 0.0,
            "attempts": 0,
            "variables": {"title": f"Clip {i}", "city": "Lyon" if i % 2 else "Oslo"},
        }
        for i in range(1, n + 1)
    ]
    await JobStore(db).create_job(job, videos)
    return job, videos


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(conn: Any) -> list[Any]:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    async with db.writer.connect() as conn:
        assert await conn.run_sync(diff) == []
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"jobs", "videos", "events", "users", "api_tokens", "sheet_connections", "uploads"} <= tables


async def test_upgrade_keeps_existing_data(db: Database) -> None:
    job, _ = await make_job(db)
    await upgrade(db)  # a second start (or an upgrade) must not touch what is stored
    assert (await JobStore(db).get_job(job["id"]))["title"] == "store test"

    def current(conn: Any) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.writer.connect() as conn:
        head = await conn.run_sync(lambda c: ScriptDirectory.from_config(alembic_config()).get_current_head())
        assert await conn.run_sync(current) == head


async def test_writer_batches_changes_into_one_commit(db: Database) -> None:
    job, videos = await make_job(db, 20)
    published: list[list[Event]] = []
    writer = BatchWriter(db, interval_s=0.01, on_committed=published.append)
    for i, video in enumerate(videos):
        for pct in range(0, 101, 10):  # eleven progress ticks per video
            writer.update_video(video["id"], {"progress": float(pct), "stage": "render"})
        writer.update_video(video["id"], {"state": "completed"})
        writer.append_event(Event(EventType.VIDEO_COMPLETED, job["id"], i + 1, datetime.now(UTC), {"n": i}))
    writer.update_job(job["id"], {"last_seq": 20})
    await writer.flush()
    assert writer.flushes == 1
    assert len(published) == 1 and [e.seq for e in published[0]] == list(range(1, 21))
    store = JobStore(db)
    rows, total = await store.list_videos(job["id"], limit=100)
    assert total == 20 and {(r["state"], r["progress"]) for r in rows} == {("completed", 100.0)}
    assert [e.seq for e in await EventLog(db).after(job["id"], 5)] == list(range(6, 21))


async def test_failed_flush_keeps_the_changes(db: Database) -> None:
    job, videos = await make_job(db, 1)
    writer = BatchWriter(db, interval_s=0.01)
    writer.append_event(Event(EventType.JOB_PROGRESS, job["id"], 1, datetime.now(UTC), {}))
    writer.append_event(Event(EventType.JOB_PROGRESS, job["id"], 1, datetime.now(UTC), {}))  # duplicate seq
    writer.update_video(videos[0]["id"], {"progress": 50.0})
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError type differs per database
        await writer.flush()
    assert writer.pending == 3  # nothing was lost; the caller may fix and flush again


async def test_video_queries_filter_search_sort_and_page(db: Database) -> None:
    job, _ = await make_job(db, 30)
    store = JobStore(db)
    rows, total = await store.list_videos(job["id"], q="oslo", limit=5)
    assert total == 15 and len(rows) == 5
    rows, total = await store.list_videos(job["id"], q="Clip 1", sort="-row_index", limit=50)
    assert [r["row_index"] for r in rows] == [19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1]
    rows, total = await store.list_videos(job["id"], state="completed")
    assert total == 0
    rows, _ = await store.list_videos(job["id"], sort="row_index", limit=10, offset=20)
    assert [r["row_index"] for r in rows] == list(range(21, 31))
    with pytest.raises(ValueError, match="unknown column"):
        await store.list_videos(job["id"], sort="variables; drop table jobs")
    rows, _ = await store.list_videos(job["id"], q="100%_")
    assert rows == []


async def test_recovery_requeues_processing_videos(db: Database) -> None:
    job, videos = await make_job(db, 3)
    async with db.write() as conn:
        await conn.execute(text("UPDATE videos SET state='processing' WHERE row_index <= 2"))
    assert await JobStore(db).requeue_processing() == 2
    assert await JobStore(db).count_by_state(job["id"]) == {"pending": 3}


async def test_tokens_are_stored_hashed(db: Database) -> None:
    users = UserStore(db)
    user = await users.get_or_create_user("carol")
    token, record = await users.add_token(user["id"], "ci")
    assert token.startswith("bd_") and record["token_hash"] != token
    async with db.read() as conn:
        stored = (await conn.execute(text("SELECT token_hash FROM api_tokens"))).scalars().all()
    assert token not in stored
    assert (await users.authenticate(token))["name"] == "carol"
    assert await users.authenticate(token + "x") is None
    assert await users.authenticate("") is None


async def test_move_videos_is_atomic(db: Database) -> None:
    job, _ = await make_job(db, 4)
    moved = await JobStore(db).move_videos(job["id"], ["pending"], "canceled")
    assert len(moved) == 4 and {m["state"] for m in moved} == {"canceled"}
    assert await JobStore(db).count_by_state(job["id"]) == {"canceled": 4}


async def test_upgrade_from_0001_backfills_search_text(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, "0001")
        job, _ = await make_job_without_search_text(db)
        await upgrade(db)
        rows, total = await JobStore(db).list_videos(job, q="LYON")
        assert total == 1 and rows[0]["title"] == "Old clip"
    finally:
        await db.close()


async def make_job_without_search_text(db: Database) -> tuple[str, None]:
    """Rows as a 0001 database holds them (no search_text column yet)."""
    user = await UserStore(db).get_or_create_user("old")
    job_id = new_id("job")
    async with db.write() as conn:
        await conn.execute(
            text(
                "INSERT INTO jobs (id, owner_id, title, state, priority, priority_rank, created_at, input_source,"
                " output, template, progress, last_seq) VALUES (:id, :owner, 'old', 'completed', 'normal', 1,"
                " :now, '{}', '{}', '{}', '{}', 0)"
            ),
            {"id": job_id, "owner": user["id"], "now": datetime.now(UTC)},
        )
        await conn.execute(
            text(
                "INSERT INTO videos (id, job_id, row_index, title, state, progress, attempts, variables)"
                " VALUES (:id, :job, 1, 'Old clip', 'completed', 100, 1, '{\"city\": \"Lyon\"}')"
            ),
            {"id": new_id("vid"), "job": job_id},
        )
    return job_id, None


async def test_bulk_insert_takes_column_defaults_for_missing_keys(db: Database) -> None:
    """``insert_many`` goes to the driver directly; a key a row lacks still gets its column's default."""
    from app.store import tables as t
    from app.store.bulk import insert_many

    job, _ = await make_job(db, 0)
    row = {"id": new_id("vid"), "job_id": job["id"], "row_index": 1, "title": "t", "state": "pending"}
    async with db.write() as conn:
        await insert_many(
            conn,
            t.videos,
            ("id", "job_id", "row_index", "title", "state", "progress", "attempts", "variables"),
            [{**row, "variables": {"a": "b"}}],
        )
    stored = await JobStore(db).get_video(job["id"], row["id"])
    assert stored is not None
    assert (stored["progress"], stored["attempts"], stored["variables"], stored["error"]) == (0.0, 0, {"a": "b"}, None)
