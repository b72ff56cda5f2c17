"""rating device: an index on (device_id, created_at); counter's ticket key

Each rating from a device reads that device's latest rating to flag presses
that come too fast; without this index it read every rating of the office.

The initial schema declared ``counter.current_ticket_id`` a foreign key with
``use_alter``, which ``create_table`` leaves out on PostgreSQL (SQLite has it
inline): it is added here, after clearing any reference to no ticket.

Revision ID: 0015_rating_device
Revises: 0014_queue_order
"""
from alembic import op

revision = "0015_rating_device"
down_revision = "0014_queue_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rating_device", "rating", ["device_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE counter SET current_ticket_id = NULL WHERE current_ticket_id IS NOT NULL "
                   "AND current_ticket_id NOT IN (SELECT id FROM ticket)")
        op.create_foreign_key("fk_counter_current_ticket", "counter", "ticket",
                              ["current_ticket_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_counter_current_ticket", "counter", type_="foreignkey")
    op.drop_index("ix_rating_device", table_name="rating")
