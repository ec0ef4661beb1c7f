"""Database engine, sessions and migrations."""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from app.config import PROJECT_ROOT, Settings

WRITER = {"sqlite_begin": "IMMEDIATE"}
"""Execution options of a session that will write: on SQLite it takes the write lock at
BEGIN, so concurrent writers queue (busy_timeout) instead of failing when a read
transaction cannot be upgraded to a write."""


SQLITE_POOL = {"pool_size": 20, "max_overflow": -1}
"""A request that writes holds two connections, its reader and its writer: with a capped
pool, concurrent requests each holding the one and waiting for the other deadlocked until
the pool timed out (500s under load). SQLite connections are cheap: extra ones are opened
when needed and closed when returned."""


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, **(SQLITE_POOL if settings.is_sqlite else {}))
    if settings.is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(connection, _record) -> None:
    # Transactions are begun by _sqlite_begin, not by the driver, so that a writer can
    # ask for BEGIN IMMEDIATE (SQLAlchemy's documented pysqlite recipe).
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # writers queue instead of failing at once
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable under WAL except on power loss
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    bind = engine.execution_options(**WRITER) if writer else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together, or rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    command.upgrade(alembic_config(engine), "head")
