"""Quizzes and progress over HTTP, as learners with their own cookies."""

import io
import json
import re
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app import catalog, db, progress, quizzes
from app.config import Settings
from app.main import create_app
from app.quizzes import Kind
from app.web import quiz as quiz_routes
from tests.conftest import log_state, scalar

pytestmark = pytest.mark.databases
MAIN = re.compile(r'<main id="main">(.*)</main>', re.S)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def token(client: TestClient, page: str = "/progress") -> str:
    """The form token a browser would find in `page`."""
    return CSRF.search(client.get(page).text).group(1)


def post_answer(client: TestClient, url: str, index: str, given: str, **options: object):
    """Post an answer the way the question page's form does."""
    data = {"index": index, "answer": given, "csrf": token(client, "/progress")}
    return client.post(f"{url}/answer", data=data, **options)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def learner(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def other_learner(app, learner: TestClient) -> Iterator[TestClient]:  # noqa: ARG001
    with TestClient(app) as client:
        yield client


def start(client: TestClient, **params: object) -> str:
    response = client.get("/quiz/start", params=params, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def question_html(client: TestClient, url: str) -> str:
    page = client.get(url).text
    return CSRF.sub("", MAIN.search(page).group(1)).replace(url.rsplit("/", 1)[1], "ATTEMPT")


def answer_all(client: TestClient, url: str, given: str = "1") -> list[str]:
    """Answer every question of the attempt at `url`; returns the pages seen after each."""
    pages = []
    while True:
        response = client.get(url, follow_redirects=False)
        if response.status_code == 303:
            return pages
        index = re.search(r'name="index" value="(\d+)"', response.text).group(1)
        pages.append(post_answer(client, url, index, given).text)


def test_the_same_seed_and_settings_give_the_same_questions(
    learner: TestClient, other_learner: TestClient
) -> None:
    settings = {"seed": 77, "count": 3, "category": ["cnn", "detection", "optimizers"]}
    first = question_html(learner, start(learner, **settings))
    again = question_html(other_learner, start(other_learner, **settings))
    different = question_html(learner, start(learner, **{**settings, "seed": 78}))
    assert first == again
    assert first != different


@pytest.mark.parametrize("kind", list(Kind))
def test_the_question_page_does_not_depend_on_the_answer(
    learner: TestClient, monkeypatch: pytest.MonkeyPatch, kind: Kind
) -> None:
    """Change the answer, the right option and the worked solution: the page stays the same."""
    url = start(learner, seed=5, count=1, kind=kind)
    honest = learner.get(url).text
    generate = quizzes.generate

    def with_other_answers(*args: object, **kwargs: object) -> list[quizzes.Question]:
        return [
            replace(
                question,
                expected=(question.expected or 0) + 12345.678,
                steps=(),
                correct_option=((question.correct_option or 0) + 1) % 4,
            )
            for question in generate(*args, **kwargs)
        ]

    monkeypatch.setattr(quizzes, "generate", with_other_answers)
    quiz_routes._generated.cache_clear()  # make the page use the altered questions
    assert learner.get(url).text == honest
    quiz_routes._generated.cache_clear()


def test_requests_arriving_together_build_the_card_facts_once(
    app,
    learner: TestClient,  # noqa: ARG001 (its start-up loads the catalog)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = []
    all_formulas = catalog.all_formulas

    def slow_all_formulas(session: Session) -> list:
        builds.append(session)
        time.sleep(0.05)  # long enough for every other request to arrive meanwhile
        return all_formulas(session)

    monkeypatch.setattr(catalog, "all_formulas", slow_all_formulas)
    monkeypatch.setattr(quiz_routes, "_latest_facts", [])  # as in a worker just started

    def facts(_: int) -> quiz_routes.CatalogFacts:
        with app.state.sessions() as session:
            return quiz_routes._catalog(session)

    with ThreadPoolExecutor(8) as pool:
        arrived = list(pool.map(facts, range(8)))
    assert len(builds) == 1
    assert all(each is arrived[0] for each in arrived)
    assert "softmax" in arrived[0].cards


@contextmanager
def writes_blocked(settings: Settings) -> Iterator[None]:
    """Another client holds what every learner's write needs, until the block ends."""
    if settings.is_sqlite:
        holder = sqlite3.connect(settings.sqlite_file, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the database's write lock
        try:
            yield
        finally:
            holder.close()
        return
    engine = create_engine(settings.database_url)
    with engine.connect() as holder:
        holder.exec_driver_sql("LOCK TABLE learners IN ACCESS EXCLUSIVE MODE")
        yield
    engine.dispose()


def test_a_write_kept_waiting_for_a_lock_is_a_503_to_retry_not_a_hang(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "LOCK_TIMEOUT_MS", 300)  # before the app makes its engine
    with TestClient(create_app(settings)) as learner:
        with writes_blocked(settings):
            started = time.monotonic()
            refused = learner.get("/quiz/start", params={"seed": 1, "count": 3})
            waited = time.monotonic() - started
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert "The database is busy: try again in a moment." in refused.text
        assert waited < 10
        start(learner, seed=1, count=3)  # free again: the same request goes through


def test_a_practice_quiz_gives_feedback_then_results(learner: TestClient) -> None:
    url = start(learner, seed=1, count=5, kind=["name", "symbol", "complete"])
    pages = answer_all(learner, url)
    assert len(pages) == 5
    assert all(("✓" in page) or ("✗" in page) for page in pages)
    results = learner.get(f"{url}/results").text
    score = re.search(r'data-score="(\d+)" data-total="(\d+)"', results)
    assert score.group(2) == "5"
    assert int(score.group(1)) == sum("✓ 正解" in page for page in pages)


def test_quiz_pages_arrive_with_every_formula_typeset_by_the_server(learner: TestClient) -> None:
    url = start(learner, seed=5, count=12, kind=["complete", "symbol", "compute", "name"])
    pages = [learner.get(url).text]
    pages += answer_all(learner, url)  # each with the feedback on the question answered
    assert len(pages) == 13
    for page in pages:
        assert "mjx-container" in page
        assert r"\(" not in page  # nothing left to MathJax in the browser
        assert r"\[" not in page
    assert any('notation="box"' in page for page in pages)  # a formula with a term masked


def test_a_mock_exam_shows_results_only_at_the_end(learner: TestClient) -> None:
    url = start(learner, seed=3, count=2, mode="exam", kind="name")
    assert 'class="countdown"' in learner.get(url).text
    response = post_answer(learner, url, "0", "1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == url


def test_a_mock_exam_ends_when_time_is_up(
    learner: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = start(learner, seed=3, count=3, mode="exam", kind="name")
    later = progress.now() + timedelta(hours=1)
    monkeypatch.setattr(progress, "now", lambda: later)
    response = post_answer(learner, url, "0", "1", follow_redirects=False)
    assert response.headers["location"] == f"{url}/results"
    results = learner.get(f"{url}/results").text
    assert "未解答: 3" in results
    assert scalar(settings.database_url, "select count(*) from answers") == 0


def test_a_repeated_submission_is_stored_once(learner: TestClient, settings: Settings) -> None:
    url = start(learner, seed=2, count=2, kind="name")
    learner.get(url)
    for _ in range(3):
        post_answer(learner, url, "0", "1")
    assert scalar(settings.database_url, "select count(*) from answers") == 1


def test_the_log_is_copied_into_the_database_soon_after_the_last_answer(tmp_path) -> None:
    """The app checkpoints once a request is over. SQLite's own checkpoint, inside each
    commit, stopped short of the pages being committed: their request was still reading."""
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as learner:
        answer_all(learner, start(learner, seed=5, count=5, kind="name"))
        log = log_state(settings.sqlite_file)
        for _ in range(100):
            if log.copied == log.pages:
                break
            time.sleep(0.05)
            log = log_state(settings.sqlite_file)
        assert log.pages > 0
        assert log.copied == log.pages


def test_one_learner_cannot_see_or_answer_anothers_quiz(
    learner: TestClient, other_learner: TestClient
) -> None:
    url = start(learner, seed=4, count=2, kind="name")
    answer_all(learner, url)
    assert other_learner.get(url).status_code == 404
    assert other_learner.get(f"{url}/results").status_code == 404
    response = post_answer(other_learner, url, "0", "1")
    assert response.status_code == 404
    assert "data-answered" not in other_learner.get("/progress").text
    assert json.loads(other_learner.get("/progress/export").text)["answers"] == []
    assert len(json.loads(learner.get("/progress/export").text)["answers"]) == 2


def test_review_mode_serves_the_card_answered_wrong(learner: TestClient) -> None:
    url = start(learner, seed=6, count=1, kind="name", category="cnn")
    answer_all(learner, url, given="9")  # never a valid option: wrong
    missed = re.search(r'href="/formulas/([\w-]+)"', learner.get(f"{url}/results").text)
    later = progress.now() + timedelta(minutes=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(progress, "now", lambda: later)
        assert 'data-due="1"' in learner.get("/progress").text
        assert 'data-due="1"' in learner.get("/").text  # the home page says so too
        review = start(learner, mode="review", count=1, category="cnn", kind="name")
        assert f"/formulas/{missed.group(1)}" in post_answer(learner, review, "0", "1").text


def test_the_recovery_key_resumes_the_learner_elsewhere(
    learner: TestClient, other_learner: TestClient
) -> None:
    answer_all(learner, start(learner, seed=8, count=1, kind="name"))
    key = re.search(r'class="recovery-key">([0-9a-f-]+)<', learner.get("/progress").text)
    other_learner.post(
        "/progress/recover", data={"key": key.group(1), "csrf": token(other_learner)}
    )
    assert 'data-answered="1"' in other_learner.get("/progress").text


@pytest.mark.parametrize("key", ["", "not-a-key", "0" * 32, "<script>"])
def test_a_bad_recovery_key_is_a_clear_422(learner: TestClient, key: str) -> None:
    response = learner.post("/progress/recover", data={"key": key, "csrf": token(learner)})
    assert response.status_code == 422
    assert "recovery key" in response.text


def test_export_import_and_delete(learner: TestClient, other_learner: TestClient) -> None:
    answer_all(learner, start(learner, seed=9, count=2, kind="name"))
    exported = learner.get("/progress/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    files = {"file": ("progress.json", exported.content, "application/json")}
    for _ in range(2):  # twice: still the same two answers
        other_learner.post("/progress/import", files=files, data={"csrf": token(other_learner)})
    assert 'data-answered="2"' in other_learner.get("/progress").text
    learner.post("/progress/delete", data={"confirm": "yes", "csrf": token(learner)})
    assert json.loads(learner.get("/progress/export").text)["answers"] == []
    assert 'data-answered="2"' in other_learner.get("/progress").text


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"format": "other"}',
        json.dumps(
            {"learner_id": "x", "answers": [{"id": "z", "formula_id": "iou"}], "reviews": []}
        ).encode(),
        json.dumps(
            {
                "learner_id": "x",
                "answers": [],
                "reviews": [
                    {"formula_id": "iou", "fsrs_card": {"bad": 1}, "due": "2026-01-01T00:00:00Z"}
                ],
            }
        ).encode(),
    ],
)
def test_a_bad_import_is_refused_and_changes_nothing(learner: TestClient, content: bytes) -> None:
    response = learner.post(
        "/progress/import",
        files={"file": ("p.json", content, "application/json")},
        data={"csrf": token(learner)},
    )
    assert response.status_code == 422
    assert "file" in response.text
    assert json.loads(learner.get("/progress/export").text)["reviews"] == []


def test_deleting_needs_confirmation(learner: TestClient) -> None:
    assert learner.post("/progress/delete", data={"csrf": token(learner)}).status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"count": 0},
        {"count": 51},
        {"mode": "cram"},
        {"kind": "essay"},
        {"seed": -1},
        {"category": "no-such-category"},
        {"card": "no-such-card"},
    ],
)
def test_bad_quiz_settings_are_a_clear_422(learner: TestClient, params: dict) -> None:
    response = learner.get("/quiz/start", params=params)
    assert response.status_code == 422


def test_the_learner_cookie_is_signed_httponly_and_samesite(app) -> None:
    with TestClient(app) as client:
        cookie = client.get("/").headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        client.cookies.set("learner", "a" * 32)  # forged: not signed
        assert "set-cookie" in client.get("/").headers  # refused, a new learner is made


def test_anki_deck_holds_one_note_per_card(learner: TestClient) -> None:
    response = learner.get("/export/anki", params={"category": "optimizers"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as deck:
        database = deck.read("collection.anki2")
    path = "/tmp/koshiki-test-collection.anki2"
    with open(path, "wb") as file:
        file.write(database)
    with sqlite3.connect(path) as collection:
        notes = [row[0].split("\x1f") for row in collection.execute("select flds from notes")]
    count = len(learner.get("/api/formulas").json())
    optimizers = [f for f in learner.get("/api/formulas").json() if f["category"] == "optimizers"]
    assert 0 < len(notes) == len(optimizers) < count
    adam = next(fields for fields in notes if fields[0].startswith("Adam"))
    assert adam[2].startswith(r"\[")
    assert r"\hat{m}" in adam[2]
    assert "Kingma" in adam[4]
