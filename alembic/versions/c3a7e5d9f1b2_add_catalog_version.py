"""add the catalog version

Revision ID: c3a7e5d9f1b2
Revises: 8d2f6c1e0b7a
Create Date: 2026-12-06 21:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c3a7e5d9f1b2"
down_revision: str | Sequence[str] | None = "8d2f6c1e0b7a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The one-row fingerprint of the catalog; the next catalog load writes it."""
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("catalog_version")
