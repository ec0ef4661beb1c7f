"""add the search index on PostgreSQL

Revision ID: 8d2f6c1e0b7a
Revises: 4ec9a65f7d3d
Create Date: 2026-11-23 17:50:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "8d2f6c1e0b7a"
down_revision: str | Sequence[str] | None = "4ec9a65f7d3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TABLE = """
CREATE TABLE formula_search (
    formula_id VARCHAR(64) PRIMARY KEY, title TEXT, tags TEXT, symbols TEXT, body TEXT
)
"""
# A GIN trigram index answers ILIKE '%term%' on any of its columns; trigrams, not words,
# because Japanese has no spaces between words.
TRIGRAM_INDEX = """
CREATE INDEX formula_search_trigrams ON formula_search USING gin (
    title gin_trgm_ops, tags gin_trgm_ops, symbols gin_trgm_ops, body gin_trgm_ops
)
"""


def upgrade() -> None:
    """On PostgreSQL, the search table with its trigram index (SQLite has FTS5 already)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_TABLE)
    op.execute(TRIGRAM_INDEX)


def downgrade() -> None:
    """Drop the PostgreSQL search table; the pg_trgm extension stays for other users."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE formula_search")
