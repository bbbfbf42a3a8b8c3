"""The ``bulkdash`` command (also ``python -m app``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from app.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bulkdash", description="Bulk video generation with a live dashboard")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="the dashboard, the API and the workers in one process")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--native", action="store_true", help="open the dashboard in its own window")
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token for user NAME (printed once)")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true")
    create.set_defaults(func=_token_create)
    listing = token_sub.add_parser("list", help="list tokens (never their secret part)")
    listing.set_defaults(func=_token_list)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.web.server import serve

    if args.host:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    serve(settings, native=args.native)
    return 0


async def _auth(settings: Settings):  # noqa: ANN202 - (container, auth service)
    from app.container import build
    from app.store.migrate import upgrade

    container = build(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade(container.db)
    await container.auth.ensure_admin()
    return container


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        container = await _auth(settings)
        try:
            token, record = await container.auth.create_token(args.name, admin=args.admin)
        finally:
            await container.db.close()
        print(token)
        print(
            f"token for user {record['user']!r}{' (admin)' if record['is_admin'] else ''}: shown once, keep it safe",
            file=sys.stderr,
        )

    asyncio.run(run())
    return 0


def _token_list(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        container = await _auth(settings)
        try:
            tokens = await container.auth.list_tokens()
        finally:
            await container.db.close()
        from rich.console import Console
        from rich.table import Table

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

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
