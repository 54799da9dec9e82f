"""notifications and devices

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

In-app notifications, each with the people behind it; a partial unique index keeps one
unread batch per key (a memory's claps gather in one). Devices hold push tokens.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column[datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.Enum("ios", "android", name="device_platform"), nullable=False),
        sa.Column("token", sa.String(length=1024), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_devices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("platform", "token", name=op.f("uq_devices_platform_token")),
    )
    op.create_index("ix_devices_user_registered", "devices", ["user_id", "registered_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "follow",
                "follow_request",
                "follow_approved",
                "claps",
                "memory_ready",
                "memory_failed",
                name="notification_kind",
            ),
            nullable=False,
        ),
        sa.Column("batch_key", sa.String(length=80), nullable=False),
        sa.Column("memory_id", sa.Uuid(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_notifications_memory_id_memories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_notifications_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_memory_id"), "notifications", ["memory_id"])
    op.create_index(
        "ix_notifications_push_owed",
        "notifications",
        ["updated_at"],
        postgresql_where=sa.text("pushed_at IS NULL AND read_at IS NULL"),
    )
    op.create_index(
        "ix_notifications_recipient_updated", "notifications", ["recipient_id", "updated_at", "id"]
    )
    op.create_index(
        "uq_notifications_unread_batch",
        "notifications",
        ["recipient_id", "batch_key"],
        unique=True,
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_table(
        "notification_actors",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "acted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notification_actors_actor_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_actors_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", "actor_id", name=op.f("pk_notification_actors")),
    )
    op.create_index("ix_notification_actors_actor", "notification_actors", ["actor_id"])


def downgrade() -> None:
    op.drop_table("notification_actors")
    op.drop_table("notifications")
    op.drop_table("devices")
    for enum in ("notification_kind", "device_platform"):
        op.execute(f"DROP TYPE {enum}")
