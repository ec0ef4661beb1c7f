"""Learners, their answers and their review schedule (FSRS).

Every answer becomes an FSRS rating: a wrong answer is Again; a right one is Easy, Good
or Hard by how long it took (`RATING_SECONDS`). `fsrs.Scheduler.review_card` then sets
when the card is next due. Fuzzing is off so that a schedule can be reproduced.
"""

import hashlib
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fsrs import Card as MemoryCard
from fsrs import Rating, Scheduler
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import Answer, Formula, Learner, QuizAttempt, Review
from app.quizzes import Kind

SCHEDULER = Scheduler(enable_fuzzing=False)
RATING_SECONDS: dict[Kind, tuple[float, float]] = {
    Kind.COMPUTE: (30.0, 120.0),
    Kind.COMPLETE: (10.0, 30.0),
    Kind.SYMBOL: (8.0, 25.0),
    Kind.NAME: (8.0, 25.0),
}
"""(Easy below, Hard above) seconds per right answer: a computation takes longer than a
recognition, so each kind has its own thresholds."""


def now() -> datetime:
    return datetime.now(UTC)


def new_learner(session: Session) -> Learner:
    learner = Learner(id=secrets.token_hex(16), created_at=now())
    session.add(learner)
    return learner


def rating_for(kind: Kind, correct: bool, seconds: float) -> Rating:
    if not correct:
        return Rating.Again
    easy_below, hard_above = RATING_SECONDS[kind]
    if seconds < easy_below:
        return Rating.Easy
    return Rating.Hard if seconds > hard_above else Rating.Good


def schedule(
    session: Session, learner_id: str, formula_id: str, rating: Rating, when: datetime
) -> Review:
    """Apply one FSRS review of the card to the learner's memory state."""
    review = session.get(Review, (learner_id, formula_id))
    memory = MemoryCard.from_dict(review.fsrs_card) if review else MemoryCard()
    memory, _ = SCHEDULER.review_card(memory, rating, when)
    if review is None:
        review = Review(learner_id=learner_id, formula_id=formula_id)
        session.add(review)
    review.fsrs_card = memory.to_dict()
    review.due = memory.due
    return review


@dataclass(frozen=True)
class AnswerRecord:
    learner_id: str
    attempt_id: str | None
    question_index: int
    formula_id: str
    category_id: str
    kind: Kind
    seed: int
    given: str
    correct: bool
    time_taken_ms: int


def record_answer(session: Session, record: AnswerRecord, when: datetime) -> Answer:
    answer = Answer(id=secrets.token_hex(16), answered_at=when, **record.__dict__)
    session.add(answer)
    seconds = record.time_taken_ms / 1000
    schedule(
        session,
        record.learner_id,
        record.formula_id,
        rating_for(record.kind, record.correct, seconds),
        when,
    )
    return answer


def due_cards(session: Session, learner_id: str, when: datetime) -> list[str]:
    """Cards due for review, most overdue first."""
    rows = session.scalars(
        select(Review.formula_id)
        .where(Review.learner_id == learner_id, Review.due <= when)
        .order_by(Review.due)
    )
    return list(rows)


def review_queue(
    session: Session, learner_id: str, candidates: Sequence[str], when: datetime
) -> list[str]:
    """Due cards first, then cards never reviewed, limited to `candidates`."""
    allowed = set(candidates)
    due = [card for card in due_cards(session, learner_id, when) if card in allowed]
    seen = set(session.scalars(select(Review.formula_id).where(Review.learner_id == learner_id)))
    return due + [card for card in candidates if card not in seen]


def retrievability(review: Review, when: datetime) -> float:
    return SCHEDULER.get_card_retrievability(MemoryCard.from_dict(review.fsrs_card), when)


@dataclass
class CategoryScore:
    category_id: str
    answered: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class Tally:
    """Answers in one period (a day, a week), right and wrong."""

    start: str
    """The period's first day, ISO format."""
    right: int
    wrong: int

    @property
    def answered(self) -> int:
        return self.right + self.wrong


@dataclass
class Progress:
    answered: int
    correct: int
    categories: list[CategoryScore]
    per_day: list[Tally]
    per_week: list[Tally]
    due_per_day: list[tuple[str, int]]
    weakest: list[tuple[str, float, float]]
    """(formula id, accuracy, retrievability now): lowest accuracy first, then the card
    most likely forgotten."""
    due_now: int


def progress(
    session: Session, learner_id: str, when: datetime, days: int = 28, weeks: int = 12
) -> Progress:
    answers = list(session.scalars(select(Answer).where(Answer.learner_id == learner_id)))
    reviews = list(session.scalars(select(Review).where(Review.learner_id == learner_id)))
    scores: dict[str, CategoryScore] = {}
    per_card: dict[str, list[bool]] = defaultdict(list)
    for answer in answers:
        score = scores.setdefault(answer.category_id, CategoryScore(answer.category_id))
        score.answered += 1
        score.correct += answer.correct
        per_card[answer.formula_id].append(answer.correct)
    today = when.date()
    right_on = Counter(answer.answered_at.date() for answer in answers if answer.correct)
    wrong_on = Counter(answer.answered_at.date() for answer in answers if not answer.correct)
    per_day = [
        _tally(today - timedelta(days=k), 1, right_on, wrong_on) for k in reversed(range(days))
    ]
    # Weeks end today, so the latest week is always a whole seven days.
    per_week = [
        _tally(today - timedelta(days=7 * k + 6), 7, right_on, wrong_on)
        for k in reversed(range(weeks))
    ]
    due_on = Counter(max(review.due.date(), today) for review in reviews)
    due_per_day = [
        (str(today + timedelta(days=k)), due_on[today + timedelta(days=k)]) for k in range(7)
    ]
    weakest = sorted(
        (
            (
                review.formula_id,
                _accuracy(per_card[review.formula_id]),
                retrievability(review, when),
            )
            for review in reviews
        ),
        key=lambda row: (row[1], row[2]),
    )[:10]
    return Progress(
        answered=len(answers),
        correct=sum(answer.correct for answer in answers),
        categories=sorted(scores.values(), key=lambda score: score.category_id),
        per_day=per_day,
        per_week=per_week,
        due_per_day=due_per_day,
        weakest=weakest,
        due_now=sum(review.due <= when for review in reviews),
    )


def _tally(start: date, days: int, right_on: Counter[date], wrong_on: Counter[date]) -> Tally:
    period = [start + timedelta(days=k) for k in range(days)]
    return Tally(
        str(start), sum(right_on[day] for day in period), sum(wrong_on[day] for day in period)
    )


def _accuracy(results: list[bool]) -> float:
    return sum(results) / len(results) if results else 0.0


class ExportedAnswer(BaseModel):
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    formula_id: str = Field(max_length=64)
    category_id: str = Field(max_length=64)
    kind: Kind
    seed: int
    given: str = Field(max_length=200)
    correct: bool
    time_taken_ms: int = Field(ge=0, le=10**9)
    answered_at: datetime


class ExportedReview(BaseModel):
    formula_id: str = Field(max_length=64)
    fsrs_card: dict[str, Any]
    due: datetime


class Export(BaseModel):
    """Everything Koshiki holds about one learner; `import_data` reads it back."""

    format: str = Field(default="koshiki-progress/1", pattern=r"^koshiki-progress/1$")
    learner_id: str
    answers: list[ExportedAnswer] = Field(max_length=100_000)
    reviews: list[ExportedReview] = Field(max_length=10_000)


def export_data(session: Session, learner_id: str) -> Export:
    answers = session.scalars(
        select(Answer).where(Answer.learner_id == learner_id).order_by(Answer.answered_at)
    )
    reviews = session.scalars(select(Review).where(Review.learner_id == learner_id))
    return Export(
        learner_id=learner_id,
        answers=[ExportedAnswer.model_validate(a, from_attributes=True) for a in answers],
        reviews=[ExportedReview.model_validate(r, from_attributes=True) for r in reviews],
    )


def import_data(session: Session, learner_id: str, data: Export) -> int:
    """Merge exported answers and review states into this learner; returns answers added.

    Importing the same file twice changes nothing. An answer whose id already belongs to
    another learner (a file moved between learners) gets an id derived from both, which
    is again the same on every import. A review state replaces ours only when it is the
    more recent one.
    """
    ids = [item.id for item in data.answers]
    own = set(session.scalars(select(Answer.id).where(Answer.learner_id == learner_id)))
    others = set(
        session.scalars(
            select(Answer.id).where(Answer.id.in_(ids), Answer.learner_id != learner_id)
        )
    )
    added = 0
    for item in data.answers:
        answer_id = _derived_id(learner_id, item.id) if item.id in others else item.id
        if item.id in own or answer_id in own:
            continue
        own.add(answer_id)
        session.add(
            Answer(
                **{**item.model_dump(), "id": answer_id},
                learner_id=learner_id,
                attempt_id=None,
                question_index=0,
            )
        )
        added += 1
    for item in data.reviews:
        _require_memory_state(item.fsrs_card)
        review = session.get(Review, (learner_id, item.formula_id))
        if review is None:
            session.add(Review(learner_id=learner_id, **item.model_dump()))
        elif item.due > review.due:
            review.fsrs_card, review.due = item.fsrs_card, item.due
    return added


def _derived_id(learner_id: str, answer_id: str) -> str:
    return hashlib.sha256(f"{learner_id}:{answer_id}".encode()).hexdigest()[:32]


def _require_memory_state(state: dict[str, Any]) -> None:
    try:
        MemoryCard.from_dict(state)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"reviews: not an FSRS card state ({error!r})") from None


def delete_learner(session: Session, learner_id: str) -> None:
    for model in (Answer, Review, QuizAttempt):
        session.execute(delete(model).where(model.learner_id == learner_id))
    session.execute(delete(Learner).where(Learner.id == learner_id))


def card_titles(session: Session, ids: Sequence[str]) -> dict[str, Formula]:
    return {f.id: f for f in session.scalars(select(Formula).where(Formula.id.in_(ids)))}
