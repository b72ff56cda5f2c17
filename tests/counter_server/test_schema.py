"""The migrations build the schema the models declare, on both databases:
an index added to a model without its migration (or the reverse) fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from counter_server import models as m
from counter_server.migrate import upgrade


def test_migrations_match_the_models(db_url: str) -> None:
    upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
