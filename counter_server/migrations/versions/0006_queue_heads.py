"""queue heads: small partial indexes of the waiting priority tickets and of
the tickets transferred to one counter

Call next reads the head of each lane of a counter's queue.  Both kinds are
few; without these indexes finding the first one meant walking the whole
waiting queue (or the office's history).  The key columns repeat the
equalities of the queries so that SQLite's planner prefers them even without
statistics.  Also joins the two earlier heads.

Revision ID: 0006_queue_heads
Revises: 0004_reports, 0005_report_cache
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_queue_heads"
down_revision = ("0004_reports", "0005_report_cache")
branch_labels = None
depends_on = None

PRIORITY = sa.text("status = 'waiting' AND priority_class <> ''")
TARGETED = sa.text("status = 'waiting' AND target_counter_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_ticket_waiting_priority", "ticket",
                    ["office_id", "status", "service_id", "target_counter_id", "issued_at"],
                    sqlite_where=PRIORITY, postgresql_where=PRIORITY)
    op.create_index("ix_ticket_waiting_targeted", "ticket",
                    ["office_id", "status", "target_counter_id", "issued_at"],
                    sqlite_where=TARGETED, postgresql_where=TARGETED)


def downgrade() -> None:
    op.drop_index("ix_ticket_waiting_targeted", table_name="ticket")
    op.drop_index("ix_ticket_waiting_priority", table_name="ticket")
