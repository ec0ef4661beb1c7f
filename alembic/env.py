"""Alembic environment: migrates in the transaction the app hands over, or the configured one."""

from logging.config import fileConfig

from sqlalchemy import Connection

from alembic import context
from app.config import Settings
from app.db import make_engine, schema_change
from app.models import Base

config = context.config

SEARCH_INDEX = "formula_search"
"""The search table (FTS5 on SQLite, trigram-indexed on PostgreSQL) and its index are made
by hand in migrations, not by models."""


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001
    return not (type_ in ("table", "index") and (name or "").startswith(SEARCH_INDEX))


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:  # run from the `alembic` command line: it owns the logging setup
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    with schema_change(make_engine(Settings())) as session:
        run_migrations(session.connection())
else:
    run_migrations(connection)
