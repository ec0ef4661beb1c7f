"""ORM tables: the single schema source that Alembic migrations are generated from."""

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times")
        return (
            value.astimezone(UTC).replace(tzinfo=None)
            if value and dialect.name == "sqlite"
            else value
        )

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_ja: Mapped[str]
    title_en: Mapped[str]
    position: Mapped[int]

    formulas: Mapped[list["Formula"]] = relationship(back_populates="category")


class CatalogVersion(Base):
    """One row: the fingerprint of what the catalog holds, rewritten by every load that
    changes it. Caches built from the catalog read it on every request, so it is one row
    to read, not every card's."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    math_digest: Mapped[str] = mapped_column(String(64), default="")
    """Which formulas `math_html` holds typeset (app/typesetting.py); empty: none."""
    math_stylesheet: Mapped[str] = mapped_column(Text, default="")
    """The CSS that the typeset formulas need: MathJax's, for just their characters."""


class MathHtml(Base):
    """A formula of the catalog typeset on the server, as MathJax's CommonHTML."""

    __tablename__ = "math_html"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """A digest of the TeX and of whether it is displayed (`typesetting.math_key`)."""
    html: Mapped[str] = mapped_column(Text)


formula_tags = Table(
    "formula_tags",
    Base.metadata,
    Column("formula_id", ForeignKey("formulas.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", ForeignKey("tags.name", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)


class Formula(Base):
    """One formula card, as loaded from `formulas/<category>/<id>.md`."""

    __tablename__ = "formulas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    title_ja: Mapped[str]
    title_en: Mapped[str]
    syllabus_area: Mapped[str] = mapped_column(String(32))
    syllabus_status: Mapped[str] = mapped_column(String(16))
    latex: Mapped[list[Any]]
    source: Mapped[list[Any]]
    variants: Mapped[list[Any]]
    wrong_forms: Mapped[list[Any]]
    example: Mapped[dict[str, Any] | None]
    calculator: Mapped[str | None] = mapped_column(String(64))
    notes_ja: Mapped[str] = mapped_column(Text)
    notes_en: Mapped[str] = mapped_column(Text)
    mistakes_ja: Mapped[str] = mapped_column(Text)
    mistakes_en: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the card file, so an unchanged file is not written again."""

    category: Mapped[Category] = relationship(back_populates="formulas")
    symbols: Mapped[list["Symbol"]] = relationship(
        order_by="Symbol.position", cascade="all, delete-orphan", passive_deletes=True
    )
    tags: Mapped[list[Tag]] = relationship(secondary=formula_tags, order_by=Tag.name)


class Symbol(Base):
    """One entry of a card's legend."""

    __tablename__ = "symbols"

    id: Mapped[int] = mapped_column(primary_key=True)
    formula_id: Mapped[str] = mapped_column(
        ForeignKey("formulas.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    latex: Mapped[str]
    meaning_ja: Mapped[str]
    meaning_en: Mapped[str]


class Learner(Base):
    """Someone practising; known only by a random 128-bit id held in a signed cookie."""

    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QuizAttempt(Base):
    """One quiz as started: its questions follow from `seed` and `settings` alone."""

    __tablename__ = "quiz_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    settings: Mapped[dict[str, Any]]
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    served_index: Mapped[int] = mapped_column(default=0)
    served_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """When the question at `served_index` was first shown: the answer time starts here."""
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Answer(Base):
    """Every answer a learner gave; never updated, never dropped while the learner exists."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_index"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    attempt_id: Mapped[str | None] = mapped_column(
        ForeignKey("quiz_attempts.id", ondelete="CASCADE")
    )
    question_index: Mapped[int]
    formula_id: Mapped[str] = mapped_column(String(64))
    """No foreign key: history outlives a card removed from the catalog."""
    category_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    given: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool]
    time_taken_ms: Mapped[int]
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Review(Base):
    """The FSRS memory state of one card for one learner."""

    __tablename__ = "reviews"

    learner_id: Mapped[str] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    formula_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fsrs_card: Mapped[dict[str, Any]]
    """`fsrs.Card.to_dict()`: stability, difficulty, state, due, last review."""
    due: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
