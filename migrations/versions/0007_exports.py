"""data exports, and the account purge's index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

`exports` holds the ZIPs users ask for: at most one pending per user (a partial unique
index), each kept until `expires_at`. The partial index on `users` lets the purge sweep
find accounts past their deletion grace without reading the whole table every minute.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status", sa.Enum("pending", "ready", "failed", name="export_status"), nullable=False
        ),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_index("ix_exports_user_created", "exports", ["user_id", "created_at"], unique=False)
    op.create_index(
        "uq_exports_user_pending",
        "exports",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_exports_expires_at",
        "exports",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_index(
        "ix_users_deleting",
        "users",
        ["deletion_requested_at"],
        unique=False,
        postgresql_where=sa.text("status = 'deleting'"),
    )


def downgrade() -> None:
    op.drop_index("ix_users_deleting", table_name="users")
    op.drop_index("ix_exports_expires_at", table_name="exports")
    op.drop_index("uq_exports_user_pending", table_name="exports")
    op.drop_index("ix_exports_user_created", table_name="exports")
    op.drop_table("exports")
    op.execute("DROP TYPE export_status")
