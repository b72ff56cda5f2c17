"""procedures: the procedure guide (thủ tục hành chính) of each service

Revision ID: 0011_procedures
Revises: 0007_drop_report_cache
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_procedures"
down_revision = "0009_counter_console_seen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("office.id"), nullable=False),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("papers", sa.JSON(), nullable=False),
        sa.Column("fee_vnd", sa.Integer(), nullable=False),
        sa.Column("fee_note", sa.String(300), nullable=False),
        sa.Column("time_limit", sa.String(200), nullable=False),
        sa.Column("result_place", sa.String(300), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("search_key", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("office_id", "service_id", "name"),
    )
    op.create_index("ix_procedure_office_service", "procedure",
                    ["office_id", "service_id", "sort_order"])


def downgrade() -> None:
    op.drop_index("ix_procedure_office_service", table_name="procedure")
    op.drop_table("procedure")
