"""Full-text search over the catalog, by the database's own means.

SQLite: FTS5 with the trigram tokenizer. Trigrams match Japanese, which has no spaces
between words, but a trigram index cannot answer a term shorter than three characters;
such queries fall back to LIKE on the same table.

PostgreSQL: ILIKE on a table with a pg_trgm GIN index, for terms of any length; title
hits first, then by how often the terms occur, weighted by column as in SQLite's bm25.

On both, every term must occur in the title, tags, symbols or body, and the user's text
is only ever a bound value, with LIKE's wildcards escaped.
"""

from sqlalchemy import ColumnElement, Integer, Select, cast, column, func, or_, select, table, text
from sqlalchemy.orm import Session

from app.cards import LANGUAGES, Card

MAX_QUERY_LENGTH = 200
TRIGRAM = 3
WEIGHTS = {"title": 10.0, "tags": 5.0, "symbols": 3.0, "body": 1.0}
"""A hit in the title matters most, one in the prose least."""
COLUMNS = tuple(WEIGHTS)
SEARCH = table("formula_search", column("formula_id"), *(column(name) for name in COLUMNS))
BM25 = f"bm25(formula_search, 0.0, {', '.join(map(str, WEIGHTS.values()))})"


def index(session: Session, card: Card) -> None:
    unindex(session, card.id)
    session.execute(
        SEARCH.insert().values(
            formula_id=card.id,
            title=" ".join(card.title[language] for language in LANGUAGES),
            tags=" ".join(card.tags),
            symbols=" ".join(f"{s.latex} {s.ja} {s.en}" for s in card.symbols),
            body="\n".join(
                part[language] for part in (card.notes, card.mistakes) for language in LANGUAGES
            ),
        )
    )


def unindex(session: Session, formula_id: str) -> None:
    session.execute(SEARCH.delete().where(SEARCH.c.formula_id == formula_id))


def search(session: Session, query: str) -> list[str]:
    """Ids of the formulas matching every term of `query`, best match first."""
    # FTS5 would read a NUL as the end of its query string: no card has one, so it separates.
    terms = query.replace("\x00", " ").split()
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        statement = _by_occurrences(terms)
    elif min(len(term) for term in terms) >= TRIGRAM:
        statement = _by_bm25(terms)
    else:
        statement = _matching(terms).order_by(_hit(SEARCH.c.title, terms[0]).desc())
    return list(session.scalars(statement.order_by(SEARCH.c.formula_id)))


def _by_bm25(terms: list[str]) -> Select[tuple[str]]:
    # Each term becomes an FTS5 string ("" escapes a quote), so the user's text is never
    # read as query syntax (AND, NEAR, column filters...).
    match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
    return (
        select(SEARCH.c.formula_id)
        .where(text("formula_search MATCH :match").bindparams(match=match))
        .order_by(text(BM25))
    )


def _by_occurrences(terms: list[str]) -> Select[tuple[str]]:
    title_hits = sum(cast(_hit(SEARCH.c.title, term), Integer) for term in terms)
    weighted = sum(
        weight * _occurrences(SEARCH.c[name], term)
        for name, weight in WEIGHTS.items()
        for term in terms
    )
    return _matching(terms).order_by(title_hits.desc(), weighted.desc())


def _matching(terms: list[str]) -> Select[tuple[str]]:
    """Rows in which every term occurs in some column, case-insensitively."""
    return select(SEARCH.c.formula_id).where(
        *(or_(*(_hit(SEARCH.c[name], term) for name in COLUMNS)) for term in terms)
    )


def _hit(field: ColumnElement[str], term: str) -> ColumnElement[bool]:
    return field.ilike("%" + _escape_like(term) + "%", escape="\\")


def _occurrences(field: ColumnElement[str], term: str) -> ColumnElement[int]:
    lowered = func.lower(field)
    removed = func.replace(lowered, func.lower(term), "")
    return (func.char_length(lowered) - func.char_length(removed)) / len(term)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
