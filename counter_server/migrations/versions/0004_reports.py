"""report indexes: covering indexes for period scans of tickets and ratings

Revision ID: 0004_reports
Revises: 0001
"""
from alembic import op

revision = "0004_reports"
down_revision = "0001"
branch_labels = None
depends_on = None

TICKET_COLS = ["office_id", "issued_at", "status", "service_id", "counter_id", "staff_id",
               "called_at", "started_at", "finished_at"]
RATING_COLS = ["office_id", "created_at", "misuse", "level", "staff_id", "counter_id",
               "service_id", "ticket_id"]


def upgrade() -> None:
    op.create_index("ix_ticket_report", "ticket", TICKET_COLS)
    op.create_index("ix_rating_report", "rating", RATING_COLS)


def downgrade() -> None:
    op.drop_index("ix_rating_report", table_name="rating")
    op.drop_index("ix_ticket_report", table_name="ticket")
