"""Database engine, sessions, locks and migrations: SQLite by default, or PostgreSQL."""

import hashlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from threading import Event, Lock, Thread

from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from app.config import PROJECT_ROOT, Settings

WRITER = {"sqlite_begin": "IMMEDIATE"}
"""Execution options of a session that will write: on SQLite it takes the write lock at
BEGIN, so concurrent writers queue (busy_timeout) instead of failing when a read
transaction cannot be upgraded to a write."""
LOCK_TIMEOUT_MS = 30_000
"""How long a transaction waits for a lock before failing with `DatabaseBusy`: SQLite's
write lock, or a PostgreSQL row or advisory lock, which would otherwise wait for ever.
Under load (64 clients on 2 cores) 5 s was not always enough."""
SCHEMA_LOCK = "koshiki:schema"
"""Taken by migrations and catalog loads, so that processes starting at once take turns."""
SCHEMA_WRITER = {**WRITER, "lock_timeout_ms": 300_000}
"""A schema change waits as long as another process's first catalog load may take."""
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


CHECKPOINT_PAUSE = 0.2
"""Seconds from a commit to the checkpoint after it, so that a burst of writes is copied at
once."""
WAL_FALLBACK_PAGES = 10_000
"""The log's length in pages (4 KiB) at which a commit checkpoints by itself (SQLite's default
is 1,000): reached only where no `Checkpointer` runs, or while one cannot keep up."""
WAL_SIZE_LIMIT = 16 * 2**20
"""Bytes of the WAL file kept for reuse when the log starts over; the rest is cut off."""

logger = logging.getLogger(__name__)


class DatabaseBusy(Exception):
    """A lock stayed taken for longer than the transaction's lock timeout: try again."""


POOL = {"pool_size": 10, "max_overflow": -1}
"""A request that writes holds two connections, its reader and its writer: with a capped
pool, concurrent requests each holding the one and waiting for the other deadlocked until
the pool timed out (500s under load). Uncapped, a process opens at most two connections per
thread of its request thread pool (40 by default); extra ones are closed when returned."""


def make_engine(settings: Settings) -> Engine:
    if not settings.is_sqlite:
        # A server may close idle connections (restart, failover): test them before use.
        # Each connection waits LOCK_TIMEOUT_MS for a lock; a transaction that may wait
        # longer (a schema change) says so itself, so others pay no extra round trip.
        engine = create_engine(
            settings.database_url,
            pool_pre_ping=True,
            connect_args={"options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
            **POOL,
        )
        event.listen(engine, "begin", _postgresql_begin)
        return engine
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, **POOL)
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
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable under WAL except on power loss
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_FALLBACK_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    # Writers queue instead of failing at once; set per transaction, so that the long wait
    # of a schema change never outlives it in the connection pool.
    timeout = options.get("lock_timeout_ms", LOCK_TIMEOUT_MS)
    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(timeout)}")
    connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")


class Checkpointer:
    """Copies an SQLite database's log (its WAL) back into the file in a thread of its own,
    soon after each commit, so that the log starts over and no request waits for the copy.

    SQLite's own checkpoint runs inside the commit that finds the log long, and here it
    never finished: a request that writes still has its read transaction open when it
    commits, and a checkpoint cannot copy pages newer than what a reader sees. The log was
    never started over (17 MB more for every minute of 32 learners taking quizzes), and each
    commit paid for a checkpoint and its fsyncs while the process's other writers queued
    (a quarter of the request threads' time). Run after the request is over, a checkpoint
    copies everything, and the next writer starts the log from the beginning.

    Under a load that always has a request reading, the log still grows until the first
    pause; `WAL_SIZE_LIMIT` then gives the disk space back.
    """

    def __init__(self, engine: Engine, pause: float = CHECKPOINT_PAUSE) -> None:
        self._engine = engine
        self._pause = pause
        self._wrote = Event()
        self._stopping = Event()
        self._thread = Thread(target=self._run, name="sqlite-checkpoints", daemon=True)

    def __enter__(self) -> "Checkpointer":
        event.listen(self._engine, "commit", self._on_commit)
        self._wrote.set()  # what was written before, such as the catalog just loaded
        self._thread.start()
        return self

    def __exit__(self, *_exception: object) -> None:
        event.remove(self._engine, "commit", self._on_commit)
        self._stopping.set()
        self._wrote.set()
        self._thread.join()

    def _on_commit(self, _connection: Connection) -> None:
        self._wrote.set()

    def _run(self) -> None:
        while self._wrote.wait() and not self._stopping.wait(self._pause):
            self._wrote.clear()
            try:
                self._checkpoint()
            except Exception:  # logged, and tried again after the next commit
                logger.exception("checkpoint of %s failed", self._engine.url.database)

    def _checkpoint(self) -> None:
        # PASSIVE: copies what no reader still needs, and never makes anyone wait.
        connection = self._engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        finally:
            connection.close()


def backup_sqlite(database: Path, destination: Path, tables: Sequence[str] = ()) -> None:
    """Copy an SQLite database to `destination` as it stands at one moment, while the app
    keeps serving: SQLite's online backup, which reads what is still in the log too (a copy
    of the file alone would miss it).

    The copy is a single file (no log), checked (sound, not empty, with these `tables`)
    before it replaces an older one, so a backup cut short never leaves a broken file where
    the last good one was.
    """
    if not database.is_file():  # connecting would make an empty one
        raise FileNotFoundError(f"there is no database at {database}")
    if not destination.parent.is_dir():
        raise FileNotFoundError(f"there is no directory {destination.parent}")
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)  # left by a backup cut short
    try:
        with (
            closing(sqlite3.connect(database)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            _require_sound(copy, tables)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)


def _require_sound(copy: sqlite3.Connection, tables: Sequence[str]) -> None:
    present = {name for (name,) in copy.execute("SELECT name FROM sqlite_schema")}
    if not present:
        raise sqlite3.DatabaseError("the database is empty")
    missing = [table for table in tables if table not in present]
    if missing:
        raise sqlite3.DatabaseError(f"the database has no table '{missing[0]}'")
    (check,) = copy.execute("PRAGMA quick_check").fetchone()
    if check != "ok":
        raise sqlite3.DatabaseError(f"the copy is damaged: {check}")


def _postgresql_begin(connection: Connection) -> None:
    timeout = connection.get_execution_options().get("lock_timeout_ms")
    if timeout is not None:  # this transaction's own, for as long as it lasts
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout)}")


def is_lock_timeout(error: OperationalError) -> bool:
    """Whether the database gave up waiting for a lock (SQLite: busy; PostgreSQL: 55P03)."""
    cause = error.orig
    if isinstance(cause, sqlite3.OperationalError):
        return cause.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # any extended BUSY code
    return getattr(cause, "sqlstate", None) == _LOCK_NOT_AVAILABLE


def make_session_factory(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    bind = engine.execution_options(**WRITER) if writer else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together, or rolled back on any error."""
    with _writers_take_turns(factory.kw["bind"]), factory() as session, session.begin():
        yield session


_sqlite_writers: dict[str, Lock] = {}


@contextmanager
def _writers_take_turns(bind: Engine) -> Iterator[None]:
    """Make a process's writers to one SQLite file queue on a lock of its own.

    Waiting in SQLite's busy handler, a writer sleeps in steps that grow to 100 ms and does
    not know when the lock is free: with 64 clients on one worker, the slowest 1 % of
    answers waited 4 s while later ones went first. Between processes it still decides.
    """
    options = bind.get_execution_options()
    if bind.dialect.name != "sqlite" or options.get("sqlite_begin") != "IMMEDIATE":
        yield
        return
    turn = _sqlite_writers.setdefault(str(bind.url), Lock())  # setdefault is atomic
    if not turn.acquire(timeout=LOCK_TIMEOUT_MS / 1000):
        raise DatabaseBusy(f"no turn to write to {bind.url.database} in time")
    try:
        yield
    finally:
        turn.release()


def lock(session: Session, name: str) -> None:
    """Make the writing transactions that lock `name` run one after the other.

    On PostgreSQL it is an advisory lock held until the transaction ends. SQLite needs
    none: a writer (`WRITER`) holds the whole database's write lock from BEGIN IMMEDIATE.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@contextmanager
def schema_change(engine: Engine) -> Iterator[Session]:
    """A writing transaction that holds `SCHEMA_LOCK`: for migrating and loading the catalog."""
    with transaction(sessionmaker(engine.execution_options(**SCHEMA_WRITER))) as session:
        lock(session, SCHEMA_LOCK)
        yield session


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration; with a connection, migrations run in its transaction."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["connection"] = connection
    return config


def upgrade(session: Session) -> None:
    """Bring the schema to the newest revision, in the session's transaction."""
    command.upgrade(alembic_config(session.connection()), "head")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, taking turns with other processes."""
    with schema_change(engine) as session:
        upgrade(session)
