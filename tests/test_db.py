"""The engine under as many concurrent requests as the server runs at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from app.config import Settings
from app.db import make_engine, make_session_factory, transaction

REQUEST_THREADS = 40
"""Sync routes run in anyio's thread pool, 40 threads by default."""


def test_every_request_holding_a_reader_can_also_open_a_writer(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path))  # SQLite, whatever the suite runs on
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
    engine.dispose()
