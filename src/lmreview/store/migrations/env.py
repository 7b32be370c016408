"""Alembic environment: runs on the engine lmreview hands over (see lmreview.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, create_engine

from lmreview.evidence.index import include_name
from lmreview.store.registry import metadata

config = context.config


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    return create_engine(url)


def run_migrations() -> None:
    shared = config.attributes.get("connection")
    if isinstance(shared, Connection):  # a caller's transaction (store/backup.py restores atomically)
        context.configure(
            connection=shared,
            target_metadata=metadata,
            render_as_batch=shared.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = _engine()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,  # the full-text index is not a model
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
