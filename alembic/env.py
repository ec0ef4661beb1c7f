"""Alembic environment: migrates the engine the app hands over, or the configured one."""

from logging.config import fileConfig

from alembic import context
from app.config import Settings
from app.db import make_engine
from app.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # run from the `alembic` command line: it owns the logging setup
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    engine = make_engine(Settings())

SEARCH_INDEX = "formula_search"
"""The FTS5 table and its shadow tables are made by hand in a migration, not by models."""


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001
    return not (type_ == "table" and name.startswith(SEARCH_INDEX))


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
