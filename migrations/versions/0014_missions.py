"""missions and the points ledger

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-05

Missions and their entries; a double-entry points ledger whose rules live in the
database, so no code path (a retried job, a race, raw SQL) can break them:

- `points_entries` and `points_transfers` are append-only: UPDATE and DELETE are refused
  (a correction is a new, reversing transfer). TRUNCATE, which only an operator or the
  test suite's cleanup runs, is left alone.
- Every transfer balances: a deferred constraint trigger checks at commit that it has at
  least two entries and that they sum to zero. So the sum over all accounts stays zero.
- An account's `balance` is kept by a trigger on its entries, in the same transaction,
  so it always equals the sum of its entries; `CHECK` keeps every account but the
  mission budget (the source of awards) at zero or more.
- An award is unique per (mission, person's account, kind): a retried or concurrent
  award inserts nothing the second time.
- A hashtag names one mission at a time: an exclusion constraint (btree_gist) refuses
  two missions with the same tag whose periods overlap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _updated_at() -> sa.Column[object]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _missions() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "missions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("hashtag", sa.String(100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("winners_count", sa.SmallInteger(), nullable=False),
        sa.Column("entry_points", sa.Integer(), nullable=False),
        sa.Column("winner_points", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _updated_at(),
        _created_at(),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_missions_period")),
        sa.CheckConstraint(
            "winners_count BETWEEN 1 AND 100", name=op.f("ck_missions_winners_count_range")
        ),
        sa.CheckConstraint(
            "entry_points >= 0 AND winner_points >= 0",
            name=op.f("ck_missions_points_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_missions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missions")),
    )
    op.create_index("ix_missions_hashtag_starts", "missions", ["hashtag", "starts_at"])
    op.create_index("ix_missions_starts", "missions", ["starts_at", "id"])
    op.execute(
        "ALTER TABLE missions ADD CONSTRAINT ex_missions_hashtag_period EXCLUDE USING gist"
        " (hashtag WITH =, tstzrange(starts_at, ends_at) WITH &&)"
    )
    op.create_table(
        "mission_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("memory_id", sa.Uuid(), nullable=True),
        sa.Column("memory_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("entered", "withdrawn", "disqualified", name="mission_entry_status"),
            nullable=False,
        ),
        sa.Column("winner", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("taken_back", sa.Integer(), server_default="0", nullable=False),
        _updated_at(),
        _created_at(),
        sa.CheckConstraint(
            "points >= 0 AND taken_back >= 0", name=op.f("ck_mission_entries_points_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["missions.id"], name=op.f("fk_mission_entries_mission_id_missions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mission_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_mission_entries_memory_id_memories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_entries")),
        sa.UniqueConstraint(
            "mission_id", "user_id", name=op.f("uq_mission_entries_mission_id_user_id")
        ),
        sa.UniqueConstraint("memory_id", name=op.f("uq_mission_entries_memory_id")),
    )
    op.create_index(
        "ix_mission_entries_listed",
        "mission_entries",
        ["mission_id", "memory_created_at", "memory_id"],
        postgresql_where=sa.text("status = 'entered'"),
    )


def _ledger() -> None:
    op.create_table(
        "points_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("person", "mission_budget", "deleted_accounts", name="points_account_kind"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "kind = 'mission_budget' OR balance >= 0",
            name=op.f("ck_points_accounts_balance_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_points_accounts_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_accounts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_points_accounts_user_id")),
    )
    op.create_table(
        "points_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "entry",
                "winner",
                "withdrawn",
                "disqualified",
                "restored",
                "adjustment",
                "account_closed",
                name="points_transfer_kind",
            ),
            nullable=False,
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["points_accounts.id"],
            name=op.f("fk_points_transfers_account_id_points_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["missions.id"], name=op.f("fk_points_transfers_mission_id_missions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_transfers")),
    )
    op.create_index(
        "uq_points_transfers_award",
        "points_transfers",
        ["mission_id", "account_id", "kind"],
        unique=True,
        postgresql_where=sa.text("kind IN ('entry', 'winner')"),
    )
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        _created_at(),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_points_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["points_transfers.id"],
            name=op.f("fk_points_entries_transfer_id_points_transfers"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["points_accounts.id"],
            name=op.f("fk_points_entries_account_id_points_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
    )
    op.create_index("ix_points_entries_transfer_id", "points_entries", ["transfer_id"])
    op.create_index(
        "ix_points_entries_account_created", "points_entries", ["account_id", "created_at", "id"]
    )


_TRIGGERS = """
CREATE FUNCTION points_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the points ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER points_entries_append_only BEFORE UPDATE OR DELETE ON points_entries
    FOR EACH ROW EXECUTE FUNCTION points_append_only();
CREATE TRIGGER points_transfers_append_only BEFORE UPDATE OR DELETE ON points_transfers
    FOR EACH ROW EXECUTE FUNCTION points_append_only();

CREATE FUNCTION points_keep_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE points_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER points_entries_balance AFTER INSERT ON points_entries
    FOR EACH ROW EXECUTE FUNCTION points_keep_balance();

CREATE FUNCTION points_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    transfer uuid;
    legs bigint;
    total numeric;
BEGIN
    IF TG_TABLE_NAME = 'points_transfers' THEN
        transfer := NEW.id;
    ELSE
        transfer := NEW.transfer_id;
    END IF;
    SELECT count(*), coalesce(sum(amount), 0) INTO legs, total
        FROM points_entries WHERE transfer_id = transfer;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'points transfer % does not balance (% entries, sum %)',
            transfer, legs, total USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER points_transfers_balanced AFTER INSERT ON points_transfers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_check_balanced();
CREATE CONSTRAINT TRIGGER points_entries_balanced AFTER INSERT ON points_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_check_balanced();
"""


def upgrade() -> None:
    _missions()
    _ledger()
    for statement in _TRIGGERS.split(";\n\n"):
        op.execute(statement)
    # A value added to an enum cannot be used in the transaction that adds it; nothing
    # here uses them, and PostgreSQL ≥ 12 allows adding them inside a transaction.
    op.execute("ALTER TYPE notification_kind ADD VALUE IF NOT EXISTS 'mission_won'")
    op.execute("ALTER TYPE notification_kind ADD VALUE IF NOT EXISTS 'mission_closed'")
    op.add_column("notifications", sa.Column("mission_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_notifications_mission_id_missions"),
        "notifications",
        "missions",
        ["mission_id"],
        ["id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_notifications_mission_id_missions"), "notifications")
    op.drop_column("notifications", "mission_id")
    for table in ("points_entries", "points_transfers", "points_accounts"):
        op.drop_table(table)
    for function in ("points_append_only", "points_keep_balance", "points_check_balanced"):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("mission_entries")
    op.drop_table("missions")
    for enum in (
        "points_transfer_kind",
        "points_account_kind",
        "mission_entry_status",
    ):
        postgresql.ENUM(name=enum).drop(op.get_bind())
    # PostgreSQL cannot drop values from an enum; `mission_won` and `mission_closed`
    # stay in `notification_kind`, unused.
