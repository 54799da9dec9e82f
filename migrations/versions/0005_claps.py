"""claps

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

One row per viewer and memory with their clap count (1–50). The author's total is a
SUM over the memory's rows on read, so it can never drift from the rows it counts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claps",
        sa.Column("memory_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.SmallInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("count BETWEEN 1 AND 50", name=op.f("ck_claps_count_range")),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_claps_memory_id_memories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_claps_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("memory_id", "user_id", name=op.f("pk_claps")),
    )
    op.create_index(
        "ix_claps_memory_updated", "claps", ["memory_id", "updated_at", "user_id"], unique=False
    )
    op.create_index("ix_claps_user", "claps", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_claps_user", table_name="claps")
    op.drop_index("ix_claps_memory_updated", table_name="claps")
    op.drop_table("claps")
