"""The database on every backend: migrations both ways, time zones and JSON kept exactly,
and an engine that serves as many concurrent requests as the server runs at once."""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from alembic import command
from app.config import Settings
from app.db import (
    Checkpointer,
    alembic_config,
    backup_sqlite,
    make_engine,
    make_session_factory,
    migrate,
    schema_change,
    transaction,
)
from app.models import Base, Learner, QuizAttempt
from tests.conftest import log_state

pytestmark = pytest.mark.databases
TOKYO = timezone(timedelta(hours=9))
REQUEST_THREADS = 40
"""Sync routes run in anyio's thread pool, 40 threads by default."""


@pytest.fixture
def engine(settings: Settings):
    engine = make_engine(settings)
    migrate(engine)
    yield engine
    engine.dispose()


def test_migrations_go_down_to_nothing_and_up_again(engine) -> None:
    tables = set(Base.metadata.tables) | {"alembic_version", "formula_search"}
    assert tables <= set(inspect(engine).get_table_names())
    with schema_change(engine) as session:
        command.downgrade(alembic_config(session.connection()), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(engine)
    assert tables <= set(inspect(engine).get_table_names())


def test_times_come_back_in_utc_and_json_unchanged(engine) -> None:
    started = datetime(2026, 11, 1, 18, 30, 15, 123456, tzinfo=TOKYO)
    settings = {"count": 3, "kinds": ["name", "compute"], "cards": ["交差エントロピー", "iou"]}
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(Learner(id="a" * 32, created_at=started))
        session.add(
            QuizAttempt(
                id="q" * 32,
                learner_id="a" * 32,
                mode="practice",
                seed=2**53 - 1,
                settings=settings,
                started_at=started,
                served_at=started,
            )
        )
    with sessions() as session:
        attempt = session.get(QuizAttempt, "q" * 32)
        assert attempt.started_at == started
        assert attempt.started_at.utcoffset() == timedelta(0)
        assert attempt.started_at.hour == 9
        assert attempt.deadline is None
        assert attempt.settings == settings
        assert attempt.seed == 2**53 - 1


def test_the_models_match_the_migrations(engine) -> None:
    with schema_change(engine) as session:
        command.check(alembic_config(session.connection()))  # raises on any difference


def test_every_request_holding_a_reader_can_also_open_a_writer(engine) -> None:
    readers, writers = make_session_factory(engine), make_session_factory(engine, writer=True)
    all_reading = threading.Barrier(REQUEST_THREADS)

    def answer(index: int) -> int:
        with readers() as session:
            session.execute(text("select 1"))  # holds its connection, as a request does
            all_reading.wait(timeout=20)
            with transaction(writers) as writer:
                return writer.execute(text("select :i"), {"i": index}).scalar_one()

    with ThreadPoolExecutor(REQUEST_THREADS) as requests:
        answered = list(requests.map(answer, range(REQUEST_THREADS)))
    assert answered == list(range(REQUEST_THREADS))


def test_sqlite_writers_in_one_process_take_turns_without_busy_waiting(tmp_path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/k.db"))
    migrate(engine)
    # No busy timeout: a writer that found SQLite's lock taken would fail at once.
    impatient = make_session_factory(engine.execution_options(lock_timeout_ms=0), writer=True)
    all_started = threading.Barrier(8)

    def write(index: int) -> None:
        all_started.wait(timeout=20)
        with transaction(impatient) as writer:
            writer.add(Learner(id=f"{index:032x}", created_at=datetime.now(TOKYO)))
            writer.flush()
            time.sleep(0.01)  # holds the write lock while the others want it

    with ThreadPoolExecutor(8) as threads:
        list(threads.map(write, range(8)))
    with make_session_factory(engine)() as session:
        assert session.scalar(text("select count(*) from learners")) == 8
    engine.dispose()


def test_the_sqlite_log_starts_over_though_each_writer_commits_while_reading(
    tmp_path: Path,
) -> None:
    """A request that writes has read first, and its reader is still open when it commits:
    SQLite's checkpoint in the commit could never copy that last write, so the log never
    started over (1,350 pages after these 600 requests, and growing)."""
    database = tmp_path / "k.db"
    engine = make_engine(Settings(data_dir=tmp_path, database_url=f"sqlite:///{database}"))
    migrate(engine)
    readers, writers = make_session_factory(engine), make_session_factory(engine, writer=True)

    def request_that_writes(index: int) -> int:
        with readers() as session:
            session.scalar(text("select count(*) from learners"))
            with transaction(writers) as writer:
                writer.add(Learner(id=f"{index:032x}", created_at=datetime.now(TOKYO)))
        time.sleep(0.002)  # until the next request
        return log_state(database).pages

    with Checkpointer(engine, pause=0.01):
        pages = [request_that_writes(index) for index in range(600)]
    engine.dispose()
    assert pages[-1] > 0
    assert max(pages) < 500  # about 100 on an idle machine


def test_a_backup_holds_what_is_still_in_the_log(tmp_path: Path) -> None:
    database, copy = tmp_path / "k.db", tmp_path / "copy.db"
    with closing(sqlite3.connect(database, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("create table answers (given text)")
        writer.executemany("insert into answers values (?)", [("1",), ("2",)])
        assert log_state(database).copied < log_state(database).pages
        backup_sqlite(database, copy)
    with closing(sqlite3.connect(copy)) as restored:
        assert restored.execute("select given from answers").fetchall() == [("1",), ("2",)]
