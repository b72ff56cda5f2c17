"""drop the report cache: every report figure is read from tickets and ratings

The per-day blob cache of 0005_report_cache (``report_day``,
``report_cache_state``) is gone from the code; its tables are dropped.

Revision ID: 0007_drop_report_cache
Revises: 0006_queue_heads
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_drop_report_cache"
down_revision = "0006_queue_heads"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("report_cache_state", "report_day"):
        if table in existing:
            op.drop_table(table)


def downgrade() -> None:
    op.create_table(
        "report_day",
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("office.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "report_cache_state",
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("office.id"), primary_key=True),
        sa.Column("last_event_id", BigId, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
    )
