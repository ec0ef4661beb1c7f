"""ORM tables: the single schema source that Alembic migrations are generated from."""

from typing import Any, ClassVar

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_ja: Mapped[str]
    title_en: Mapped[str]
    position: Mapped[int]

    formulas: Mapped[list["Formula"]] = relationship(back_populates="category")


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
