"""Many learners answering at once against a real server: no acknowledged answer is lost."""

import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import LiveServer

LEARNERS = 8
QUESTIONS = 6
TIMEOUT = httpx.Timeout(60.0)  # correctness, not latency: a loaded machine is slow


def take_quiz(server: LiveServer, seed: int) -> int:
    """Answer every question, each one posted twice at the same instant (a double click).

    Returns how many posts were acknowledged as stored (a 200 feedback page).
    """
    acknowledged = 0
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, follow_redirects=True) as client:
        url = client.get(
            "/quiz/start", params={"seed": seed, "count": QUESTIONS, "kind": "name"}
        ).url.path
        for _ in range(QUESTIONS):
            page = client.get(url).text
            index = re.search(r'name="index" value="(\d+)"', page).group(1)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            barrier = threading.Barrier(2)

            def post(
                index: str = index, csrf: str = csrf, barrier: threading.Barrier = barrier
            ) -> int:
                barrier.wait()
                answer = {"index": index, "answer": "1", "csrf": csrf}
                return client.post(f"{url}/answer", data=answer, follow_redirects=False).status_code

            with ThreadPoolExecutor(2) as pair:
                statuses = list(pair.map(lambda _: post(), range(2)))
            assert all(status in (200, 303) for status in statuses), statuses
            acknowledged += statuses.count(200)
    return acknowledged


def test_every_acknowledged_answer_is_stored(server: LiveServer) -> None:
    with sqlite3.connect(server.database) as db:
        before = db.execute("select count(*) from answers").fetchone()[0]
    with ThreadPoolExecutor(LEARNERS) as learners:
        acknowledged = sum(learners.map(lambda seed: take_quiz(server, seed), range(LEARNERS)))
    with sqlite3.connect(server.database) as db:
        stored = db.execute("select count(*) from answers").fetchone()[0] - before
        per_attempt = db.execute(
            "select max(n) from (select count(*) as n from answers group by attempt_id)"
        ).fetchone()[0]
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    assert acknowledged == stored == LEARNERS * QUESTIONS
    assert per_attempt == QUESTIONS  # the double clicks stored nothing twice
