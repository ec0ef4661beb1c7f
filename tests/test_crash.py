"""A worker killed mid-request loses no acknowledged answer and leaves SQLite intact.

`koshiki serve --workers 3` on its own SQLite file; learners answer quizzes from several
threads while one worker gets SIGKILL; the uvicorn master starts a replacement.
"""

import os
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_OUTPUT
from tests.processes import koshiki_serve, wait_until

WORKERS = 3
LEARNERS = 6
QUESTIONS = 5
TIMEOUT = httpx.Timeout(10.0)
REPLACEMENT_SECONDS = 120
"""A new worker imports the whole app (NumPy, SQLAlchemy, every calculator): with the rest of
the suite on both cores that took over 30 s once."""


@dataclass
class Server:
    url: str
    database: Path
    master: subprocess.Popen


@dataclass
class Tally:
    """Answers the server acknowledged with a 2xx, as (attempt id, question index)."""

    acknowledged: set[tuple[str, int]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def worker_pids(master: int) -> set[int]:
    """The uvicorn workers: children of the master started by multiprocessing."""
    workers = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == master and b"spawn_main" in command:
            workers.add(int(entry.name))
    return workers


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data_dir, log = tmp_path / "data", TEST_OUTPUT / "crash-server.log"
    with koshiki_serve(data_dir, "--workers", str(WORKERS), log=log) as (url, master):
        wait_until(lambda: len(worker_pids(master.pid)) == WORKERS, 30, "every worker")
        yield Server(url, data_dir / "koshiki.sqlite3", master)


def answer_quizzes(server: Server, seed: int, finished: threading.Event, tally: Tally) -> None:
    """Start quizzes and answer them until told to stop; transport errors are retried."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, follow_redirects=True) as client:
        while not finished.is_set():
            try:
                quiz = client.get(
                    "/quiz/start", params={"seed": seed, "count": QUESTIONS, "kind": "name"}
                ).url.path
                attempt = quiz.rsplit("/", 1)[1]
                for _ in range(QUESTIONS):
                    page = client.get(quiz).raise_for_status().text
                    index = int(re.search(r'name="index" value="(\d+)"', page).group(1))
                    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
                    answer = {"index": str(index), "answer": "1", "csrf": csrf}
                    response = client.post(f"{quiz}/answer", data=answer, follow_redirects=False)
                    if response.is_success:
                        with tally.lock:
                            tally.acknowledged.add((attempt, index))
            except httpx.TransportError:
                pass  # the killed worker's connections drop: start another quiz
            seed += 1000


def test_a_killed_worker_loses_no_acknowledged_answer(server: Server) -> None:
    finished, tally = threading.Event(), Tally()

    def answered_more(than: int) -> bool:
        return len(tally.acknowledged) >= than + LEARNERS

    with ThreadPoolExecutor(LEARNERS) as learners:
        running = [
            learners.submit(answer_quizzes, server, seed, finished, tally)
            for seed in range(LEARNERS)
        ]
        try:
            wait_until(lambda: answered_more(0), 30, "answers before the kill")
            victim = max(worker_pids(server.master.pid))
            os.kill(victim, signal.SIGKILL)
            at_kill = len(tally.acknowledged)
            wait_until(
                lambda: len(worker_pids(server.master.pid) - {victim}) == WORKERS,
                REPLACEMENT_SECONDS,
                "the master to replace the killed worker",
            )
            wait_until(lambda: answered_more(at_kill), 30, "answers after the kill")
        finally:
            finished.set()
        for learner in running:
            learner.result()  # re-raises anything but a dropped connection

    with sqlite3.connect(server.database) as db:
        stored = set(db.execute("select attempt_id, question_index from answers"))
        assert db.execute("pragma integrity_check").fetchall() == [("ok",)]
    assert tally.acknowledged <= stored
