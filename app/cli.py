"""The ``bulkdash`` command (also ``python -m app``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from app.redact import install_log_redaction
from app.settings import Settings

if TYPE_CHECKING:
    from app.container import Bulkdash

T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    settings = Settings()
    install_log_redaction()  # uvicorn logs request paths, and /ws?token=... carries a secret
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level != "DEBUG":  # one INFO line per migration step or client request is noise here
        for name in ("alembic", "httpx"):
            logging.getLogger(name).setLevel(logging.WARNING)
    return int(args.func(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bulkdash", description="Bulk video generation with a live dashboard")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="the dashboard, the API and the workers in one process")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--native", action="store_true", help="open the dashboard in its own window")
    serve.set_defaults(func=_serve)

    demo = sub.add_parser("demo", help="serve and start one job from the bundled sample sheet")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--native", action="store_true", help="open the dashboard in its own window")
    demo.set_defaults(func=_demo)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token for user NAME (printed once)")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true")
    create.set_defaults(func=_token_create)
    listing = token_sub.add_parser("list", help="list tokens (never their secret part)")
    listing.set_defaults(func=_token_list)

    submit = sub.add_parser("submit", help="create a job from a CSV/XLSX file or a Google Sheet")
    submit.add_argument("file", nargs="?", help="a .csv or .xlsx file to upload")
    submit.add_argument("--sheet", help="a Google Sheet id (instead of a file)")
    submit.add_argument("--range", default="A1:Z1000", help="the sheet range, header row first")
    submit.add_argument("--template", default="default_template", help="template id (default_template, simulated)")
    submit.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a template override")
    submit.add_argument("--title", help="the job's title (default: the file name or sheet id)")
    submit.add_argument("--priority", choices=["low", "normal", "high", "urgent"], default="normal")
    submit.add_argument("--watch", action="store_true", help="show a progress bar until the job ends")
    submit.add_argument("--url", help="the server (default: http://BULKDASH_HOST:BULKDASH_PORT)")
    submit.add_argument("--token", help="API token (default: BULKDASH_TOKEN, else <DATA_DIR>/admin_token)")
    submit.set_defaults(func=_submit)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.web.server import serve

    if args.host:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    serve(settings, native=args.native)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import run

    if args.host:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    run(settings, native=args.native)
    return 0


def _with_container(settings: Settings, action: Callable[[Bulkdash], Awaitable[T]]) -> T:
    """Runs ``action`` on a container whose database is migrated and has its admin, then closes the database
    (the set-up every offline command shares)."""
    from app.container import build
    from app.store.migrate import upgrade

    async def run() -> T:
        container = build(settings)
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await upgrade(container.db)
            await container.auth.ensure_admin()
            return await action(container)
        finally:
            await container.db.close()

    return asyncio.run(run())


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    token, record = _with_container(settings, lambda c: c.auth.create_token(args.name, admin=args.admin))
    print(token)
    print(
        f"token for user {record['user']!r}{' (admin)' if record['is_admin'] else ''}: shown once, keep it safe",
        file=sys.stderr,
    )
    return 0


def _token_list(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    tokens = _with_container(settings, lambda c: c.auth.list_tokens())
    table = Table("id", "name", "user", "admin", "starts with", "created", "last used")
    for tok in tokens:
        table.add_row(
            tok["id"],
            tok["name"],
            tok["user"],
            "yes" if tok["is_admin"] else "",
            tok["prefix"] + "…",
            str(tok["created_at"])[:19],
            str(tok["last_used_at"] or "")[:19],
        )
    Console().print(table)
    return 0


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    """Uploads the file (or names the sheet), creates the job, prints its id and dashboard URL; with
    ``--watch`` follows it to the end. Exit code: 0 created/completed, 1 failed/canceled, 2 bad usage/refused."""
    import os

    if bool(args.file) == bool(args.sheet):
        print("give a CSV/XLSX file or --sheet ID (one of them)", file=sys.stderr)
        return 2
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = (args.url or os.environ.get("BULKDASH_URL") or f"http://{host}:{settings.port}").rstrip("/")
    token = args.token or os.environ.get("BULKDASH_TOKEN") or settings.admin_token or _local_admin_token(settings)
    if not token:
        print("no token: pass --token, set BULKDASH_TOKEN, or run on the server's machine", file=sys.stderr)
        return 2
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"--set wants KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = value
    return asyncio.run(_submit_async(args, url, token, overrides))


def _local_admin_token(settings: Settings) -> str | None:
    path = settings.data_dir / "admin_token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


async def _submit_async(args: argparse.Namespace, url: str, token: str, overrides: dict[str, str]) -> int:
    from pathlib import Path

    from app.client import BulkdashClient, BulkdashError

    async with BulkdashClient(url, token) as client:
        try:
            if args.file:
                path = Path(args.file)
                if path.suffix.lower() not in (".csv", ".xlsx"):
                    print(f"{path}: only .csv and .xlsx files can be submitted", file=sys.stderr)
                    return 2
                upload = await client.upload(path)
                print(f"uploaded {upload['filename']}: {upload['rows']} rows, columns {upload['columns']}")
                source: dict[str, object] = {"type": "upload", "upload_id": upload["id"]}
                title = args.title or path.stem
            else:
                source = {"type": "sheet", "sheet_id": args.sheet, "range": args.range}
                title = args.title or f"Sheet {args.sheet}"
            body = {
                "title": title,
                "priority": args.priority,
                "input_source": source,
                "template": {"template_id": args.template, "overrides": _typed(overrides)},
            }
            job = await client.create_job(body)
        except (BulkdashError, OSError) as exc:
            print(f"bulkdash submit: {exc}", file=sys.stderr)
            return 2
        print(job["id"])
        print(f"dashboard: {url}/bulk-jobs/{job['id']}")
        if not args.watch:
            return 0
        return await _watch(client, job)


def _typed(overrides: dict[str, str]) -> dict[str, object]:
    """``--set duration_ms=50`` sends a number, ``--set style=modern`` a string."""
    import json

    out: dict[str, object] = {}
    for key, value in overrides.items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


async def _watch(client, job: dict) -> int:  # noqa: ANN001 - app.client.BulkdashClient (imported lazily)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from app.client import BulkdashError

    final = job
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    ) as bar:
        total = job["progress"].get("total") or None
        task = bar.add_task(job["state"], total=total, detail="")
        try:
            async for event in client.follow(job["id"]):
                data = event["data"]
                if event["type"] == "job.progress":
                    done = sum(data.get(k, 0) for k in ("completed", "failed", "skipped", "canceled"))
                    detail = f"{data.get('failed', 0)} failed" if data.get("failed") else ""
                    bar.update(task, total=data.get("total") or None, completed=done, detail=detail)
                elif event["type"] == "job.state_changed":
                    bar.update(task, description=data["to"])
                elif event["type"] in ("job.completed", "job.failed", "job.canceled"):
                    final = data
                    bar.update(task, description=data["state"])
        except BulkdashError as exc:
            print(f"bulkdash submit: {exc}", file=sys.stderr)
            return 1
    progress = final.get("progress") or {}
    print(
        f"{final['state']}: {progress.get('completed', 0)} completed, {progress.get('failed', 0)} failed, "
        f"{progress.get('skipped', 0)} skipped, {progress.get('canceled', 0)} canceled"
    )
    if final.get("error"):
        print(f"error: {final['error'].get('message')}", file=sys.stderr)
    return 0 if final["state"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
