"""Many learners answering at once against a real server of two worker processes, on a
fresh database that both workers migrate and load as they start: no acknowledged answer
is lost, none is stored twice."""

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.config import PROJECT_ROOT, Settings
from tests.conftest import LiveServer, live_server, scalar

pytestmark = pytest.mark.databases
WORKERS = 2
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


@pytest.fixture
def server(settings: Settings, backend: str) -> Iterator[LiveServer]:
    with live_server(settings, f"{backend}-workers", workers=WORKERS) as running:
        yield running


def test_every_acknowledged_answer_is_stored(server: LiveServer, backend: str) -> None:
    with ThreadPoolExecutor(LEARNERS) as learners:
        acknowledged = sum(learners.map(lambda seed: take_quiz(server, seed), range(LEARNERS)))
    stored = scalar(server.database_url, "select count(*) from answers")
    per_attempt = scalar(
        server.database_url,
        "select max(n) from (select count(*) as n from answers group by attempt_id) as counts",
    )
    assert acknowledged == stored == LEARNERS * QUESTIONS
    assert per_attempt == QUESTIONS  # the double clicks stored nothing twice
    cards = len(list((PROJECT_ROOT / "formulas").glob("*/*.md")))
    assert scalar(server.database_url, "select count(*) from formulas") == cards
    if backend == "sqlite":
        assert scalar(server.database_url, "pragma integrity_check") == "ok"
