"""Fixtures of the counter server tests."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from counter_server import engine as e
from counter_server import models as m
from counter_server.db import Database
from tests.conftest import seed_database
from tests.counter_server.engine_support import T0


@pytest.fixture
def env(db_url):
    """For the queue engine tests: a seeded database (SQLite and PostgreSQL)
    with every counter's officer signed in at T0."""
    creds = seed_database(db_url)
    db = Database(db_url, pool_size=2)
    with db.write() as s:
        for c in s.scalars(select(m.Counter)):
            e.sign_in_counter(s, c.id, creds["users"][f"canbo{c.number}"]["id"], now=T0)
    yield db, creds
    db.dispose()
