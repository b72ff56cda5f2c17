"""Migration 0014_queue_order: the queue indexes end in (issued_at, id), so
call next's head query stops after its first rows on PostgreSQL too."""
from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, text

from counter_server import models as m
from counter_server import statements as st
from counter_server.db import Database
from counter_server.migrate import alembic_config, upgrade
from tests.conftest import seed_database
from tests.counter_server.engine_support import T0

QUEUE_INDEXES = ("ix_ticket_queue", "ix_ticket_waiting_priority", "ix_ticket_waiting_targeted")


def _tails(url: str) -> dict[str, list[str]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return {ix["name"]: ix["column_names"][-2:] for ix in inspect(engine).get_indexes("ticket")
                if ix["name"] in QUEUE_INDEXES}
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_of_the_queue_order(db_url: str) -> None:
    upgrade(db_url)
    assert all(tail == ["issued_at", "id"] for tail in _tails(db_url).values())
    command.downgrade(alembic_config(db_url), "0013_ticket_contact")
    tails = _tails(db_url)
    assert set(tails) == set(QUEUE_INDEXES) and all(t[-1] == "issued_at" for t in tails.values())
    upgrade(db_url)
    assert all(tail == ["issued_at", "id"] for tail in _tails(db_url).values())


@pytest.mark.postgres
def test_lane_heads_stop_early_on_postgresql(pg_url: str) -> None:
    """EXPLAIN of call next's head query with 2,000 waiting tickets: each
    queue part is an index scan under its Limit, without a sort of the queue."""
    creds = seed_database(pg_url)
    sids = sorted(creds["services"].values())
    rows = [dict(office_id=creds["office_id"], service_id=sids[i % len(sids)],
                 issued_service_id=sids[i % len(sids)], service_day=T0.date(), number=1000 + i,
                 display_number=str(1000 + i), priority_class="elderly" if i % 50 == 0 else "",
                 status=m.WAITING if i >= 1000 else m.DONE,
                 issued_at=T0 + dt.timedelta(seconds=i // 3), code=f"code{i}", transfer_chain=[])
            for i in range(3000)]
    db = Database(pg_url, pool_size=1)
    try:
        with db.write() as s:
            s.execute(insert(m.Ticket.__table__), rows)
            s.execute(text("ANALYZE ticket"))
        with db.read() as s:
            conn = s.connection()
            stmt = st.lane_heads(creds["office_id"], tuple(sids), 2)
            plan = [r[0] for r in conn.exec_driver_sql(
                "EXPLAIN " + str(stmt.compile(dialect=conn.dialect)),
                {"b_counter": creds["counters"]["1"], "b_cutoff": T0})]
    finally:
        db.dispose()
    queue_scans = [i for i, line in enumerate(plan)
                   if "Index Scan using ix_ticket_queue" in line
                   or "Index Scan using ix_ticket_waiting_targeted" in line]
    assert len(queue_scans) == 1 + 2 * len(sids), plan
    for i in queue_scans:  # directly under its Limit: no Sort between them
        assert "Limit" in plan[i - 1], "\n".join(plan)
    assert not any("Seq Scan" in line for line in plan), "\n".join(plan)
