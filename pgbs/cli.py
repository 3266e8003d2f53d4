"""The `pgbs` command line: serve, migrate, create-coordinator, seed-demo, export-schema, outbox."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from pathlib import Path

from pgbs.settings import Settings, SettingsError

logger = logging.getLogger("pgbs")

LINK = re.compile(r"https?://\S+")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic lists every plugin it loads at INFO; only its migration lines are of interest.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Strawberry logs every GraphQL error with a traceback; schema.extensions logs each one
    # once instead, unexpected ones with their request id.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers > 1 and settings.broker_url.startswith("memory://"):
        print(
            "pgbs serve: --workers above 1 needs a shared broker, but BROKER_URL is memory://. "
            "Set BROKER_URL=redis://127.0.0.1:6379/0 or BROKER_URL=postgres://… and try again.",
            file=sys.stderr,
        )
        return 2
    logger.info("serving GraphQL on http://%s:%d/graphql (database %s)", host, port, settings.database_url.split("://")[0])
    uvicorn.run(
        "pgbs.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        lifespan="on",
        ws_per_message_deflate=settings.websocket_compression,
    )
    return 0


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    from persistence.migrate import upgrade

    upgrade(settings.database_url)
    logger.info("database is up to date")
    return 0


def create_coordinator(settings: Settings, args: argparse.Namespace) -> int:
    from domain import accounts
    from domain.errors import DomainError
    from pgbs.app import build_services

    async def run() -> int:
        services = build_services(settings)
        try:
            member = await accounts.create_coordinator(services, args.email)
        except DomainError as error:
            print(f"pgbs create-coordinator: {error.problems[0].message}", file=sys.stderr)
            return 1
        finally:
            await services.database.dispose()
        print(f"{member.email} is now a coordinator")
        return 0

    return asyncio.run(run())


def seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from pgbs import demo

    return asyncio.run(demo.seed(settings, if_empty=args.if_empty, member_count=args.members))


def export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from schema import schema_sdl

    sdl = schema_sdl()
    output = Path(args.output)
    if args.check:
        current = output.read_text() if output.exists() else ""
        if current != sdl:
            print(f"{output} differs from the running schema; run `pgbs export-schema`.", file=sys.stderr)
            return 1
        return 0
    output.write_text(sdl)
    print(f"wrote {output}")
    return 0


def list_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """Print the e-mails waiting in the outbox, for developers who run without SMTP_HOST."""
    from persistence import outbox as outbox_table
    from persistence.database import Database

    async def run() -> list:
        database = Database(settings.database_url)
        try:
            async with database.read() as session:
                return list(await outbox_table.pending_messages(session, args.limit))
        finally:
            await database.dispose()

    messages = asyncio.run(run())
    if not messages:
        print("The outbox has no pending e-mails.")
        return 0
    # Bodies are not printed: they carry sign-in links. `--show-links` prints those links on purpose.
    for message in messages:
        print(f"{message.id}\t{message.created_at.isoformat(timespec='seconds')}\t{message.to_address}\t{message.subject}")
        if args.show_links:
            for link in LINK.findall(message.text_body):
                print(f"\t{link}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgbs", description="The PGBS GraphQL API service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the service under uvicorn")
    serve_parser.add_argument("--host", help="address to listen on (default: HOST, else 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="TCP port (default: PORT, else 8000)")
    serve_parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve_parser.set_defaults(handler=serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=migrate)

    coordinator_parser = commands.add_parser("create-coordinator", help="flag an existing member as coordinator")
    coordinator_parser.add_argument("email", help="the member's e-mail address")
    coordinator_parser.set_defaults(handler=create_coordinator)

    seed_parser = commands.add_parser("seed-demo", help="fill the database with a demo campaign")
    seed_parser.add_argument("--if-empty", action="store_true", help="do nothing when members exist already")
    seed_parser.add_argument(
        "--members", type=int, default=2000, help="how many made-up schools and companies to add (default: 2000)"
    )
    seed_parser.set_defaults(handler=seed_demo)

    export_parser = commands.add_parser("export-schema", help="write the SDL of the running schema")
    export_parser.add_argument("--output", default="schema.graphql", help="file to write (default: schema.graphql)")
    export_parser.add_argument("--check", action="store_true", help="exit 1 when the file differs instead of writing")
    export_parser.set_defaults(handler=export_schema)

    outbox_parser = commands.add_parser("outbox", help="list e-mails not yet sent: id, created, to, subject")
    outbox_parser.add_argument("--limit", type=int, default=50, help="maximum number of messages to list (default: 50)")
    outbox_parser.add_argument(
        "--show-links", action="store_true", help="also print the links in each message, such as verification links"
    )
    outbox_parser.set_defaults(handler=list_outbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environ()
    except SettingsError as error:
        print(f"pgbs: invalid setting: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    return args.handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
