"""Answers, FSRS scheduling, the review queue, export, import and deletion."""

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card as MemoryCard
from fsrs import Rating, Scheduler
from sqlalchemy import func, select

from app import progress
from app.config import Settings
from app.db import make_engine, make_session_factory, migrate
from app.models import Answer, Learner, Review
from app.quizzes import Kind

pytestmark = pytest.mark.databases
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(settings: Settings):
    engine = make_engine(settings)
    migrate(engine)
    with make_session_factory(engine)() as session:
        session.add(Learner(id="a" * 32, created_at=T0))
        session.add(Learner(id="b" * 32, created_at=T0))
        session.commit()
        yield session
    engine.dispose()


def answer(
    session,
    formula_id: str,
    correct: bool,
    when: datetime,
    seconds: float = 20,
    learner: str = "a" * 32,
    kind: Kind = Kind.NAME,
) -> None:
    progress.record_answer(
        session,
        progress.AnswerRecord(
            learner_id=learner,
            attempt_id=None,
            question_index=0,
            formula_id=formula_id,
            category_id="cnn",
            kind=kind,
            seed=1,
            given="1",
            correct=correct,
            time_taken_ms=int(seconds * 1000),
        ),
        when,
    )
    session.commit()


@pytest.mark.parametrize(
    ("kind", "correct", "seconds", "rating"),
    [
        (Kind.NAME, False, 1, Rating.Again),
        (Kind.NAME, True, 5, Rating.Easy),
        (Kind.NAME, True, 15, Rating.Good),
        (Kind.NAME, True, 40, Rating.Hard),
        (Kind.COMPUTE, True, 20, Rating.Easy),
        (Kind.COMPUTE, True, 90, Rating.Good),
        (Kind.COMPUTE, True, 200, Rating.Hard),
        (Kind.COMPUTE, False, 20, Rating.Again),
    ],
)
def test_answers_map_to_ratings_by_correctness_and_time(
    kind: Kind, correct: bool, seconds: float, rating: Rating
) -> None:
    assert progress.rating_for(kind, correct, seconds) is rating


def test_due_dates_move_exactly_as_fsrs_schedules_them(session) -> None:
    reference, card = Scheduler(enable_fuzzing=False), MemoryCard()
    when = T0
    for correct, seconds in [(True, 15), (True, 5), (False, 3), (True, 40)]:
        answer(session, "iou", correct, when, seconds)
        card, _ = reference.review_card(
            card, progress.rating_for(Kind.NAME, correct, seconds), when
        )
        review = session.get(Review, ("a" * 32, "iou"))
        assert review.due == card.due
        when = card.due + timedelta(hours=1)


def test_a_right_answer_pushes_the_card_later_than_a_wrong_one(session) -> None:
    answer(session, "iou", True, T0, seconds=5)
    answer(session, "dice", False, T0)
    due = {r.formula_id: r.due for r in session.scalars(select(Review))}
    assert due["dice"] < due["iou"]


def test_the_review_queue_serves_due_cards_first_then_new_ones(session) -> None:
    answer(session, "iou", True, T0, seconds=5)  # due in days
    answer(session, "dice", False, T0)  # due in minutes
    queue = progress.review_queue(
        session, "a" * 32, ["iou", "dice", "nms", "bleu"], T0 + timedelta(hours=1)
    )
    assert queue == ["dice", "nms", "bleu"]


def test_progress_counts_per_category_day_and_due(session) -> None:
    answer(session, "iou", True, T0, seconds=5)  # Easy: graduates, due in days
    answer(session, "dice", False, T0 + timedelta(days=1))
    stats = progress.progress(session, "a" * 32, T0 + timedelta(days=1, hours=1))
    assert (stats.answered, stats.correct) == (2, 1)
    assert stats.categories[0].accuracy == 0.5
    assert stats.per_day[-1] == progress.Tally("2026-11-02", right=0, wrong=1)
    assert stats.per_day[-2] == progress.Tally("2026-11-01", right=1, wrong=0)
    assert stats.per_week[-1] == progress.Tally("2026-10-27", right=1, wrong=1)
    assert sum(week.answered for week in stats.per_week[:-1]) == 0
    assert stats.due_now == 1  # dice, answered wrong an hour ago
    assert stats.weakest[0][0] == "dice"
    assert 0 < stats.weakest[0][2] <= 1


def test_export_then_import_restores_everything_once(session) -> None:
    answer(session, "iou", True, T0)
    answer(session, "dice", False, T0)
    exported = progress.export_data(session, "a" * 32)
    assert len(exported.answers) == 2
    progress.delete_learner(session, "a" * 32)
    session.add(Learner(id="c" * 32, created_at=T0))
    assert progress.import_data(session, "c" * 32, exported) == 2
    assert progress.import_data(session, "c" * 32, exported) == 0  # idempotent
    session.commit()
    assert session.scalar(select(func.count()).where(Answer.learner_id == "c" * 32)) == 2
    reviews = {r.formula_id: r.due for r in exported.reviews}
    assert session.get(Review, ("c" * 32, "dice")).due == reviews["dice"]


def test_deleting_a_learner_leaves_others_untouched(session) -> None:
    answer(session, "iou", True, T0, learner="a" * 32)
    answer(session, "iou", True, T0, learner="b" * 32)
    progress.delete_learner(session, "a" * 32)
    session.commit()
    assert session.get(Learner, "a" * 32) is None
    learners = set(session.scalars(select(Answer.learner_id)))
    assert learners == {"b" * 32}
