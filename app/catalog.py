"""The catalog: formula files read, checked and synced into the database, and read back.

Loading is all or nothing: every card is parsed and checked (schema, category, calculator,
worked example) before anything is written, and the write is one transaction, so a bad
card never leaves a half-updated catalog behind.
"""

import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, load_only, selectinload

from app import calculators, search
from app.cards import (
    Card,
    CardError,
    KebabId,
    Localized,
    Strict,
    content_hash,
    load_yaml,
    read_card,
)
from app.models import CatalogVersion, Category, Formula, Symbol, Tag, formula_tags


class CategoryEntry(Strict):
    id: KebabId
    title: Localized


@dataclass(frozen=True)
class Catalog:
    categories: list[CategoryEntry]
    cards: list[tuple[Card, str]]
    """Each card with the hash of its file."""


class CatalogError(Exception):
    """Every problem found in the formula files, one per line."""

    def __init__(self, problems: Sequence[CardError]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = list(problems)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


def read_catalog(formulas_dir: Path) -> Catalog:
    """Read and check every card below `formulas_dir`; raise CatalogError listing all problems."""
    problems: list[CardError] = []
    categories = _read_categories(formulas_dir / "categories.yaml")
    known_categories = {category.id for category in categories}
    cards: list[tuple[Card, str]] = []
    seen: dict[str, Path] = {}
    for path in sorted(formulas_dir.glob("*/*.md")):
        try:
            card, digest = read_card(path)
            if card.id in seen:
                raise CardError(path, "id", f"'{card.id}' is also the id of {seen[card.id]}")
            if card.category not in known_categories:
                raise CardError(path, "category", f"'{card.category}' is not in categories.yaml")
            check_example(path, card)
        except CardError as problem:
            problems.append(problem)
            continue
        seen[card.id] = path
        cards.append((card, digest))
    if problems:
        raise CatalogError(problems)
    return Catalog(categories, cards)


def _read_categories(path: Path) -> list[CategoryEntry]:
    try:
        entries = load_yaml(path.read_text(encoding="utf-8"))
        return TypeAdapter(list[CategoryEntry]).validate_python(entries)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise CatalogError([CardError(path, "(file)", str(error))]) from None


def check_example(path: Path, card: Card) -> None:
    """Run the card's calculator on its worked example and compare every listed output."""
    if card.calculator is None or card.example is None:
        return
    calculator = calculators.get(card.calculator)
    if calculator is None:
        raise CardError(path, "calculator", f"no calculator has the id '{card.calculator}'")
    try:
        result = calculator.run(calculator.parse(card.example.inputs))
    except calculators.InvalidInput as error:
        raise CardError(path, f"example.inputs.{error.field}", error.reason) from None
    for name, expected in card.example.outputs.items():
        if name not in result.outputs:
            raise CardError(path, f"example.outputs.{name}", "the calculator has no such output")
        actual = result.outputs[name]
        if not _close(actual, expected, card.example.tolerance):
            raise CardError(
                path,
                f"example.outputs.{name}",
                f"expected {expected}, the calculator gives {actual}",
            )


def _close(actual: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            _close(a, e, tolerance) for a, e in zip(actual, expected, strict=True)
        )
    numbers = (int, float)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=1e-12)
    return actual == expected


def sync_catalog(session: Session, catalog: Catalog) -> SyncReport:
    """Make the database hold exactly `catalog`, rewriting only cards whose file changed."""
    report = SyncReport()
    for position, entry in enumerate(catalog.categories):
        session.merge(
            Category(
                id=entry.id, title_ja=entry.title.ja, title_en=entry.title.en, position=position
            )
        )
    stored = {
        row.id: row.content_hash
        for row in session.execute(select(Formula.id, Formula.content_hash))
    }
    for card, digest in catalog.cards:
        if stored.get(card.id) == digest:
            report.unchanged += 1
            continue
        (report.updated if card.id in stored else report.added).append(card.id)
        _remove(session, card.id)
        session.add(_formula_row(session, card, digest))
        session.flush()
        search.index(session, card)
    report.removed = sorted(set(stored) - {card.id for card, _ in catalog.cards})
    for formula_id in report.removed:
        _remove(session, formula_id)
    session.flush()
    session.execute(delete(Tag).where(~Tag.name.in_(select(formula_tags.c.tag))))
    session.execute(delete(Category).where(~Category.id.in_(select(Formula.category_id))))
    write_fingerprint(session)
    return report


def _remove(session: Session, formula_id: str) -> None:
    session.execute(delete(Formula).where(Formula.id == formula_id))
    search.unindex(session, formula_id)


def _formula_row(session: Session, card: Card, digest: str) -> Formula:
    dump = card.model_dump(mode="json")
    return Formula(
        id=card.id,
        category_id=card.category,
        title_ja=card.title.ja,
        title_en=card.title.en,
        syllabus_area=card.syllabus.area,
        syllabus_status=card.syllabus.status,
        latex=list(card.latex),
        source=dump["source"],
        variants=dump["variants"],
        wrong_forms=dump["wrong_forms"],
        example=dump["example"],
        calculator=card.calculator,
        notes_ja=card.notes.ja,
        notes_en=card.notes.en,
        mistakes_ja=card.mistakes.ja,
        mistakes_en=card.mistakes.en,
        content_hash=digest,
        symbols=[
            Symbol(position=i, latex=s.latex, meaning_ja=s.ja, meaning_en=s.en)
            for i, s in enumerate(card.symbols)
        ],
        tags=[session.merge(Tag(name=tag)) for tag in dict.fromkeys(card.tags)],
    )


def load(session: Session, formulas_dir: Path) -> SyncReport:
    """Read, check and sync the catalog; the caller's transaction makes it all or nothing."""
    return sync_catalog(session, read_catalog(formulas_dir))


Fingerprint = str
"""What the catalog holds: a digest of every card's (id, content hash), every category's
titles and place, and which formulas are typeset for them (app/typesetting.py). Anything
built from the catalog stays valid while it is the same."""


def fingerprint(session: Session) -> Fingerprint:
    """The fingerprint the last load wrote; empty before any load."""
    return session.scalar(select(CatalogVersion.fingerprint)) or ""


def write_fingerprint(session: Session) -> None:
    """Of every card and category, and of the formulas typeset for them."""
    cards = session.execute(select(Formula.id, Formula.content_hash).order_by(Formula.id))
    categories = session.execute(
        select(Category.id, Category.title_ja, Category.title_en, Category.position).order_by(
            Category.id
        )
    )
    typeset = session.scalar(select(CatalogVersion.math_digest)) or ""
    content = json.dumps([typeset, *map(list, [*cards, *categories])], ensure_ascii=False)
    digest = content_hash(content.encode())
    if fingerprint(session) != digest:
        session.merge(CatalogVersion(id=1, fingerprint=digest))


def categories_with_formulas(session: Session, *, legends: bool = False) -> list[Category]:
    """Every category in display order, each with its formulas and their tags, and the
    symbols' legends when asked for.

    Only what lists show is loaded: the rest of a card (notes, sources, example) is read
    when first touched, and the catalog page is then twice as quick to load."""
    listed = load_only(
        Formula.id,
        Formula.category_id,
        Formula.title_ja,
        Formula.title_en,
        Formula.latex,
        Formula.calculator,
    )
    related = [selectinload(Formula.tags)]
    if legends:
        related.append(selectinload(Formula.symbols))
    statement = (
        select(Category)
        .order_by(Category.position)
        .options(selectinload(Category.formulas).options(listed, *related))
    )
    categories = list(session.scalars(statement))
    for category in categories:
        category.formulas.sort(key=lambda formula: formula.title_en.casefold())
    return categories


class UnknownCategory(ValueError):
    """A category id that the catalog does not have."""


def choose(categories: Sequence[Category], ids: Collection[str]) -> list[Category]:
    """Those of `categories` with these ids, or all of them when no id is given.

    Raises UnknownCategory naming the first id that is not a category, and the known ones.
    """
    _require_known([category.id for category in categories], ids)
    return [category for category in categories if not ids or category.id in ids]


def require_categories(session: Session, ids: Collection[str]) -> None:
    """Raise UnknownCategory unless every one of `ids` is a category of the catalog."""
    if ids:
        _require_known(list(session.scalars(select(Category.id).order_by(Category.position))), ids)


def _require_known(known: Sequence[str], ids: Collection[str]) -> None:
    unknown = [category_id for category_id in ids if category_id not in known]
    if unknown:
        raise UnknownCategory(f"no category has the id '{unknown[0]}' (known: {', '.join(known)})")


def formula_ids(session: Session, categories: Sequence[str] = ()) -> list[str]:
    """Ids in the order of categories_with_formulas, of these categories or all, without
    loading whole cards."""
    rows = session.execute(
        select(Formula.id, Formula.category_id, Formula.title_en, Category.position).join(
            Formula.category
        )
    )
    ordered = sorted(rows, key=lambda row: (row.position, row.title_en.casefold()))
    return [row.id for row in ordered if not categories or row.category_id in categories]


def formulas_by_id(session: Session, ids: Sequence[str]) -> list[Formula]:
    """The formulas with these ids, in the order given, with their tags and symbols."""
    rows = session.scalars(
        select(Formula)
        .where(Formula.id.in_(ids))
        .options(selectinload(Formula.tags), selectinload(Formula.symbols))
    )
    found = {formula.id: formula for formula in rows}
    return [found[formula_id] for formula_id in ids if formula_id in found]


def all_formulas(session: Session) -> list[Formula]:
    """Every formula in catalog order (category, then English title), symbols loaded."""
    statement = (
        select(Formula)
        .join(Formula.category)
        .order_by(Category.position, func.lower(Formula.title_en))
        .options(selectinload(Formula.symbols), selectinload(Formula.tags))
    )
    return list(session.scalars(statement))


def get_formula(session: Session, formula_id: str) -> Formula | None:
    return session.scalar(
        select(Formula)
        .where(Formula.id == formula_id)
        .options(selectinload(Formula.symbols), selectinload(Formula.tags))
    )
