"""Quiz pages: settings, one question at a time, feedback, results; review and mock exams.

The questions of an attempt are regenerated from its seed and settings on every request,
so the answer to a question is never in a page before the learner has answered it.
"""

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from threading import Lock
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import catalog, progress, quizzes
from app.catalog import Fingerprint
from app.models import Answer, Formula, Learner, QuizAttempt
from app.quizzes import CardFacts, Kind
from app.web.deps import LanguageDep, SessionDep, known_categories, writes
from app.web.learners import CsrfProtected, LearnerDep
from app.web.pages import render
from app.web.progress_charts import category_plot

router = APIRouter(include_in_schema=False)
SECONDS_PER_EXAM_QUESTION = 72
"""The real exam gives about 120 minutes for about 100 questions."""
MAX_QUESTIONS = 50


class QuizSettings(BaseModel):
    mode: Literal["practice", "exam", "review"] = "practice"
    count: int = Field(10, ge=1, le=MAX_QUESTIONS)
    category: list[str] = Field([], max_length=50)
    kind: list[Kind] = Field(list(Kind), min_length=1)
    card: list[str] = Field([], max_length=MAX_QUESTIONS)
    seed: int | None = Field(None, ge=0, lt=2**53)


def card_facts(formula: Formula) -> CardFacts:
    return CardFacts(
        id=formula.id,
        category=formula.category_id,
        title={"ja": formula.title_ja, "en": formula.title_en},
        latex=formula.latex[0],
        symbols=tuple((s.latex, {"ja": s.meaning_ja, "en": s.meaning_en}) for s in formula.symbols),
        wrong_forms=tuple(
            (w["latex"], {"ja": w["ja"], "en": w["en"]}) for w in formula.wrong_forms
        ),
        calculator=formula.calculator,
    )


@dataclass(frozen=True)
class CatalogFacts:
    """Every card's facts, for one catalog content; equal and hashed by its fingerprint."""

    fingerprint: Fingerprint
    cards: dict[str, CardFacts] = field(compare=False)


_latest_facts: list[CatalogFacts] = []
_building_facts = Lock()


def _catalog(session: Session) -> CatalogFacts:
    """The catalog's card facts, built once per catalog content.

    One thread builds them while the others wait: at start-up, requests that arrive
    together would otherwise each load the whole catalog, all sharing one GIL.
    """
    fingerprint = catalog.fingerprint(session)
    with _building_facts:
        if not _latest_facts or _latest_facts[0].fingerprint != fingerprint:
            facts = {formula.id: card_facts(formula) for formula in catalog.all_formulas(session)}
            _latest_facts[:] = [CatalogFacts(fingerprint, facts)]  # drop the old catalog's
        return _latest_facts[0]


@lru_cache(maxsize=256)
def _generated(
    facts: CatalogFacts,
    card_ids: tuple[str, ...],
    count: int,
    kinds: tuple[Kind, ...],
    seed: int,
) -> tuple[quizzes.Question, ...]:
    """An attempt's questions: pure in its arguments, so each is built once, not per request."""
    cards = [facts.cards[card_id] for card_id in card_ids if card_id in facts.cards]
    return tuple(quizzes.generate(cards, count, kinds, seed, list(facts.cards.values())))


def _generate(
    session: Session, card_ids: list[str], count: int, kinds: list[Kind], seed: int
) -> tuple[quizzes.Question, ...]:
    return _generated(_catalog(session), tuple(card_ids), count, tuple(kinds), seed)


def _candidate_ids(session: Session, settings: QuizSettings) -> list[str]:
    categories = known_categories(session, settings.category)
    return settings.card or catalog.formula_ids(session, categories)


def ensure_learner(session: Session, learner_id: str) -> None:
    if session.get(Learner, learner_id) is None:
        session.add(Learner(id=learner_id, created_at=progress.now()))
        session.flush()


@router.get("/quiz", response_class=HTMLResponse)
def quiz_settings(
    request: Request, session: SessionDep, lang: LanguageDep, learner_id: LearnerDep
) -> Response:
    """Choose categories, kinds, number of questions and mode."""
    due = len(progress.due_cards(session, learner_id, progress.now()))
    return render(
        request,
        "quiz_settings.html",
        lang=lang,
        due=due,
        kinds=list(Kind),
        categories=catalog.categories_with_formulas(session),
        max=MAX_QUESTIONS,
    )


@router.get("/quiz/start")
def start_quiz(
    request: Request,
    settings: Annotated[QuizSettings, Query()],
    session: SessionDep,
    lang: LanguageDep,
    learner_id: LearnerDep,
) -> Response:
    """Start an attempt; the same seed and settings always give the same questions."""
    now = progress.now()
    ids = _candidate_ids(session, settings)
    if settings.mode == "review":
        ids = progress.review_queue(session, learner_id, ids, now)[: settings.count]
    facts = _catalog(session)
    ids = [card_id for card_id in ids if card_id in facts.cards]
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
    try:
        if not ids:
            raise quizzes.QuizError("no card matches these settings")
        _generated(facts, tuple(ids), settings.count, tuple(settings.kind), seed)
    except quizzes.QuizError as error:
        return render(
            request, "error.html", status_code=422, lang=lang, status=422, message=str(error)
        )
    exam = settings.mode == "exam"
    attempt = QuizAttempt(
        id=secrets.token_hex(16),
        learner_id=learner_id,
        mode=settings.mode,
        seed=seed,
        settings={
            "count": settings.count,
            "kinds": [str(k) for k in settings.kind],
            "cards": ids,
        },
        started_at=now,
        deadline=now + timedelta(seconds=SECONDS_PER_EXAM_QUESTION * settings.count)
        if exam
        else None,
        served_index=0,
        served_at=now,
    )
    with writes(request) as transaction:
        ensure_learner(transaction, learner_id)
        transaction.add(attempt)
    return RedirectResponse(f"/quiz/{attempt.id}", status_code=303)


def _own_attempt(session: Session, attempt_id: str, learner_id: str) -> QuizAttempt:
    attempt = session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.learner_id != learner_id:  # another learner's is not found
        raise HTTPException(404, "no such quiz")
    return attempt


def _questions(session: Session, attempt: QuizAttempt) -> tuple[quizzes.Question, ...]:
    kinds = [Kind(kind) for kind in attempt.settings["kinds"]]
    return _generate(
        session, attempt.settings["cards"], attempt.settings["count"], kinds, attempt.seed
    )


def _answered(session: Session, attempt_id: str) -> int:
    return session.scalar(select(func.count()).where(Answer.attempt_id == attempt_id)) or 0


def _over(attempt: QuizAttempt, answered: int, now: datetime) -> bool:
    timed_out = attempt.deadline is not None and now > attempt.deadline
    return attempt.finished_at is not None or answered >= attempt.settings["count"] or timed_out


def _finish(request: Request, attempt_id: str, now: datetime) -> Response:
    with writes(request) as transaction:
        transaction.execute(
            update(QuizAttempt)
            .where(QuizAttempt.id == attempt_id, QuizAttempt.finished_at.is_(None))
            .values(finished_at=now)
        )
    return RedirectResponse(f"/quiz/{attempt_id}/results", status_code=303)


@router.get("/quiz/{attempt_id}", response_class=HTMLResponse)
def question_page(
    attempt_id: str,
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    learner_id: LearnerDep,
) -> Response:
    """The next unanswered question, without its answer."""
    attempt = _own_attempt(session, attempt_id, learner_id)
    now, answered = progress.now(), _answered(session, attempt_id)
    if _over(attempt, answered, now):
        return _finish(request, attempt_id, now)
    if attempt.served_index != answered:  # first time this question is shown: start its clock
        with writes(request) as transaction:
            transaction.execute(
                update(QuizAttempt)
                .where(QuizAttempt.id == attempt_id, QuizAttempt.served_index != answered)
                .values(served_index=answered, served_at=now)
            )
    question = _questions(session, attempt)[answered]
    return render(
        request,
        "quiz_question.html",
        lang=lang,
        attempt=attempt,
        question=question,
        total=attempt.settings["count"],
    )


@router.post("/quiz/{attempt_id}/answer", response_class=HTMLResponse, dependencies=[CsrfProtected])
def answer_question(
    attempt_id: str,
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    learner_id: LearnerDep,
    index: Annotated[int, Form(ge=0, lt=MAX_QUESTIONS)],
    answer: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Grade and store one answer; feedback at once, except in a mock exam."""
    attempt = _own_attempt(session, attempt_id, learner_id)
    now, answered = progress.now(), _answered(session, attempt_id)
    if _over(attempt, answered, now):
        return _finish(request, attempt_id, now)
    if index != answered:  # a repeated or stale submission: show where the quiz stands
        return RedirectResponse(f"/quiz/{attempt_id}", status_code=303)
    question = _questions(session, attempt)[index]
    grade = quizzes.grade(question, answer)
    elapsed = now - attempt.served_at if attempt.served_index == index else timedelta()
    record = progress.AnswerRecord(
        learner_id=learner_id,
        attempt_id=attempt_id,
        question_index=index,
        formula_id=question.card.id,
        category_id=question.card.category,
        kind=question.kind,
        seed=attempt.seed,
        given=answer,
        correct=grade.correct,
        time_taken_ms=int(elapsed.total_seconds() * 1000),
    )
    finished = index + 1 >= attempt.settings["count"]
    try:
        with writes(request) as transaction:
            # Checked again under the write lock: a simultaneous post of the same answer
            # may have been stored since the read above.
            if _answered(transaction, attempt_id) != index:
                return RedirectResponse(f"/quiz/{attempt_id}", status_code=303)
            progress.record_answer(transaction, record, now)
            if finished:
                transaction.execute(
                    update(QuizAttempt).where(QuizAttempt.id == attempt_id).values(finished_at=now)
                )
    except IntegrityError:  # the same answer stored by another worker meanwhile
        return RedirectResponse(f"/quiz/{attempt_id}", status_code=303)
    if attempt.mode == "exam":
        return RedirectResponse(f"/quiz/{attempt_id}", status_code=303)
    return render(
        request,
        "quiz_feedback.html",
        lang=lang,
        attempt=attempt,
        question=question,
        grade=grade,
        given=answer,
        total=attempt.settings["count"],
        finished=finished,
    )


@router.get("/quiz/{attempt_id}/results", response_class=HTMLResponse)
def results_page(
    attempt_id: str,
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    learner_id: LearnerDep,
) -> Response:
    """Score, time, per-category breakdown and the questions to retry."""
    attempt = _own_attempt(session, attempt_id, learner_id)
    answers = list(
        session.scalars(
            select(Answer).where(Answer.attempt_id == attempt.id).order_by(Answer.question_index)
        )
    )
    total = attempt.settings["count"]
    if attempt.finished_at is None and len(answers) < total:
        return RedirectResponse(f"/quiz/{attempt.id}", status_code=303)
    return render(
        request,
        "quiz_results.html",
        lang=lang,
        attempt=attempt,
        **summary(session, attempt, answers, lang),
    )


def category_bars(
    session: Session, asked: Counter[str], right: Counter[str], lang: str
) -> list[tuple[str, float, str]]:
    """(category title, accuracy, "right/asked") per category answered, for a bar chart."""
    titles = {c.id: getattr(c, f"title_{lang}") for c in catalog.categories_with_formulas(session)}
    return [
        (titles.get(c, c), right[c] / asked[c], f"{right[c]}/{asked[c]}") for c in sorted(asked)
    ]


def summary(
    session: Session, attempt: QuizAttempt, answers: list[Answer], lang: str
) -> dict[str, Any]:
    asked, right = Counter[str](), Counter[str]()
    for answer in answers:
        asked[answer.category_id] += 1
        right[answer.category_id] += answer.correct
    wrong = list(dict.fromkeys(a.formula_id for a in answers if not a.correct))
    end = attempt.finished_at or progress.now()
    rows = category_bars(session, asked, right, lang)
    return {
        "total": attempt.settings["count"],
        "correct": sum(a.correct for a in answers),
        "unanswered": attempt.settings["count"] - len(answers),
        "seconds": int((end - attempt.started_at).total_seconds()),
        "category_rows": rows,
        "category_plot": category_plot(rows),
        "retry": catalog.formulas_by_id(session, wrong),
    }
