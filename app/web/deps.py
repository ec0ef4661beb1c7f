"""Typed dependencies shared by the routers."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Cookie, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app import calculators, catalog
from app.calculators import Calculator
from app.cards import LANGUAGES, Language
from app.db import lock, transaction
from app.models import Formula
from app.web.i18n import DEFAULT_LANGUAGE

LANGUAGE_COOKIE = "lang"


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_writer_session(request: Request) -> Iterator[Session]:
    """A session for a request that writes: it holds the learner's write lock from its start."""
    with request.app.state.writer_sessions() as session:
        lock(session, _learner_lock(request))
        yield session


def get_language(lang: Annotated[str | None, Cookie()] = None) -> Language:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE  # type: ignore[return-value]


@contextmanager
def writes(request: Request) -> Iterator[Session]:
    """A short transaction that holds the learner's write lock from its start: read before it.

    What it reads again inside is what no other write of this learner can change until it
    ends, in any worker or instance (SQLite: the database's write lock; PostgreSQL: an
    advisory lock on the learner, so other learners never wait).
    """
    with transaction(request.app.state.writer_sessions) as session:
        lock(session, _learner_lock(request))
        yield session


def _learner_lock(request: Request) -> str:
    return f"koshiki:learner:{request.state.learner_id}"


SessionDep = Annotated[Session, Depends(get_session)]
WriterSessionDep = Annotated[Session, Depends(get_writer_session)]
LanguageDep = Annotated[Language, Depends(get_language)]


def formula_or_404(session: Session, formula_id: str) -> Formula:
    formula = catalog.get_formula(session, formula_id)
    if formula is None:
        raise HTTPException(404, f"no formula card has the id '{formula_id}'")
    return formula


def calculator_or_404(calculator_id: str) -> Calculator:
    calculator = calculators.get(calculator_id)
    if calculator is None:
        raise HTTPException(404, f"no calculator has the id '{calculator_id}'")
    return calculator


def known_categories(session: Session, ids: list[str]) -> list[str]:
    """`ids`, refused with a 422 naming the `category` field if one is not a category."""
    try:
        catalog.require_categories(session, ids)
    except catalog.UnknownCategory as error:
        raise HTTPException(422, f"category: {error}") from None
    return ids
