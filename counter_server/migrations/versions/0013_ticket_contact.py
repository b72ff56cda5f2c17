"""ticket_contact: phone numbers for the optional SMS/Zalo "your turn is near" message,
kept until the end of their service day

Revision ID: 0013_ticket_contact
Revises: 0011_procedures
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_ticket_contact"
down_revision = "0011_procedures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_contact",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("office.id"), nullable=False),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("ticket.id"), nullable=False, unique=True),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("near_sent_at", sa.DateTime(), nullable=True),
        sa.Column("called_sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_ticket_contact_office_day", "ticket_contact", ["office_id", "service_day"])


def downgrade() -> None:
    op.drop_index("ix_ticket_contact_office_day", table_name="ticket_contact")
    op.drop_table("ticket_contact")
