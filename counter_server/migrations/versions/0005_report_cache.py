"""report cache: per-office, per-local-day building blocks of the report figures

Revision ID: 0005_report_cache
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_report_cache"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table("report_cache_state")
    op.drop_table("report_day")
