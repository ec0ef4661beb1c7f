"""The `koshiki` command: serve the app, load or check the catalog, export it, back it up."""

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

from app import catalog
from app.cards import LANGUAGES
from app.config import Settings
from app.db import backup_sqlite, make_engine, make_session_factory
from app.web.i18n import DEFAULT_LANGUAGE

WORKER_STARTUP_SECONDS = 30
"""How long uvicorn waits for a worker to answer its health ping. Its default, 5 s, is less
than a worker needs to import the app on a busy machine: it was killed and restarted forever."""
KEEP_ALIVE_SECONDS = 5
"""uvicorn's default. A load balancer that keeps idle connections to the app open longer
sends, now and then, a request on one the app is closing, and answers it with a 502."""


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, or a message saying so."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}")
        return number

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="koshiki", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, load the catalog, then serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=whole_number(1, 65535), default=8000)
    serve.add_argument("--workers", type=whole_number(1, 64), default=1)
    serve.add_argument(
        "--keep-alive",
        type=whole_number(1, 3600),
        default=KEEP_ALIVE_SECONDS,
        help="seconds an idle connection stays open; behind a load balancer, more than its "
        "idle timeout",
    )
    commands.add_parser("load", help="migrate the database and load formulas/ into it")
    commands.add_parser("check", help="validate every card and recompute its worked example")
    deck = commands.add_parser("export-anki", help="write an Anki deck (.apkg) of the cards")
    deck.add_argument("output", type=Path)
    deck.add_argument(
        "--category", action="append", default=[], help="only this category (repeatable)"
    )
    sheet = commands.add_parser("sheet", help="print the formula sheet to an A4 PDF")
    sheet.add_argument("output", type=Path)
    sheet.add_argument(
        "--category", action="append", default=[], help="only this category (repeatable)"
    )
    sheet.add_argument("--language", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    backup = commands.add_parser(
        "backup", help="copy the SQLite database to a file, safe while the app serves"
    )
    backup.add_argument("output", type=Path)
    arguments = parser.parse_args(argv)
    settings = Settings()
    try:
        return COMMANDS[arguments.command](settings, arguments)
    except catalog.CatalogError as error:
        print(f"koshiki: the catalog has {len(error.problems)} problem(s):", file=sys.stderr)
        print(error, file=sys.stderr)
        return 1


def _check(settings: Settings, _arguments: argparse.Namespace) -> int:
    checked = catalog.read_catalog(settings.formulas_dir)
    print(f"{len(checked.cards)} cards in {len(checked.categories)} categories: all valid")
    return 0


def _load(settings: Settings, _arguments: argparse.Namespace) -> int:
    from app.main import prepare

    engine = make_engine(settings)
    report = prepare(settings, engine)
    engine.dispose()
    print(
        f"catalog loaded: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged"
    )
    return 0


def _serve(settings: Settings, arguments: argparse.Namespace) -> int:
    import uvicorn

    from app.serving import PROTOCOL

    _load(settings, arguments)  # fail here, with the card named, before listening
    # Done once here: the workers (and any replacement of a crashed one) need not repeat it.
    os.environ["KOSHIKI_PREPARE_ON_STARTUP"] = "false"
    print(f"Koshiki is ready at http://{arguments.host}:{arguments.port}", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        http=PROTOCOL,
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
        timeout_keep_alive=arguments.keep_alive,
    )
    return 0


def _export_anki(settings: Settings, arguments: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.anki import write_deck
    from app.models import Formula

    _load(settings, arguments)
    engine = make_engine(settings)
    with make_session_factory(engine)() as session:
        try:
            catalog.require_categories(session, arguments.category)
        except catalog.UnknownCategory as error:
            print(f"koshiki: --category: {error}", file=sys.stderr)
            return 1
        statement = select(Formula).order_by(Formula.category_id, Formula.id)
        if arguments.category:
            statement = statement.where(Formula.category_id.in_(arguments.category))
        count = write_deck(list(session.scalars(statement)), arguments.output)
    print(f"wrote {count} notes to {arguments.output}")
    return 0


def _sheet(settings: Settings, arguments: argparse.Namespace) -> int:
    from app.sheet import SheetError, write_sheet

    _load(settings, arguments)
    try:
        count = write_sheet(settings, arguments.output, arguments.category, arguments.language)
    except SheetError as error:
        print(f"koshiki: {error}", file=sys.stderr)
        return 1
    print(f"wrote the sheet of {count} cards to {arguments.output}")
    return 0


def _backup(settings: Settings, arguments: argparse.Namespace) -> int:
    if not settings.is_sqlite:
        print(
            "koshiki: backup copies an SQLite database; use pg_dump for PostgreSQL", file=sys.stderr
        )
        return 1
    try:
        backup_sqlite(settings.sqlite_file, arguments.output, tables=("learners", "answers"))
    except (sqlite3.Error, OSError) as error:
        print(f"koshiki: no backup made: {error}", file=sys.stderr)
        return 1
    with closing(sqlite3.connect(arguments.output)) as copy:
        learners, answers = copy.execute(
            "SELECT (SELECT count(*) FROM learners), (SELECT count(*) FROM answers)"
        ).fetchone()
    print(f"backed up to {arguments.output} (learners: {learners}, answers: {answers})")
    return 0


COMMANDS = {
    "serve": _serve,
    "load": _load,
    "check": _check,
    "export-anki": _export_anki,
    "sheet": _sheet,
    "backup": _backup,
}


if __name__ == "__main__":
    sys.exit(main())
