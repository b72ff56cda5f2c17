"""queue order: the queue indexes end in (issued_at, id)

Call next reads the heads of each queue ``ORDER BY issued_at, id`` with a
small limit.  SQLite's indexes carry the rowid (the id) after their columns,
so it stopped after a few rows already; PostgreSQL's do not, so it read every
waiting ticket of the service and sorted them.  With ``id`` as the last key
column both stop at the first rows.

Revision ID: 0014_queue_order
Revises: 0013_ticket_contact
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_queue_order"
down_revision = "0013_ticket_contact"
branch_labels = None
depends_on = None

PRIORITY = sa.text("status = 'waiting' AND priority_class <> ''")
TARGETED = sa.text("status = 'waiting' AND target_counter_id IS NOT NULL")


def _create(with_id: bool) -> None:
    tail = ["issued_at", "id"] if with_id else ["issued_at"]
    op.create_index("ix_ticket_queue", "ticket", ["office_id", "status", "service_id", *tail])
    op.create_index("ix_ticket_waiting_priority", "ticket",
                    ["office_id", "status", "service_id", "target_counter_id", *tail],
                    sqlite_where=PRIORITY, postgresql_where=PRIORITY)
    op.create_index("ix_ticket_waiting_targeted", "ticket",
                    ["office_id", "status", "target_counter_id", *tail],
                    sqlite_where=TARGETED, postgresql_where=TARGETED)


def _drop() -> None:
    for name in ("ix_ticket_queue", "ix_ticket_waiting_priority", "ix_ticket_waiting_targeted"):
        op.drop_index(name, table_name="ticket")


def upgrade() -> None:
    _drop()
    _create(with_id=True)


def downgrade() -> None:
    _drop()
    _create(with_id=False)
