"""safety: reports, the append-only audit log, strikes, appeals, hidden memories,
suspensions that end by themselves

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-05

`audit_log` can only grow: a trigger refuses every UPDATE and DELETE of its rows, so no
route, command or later bug can rewrite what moderators did. It has no foreign keys for
the same reason (a deleted account would otherwise null or cascade into it).

The two new notification kinds are added to the existing enum; PostgreSQL allows
`ADD VALUE` in a transaction as long as the value is not used in the same one.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

TARGET_KIND = sa.Enum("memory", "user", name="report_target_kind")
REASONS = (
    "spam",
    "harassment",
    "hate",
    "nudity",
    "violence",
    "self_harm",
    "impersonation",
    "illegal",
    "other",
)
ACTIONS = (
    "dismiss",
    "hide",
    "restore",
    "suspend",
    "unsuspend",
    "lift",
    "mute_reporter",
    "appeal_upheld",
    "appeal_reversed",
)


def _created_at() -> sa.Column[datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.add_column("users", sa.Column("suspended_until", sa.DateTime(timezone=True)))
    op.add_column("memories", sa.Column("hidden_at", sa.DateTime(timezone=True)))
    op.add_column("memories", sa.Column("hidden_reason", sa.Text()))
    op.execute("ALTER TYPE notification_kind ADD VALUE IF NOT EXISTS 'moderation'")
    op.execute("ALTER TYPE notification_kind ADD VALUE IF NOT EXISTS 'reports_resolved'")

    target_kind = TARGET_KIND
    target_kind.create(op.get_bind())
    target_kind_col = sa.Enum(name="report_target_kind", create_type=False)
    op.create_table(
        "reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("target_kind", target_kind_col, nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("target_user_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Enum(*REASONS, name="report_reason"), nullable=False),
        sa.Column("detail", sa.String(1000), server_default="", nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "actioned", "dismissed", name="report_status"),
            server_default="open",
            nullable=False,
        ),
        sa.Column("queued", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index(
        "uq_reports_open_per_reporter",
        "reports",
        ["reporter_id", "target_kind", "target_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_reports_queue",
        "reports",
        ["target_kind", "target_id", "created_at"],
        postgresql_where=sa.text("status = 'open' AND queued"),
    )
    op.create_index("ix_reports_target", "reports", ["target_kind", "target_id", "created_at"])
    op.create_index("ix_reports_reporter_created", "reports", ["reporter_id", "created_at", "id"])
    op.create_index(op.f("ix_reports_target_user_id"), "reports", ["target_user_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid()),
        sa.Column("actor_handle", sa.String(30)),
        sa.Column("action", sa.Enum(*ACTIONS, name="moderation_action"), nullable=False),
        sa.Column("target_kind", target_kind_col, nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("target_user_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True)),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_created", "audit_log", ["created_at", "id"])
    op.create_index(
        "ix_audit_log_target", "audit_log", ["target_kind", "target_id", "created_at", "id"]
    )
    op.create_index("ix_audit_log_target_user", "audit_log", ["target_user_id", "created_at", "id"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "created_at", "id"])
    op.execute(
        """
        CREATE FUNCTION keepsake_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION keepsake_audit_log_append_only()"
    )

    op.create_table(
        "strikes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.Enum("hide", "suspend", name="strike_action"), nullable=False),
        sa.Column("memory_id", sa.Uuid()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True)),
        sa.Column("actor_id", sa.Uuid()),
        sa.Column("appealable_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_strikes_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_strikes_memory_id_memories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strikes")),
    )
    op.create_index("ix_strikes_user_created", "strikes", ["user_id", "created_at", "id"])
    op.create_index("ix_strikes_appealable", "strikes", ["user_id", "appealable_until"])
    op.create_index(
        "ix_strikes_lifting",
        "strikes",
        ["until"],
        postgresql_where=sa.text("action = 'suspend' AND ended_at IS NULL AND until IS NOT NULL"),
    )

    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strike_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "upheld", "reversed", name="appeal_status"),
            server_default="open",
            nullable=False,
        ),
        sa.Column("decided_by", sa.Uuid()),
        sa.Column("decision_reason", sa.Text()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["strike_id"],
            ["strikes.id"],
            name=op.f("fk_appeals_strike_id_strikes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("strike_id", name=op.f("uq_appeals_strike_id")),
    )
    op.create_index(
        "ix_appeals_open",
        "appeals",
        ["created_at", "id"],
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "moderation_clearances",
        sa.Column("target_kind", target_kind_col, nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target_kind", "target_id", name=op.f("pk_moderation_clearances")),
    )
    op.create_table(
        "reporter_mutes",
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("muted_by", sa.Uuid()),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reporter_mutes_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reporter_id", name=op.f("pk_reporter_mutes")),
    )


def downgrade() -> None:
    op.drop_table("reporter_mutes")
    op.drop_table("moderation_clearances")
    op.drop_table("appeals")
    op.drop_table("strikes")
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION keepsake_audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("reports")
    for name in (
        "appeal_status",
        "strike_action",
        "moderation_action",
        "report_status",
        "report_reason",
        "report_target_kind",
    ):
        op.execute(f"DROP TYPE {name}")
    # PostgreSQL cannot drop values from an enum: the two notification kinds stay.
    op.drop_column("memories", "hidden_reason")
    op.drop_column("memories", "hidden_at")
    op.drop_column("users", "suspended_until")
