"""add formulas typeset on the server

Revision ID: e5b8a1c7d2f4
Revises: c3a7e5d9f1b2
Create Date: 2026-12-07 03:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e5b8a1c7d2f4"
down_revision: str | Sequence[str] | None = "c3a7e5d9f1b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Typeset formulas and their stylesheet; the next catalog load fills them."""
    op.create_table(
        "math_html",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("catalog_version") as table:
        table.add_column(
            sa.Column("math_digest", sa.String(length=64), nullable=False, server_default="")
        )
        table.add_column(sa.Column("math_stylesheet", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("catalog_version") as table:
        table.drop_column("math_stylesheet")
        table.drop_column("math_digest")
    op.drop_table("math_html")
