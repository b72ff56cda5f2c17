"""counter.console_seen_at and signed_in_at: who holds a counter, since when,
and when their console last reached the server

A counter whose console has been gone for the office's ``idle_close_minutes``
closes itself (engine.counter_state.close_idle_counters); this column is what
it is measured from.  NULL: never seen since the column exists (not closed).
``signed_in_at`` is when the officer now holding the counter took it: a
session or token from before then belongs to an earlier holder and is refused.

Revision ID: 0009_counter_console_seen
Revises: 0007_drop_report_cache
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_counter_console_seen"
down_revision = "0007_drop_report_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counter") as batch:
        batch.add_column(sa.Column("console_seen_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("signed_in_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("counter") as batch:
        batch.drop_column("signed_in_at")
        batch.drop_column("console_seen_at")
