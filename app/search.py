"""Full-text search over the catalog: SQLite FTS5 with the trigram tokenizer.

Trigrams match Japanese, which has no spaces between words, but a trigram index cannot
answer a term shorter than three characters; such queries fall back to LIKE on the same
table.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.cards import LANGUAGES, Card

MAX_QUERY_LENGTH = 200
TRIGRAM = 3
# bm25 weights per column (formula_id, title, tags, symbols, body): a hit in the title
# matters most, one in the prose least.
RANKING = "bm25(formula_search, 0.0, 10.0, 5.0, 3.0, 1.0)"
COLUMNS = ("title", "tags", "symbols", "body")


def index(session: Session, card: Card) -> None:
    unindex(session, card.id)
    session.execute(
        text(
            "INSERT INTO formula_search (formula_id, title, tags, symbols, body) "
            "VALUES (:id, :title, :tags, :symbols, :body)"
        ),
        {
            "id": card.id,
            "title": " ".join(card.title[language] for language in LANGUAGES),
            "tags": " ".join(card.tags),
            "symbols": " ".join(f"{s.latex} {s.ja} {s.en}" for s in card.symbols),
            "body": "\n".join(
                part[language] for part in (card.notes, card.mistakes) for language in LANGUAGES
            ),
        },
    )


def unindex(session: Session, formula_id: str) -> None:
    session.execute(text("DELETE FROM formula_search WHERE formula_id = :id"), {"id": formula_id})


def search(session: Session, query: str) -> list[str]:
    """Ids of the formulas matching every term of `query`, best match first."""
    # FTS5 would read a NUL as the end of its query string: no card has one, so it separates.
    terms = query.replace("\x00", " ").split()
    if not terms:
        return []
    if min(len(term) for term in terms) >= TRIGRAM:
        # Each term becomes an FTS5 string ("" escapes a quote), so the user's text is
        # never read as query syntax (AND, NEAR, column filters...).
        match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        rows = session.execute(
            text(
                "SELECT formula_id FROM formula_search WHERE formula_search MATCH :match "
                f"ORDER BY {RANKING}"
            ),
            {"match": match},
        )
    else:
        conditions, parameters = [], {}
        for i, term in enumerate(terms):
            parameters[f"t{i}"] = "%" + _escape_like(term) + "%"
            conditions.append(
                "(" + " OR ".join(f"{column} LIKE :t{i} ESCAPE '\\'" for column in COLUMNS) + ")"
            )
        rows = session.execute(
            text(
                "SELECT formula_id FROM formula_search WHERE "
                + " AND ".join(conditions)
                + " ORDER BY (title LIKE :t0 ESCAPE '\\') DESC, formula_id"
            ),
            parameters,
        )
    return list(rows.scalars())


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
