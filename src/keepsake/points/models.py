"""Tables of the points ledger: accounts, transfers and their entries.

Double-entry: a transfer is two or more entries summing to zero, so the sum over all
accounts is always zero. The database holds the rules (migration 0014): entries and
transfers are append-only, each transfer balances at commit, an account's balance is
kept by a trigger on its entries, and no account but the mission budget goes below zero.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type

# The two accounts of the operator: where awards come from (it goes negative as it gives),
# and where the points of deleted accounts go, so no point vanishes with its owner.
BUDGET_ACCOUNT = uuid.UUID(int=1)
DELETED_ACCOUNTS = uuid.UUID(int=2)


class AccountKind(enum.StrEnum):
    person = "person"
    mission_budget = "mission_budget"
    deleted_accounts = "deleted_accounts"


class TransferKind(enum.StrEnum):
    # Awards: at most one per (mission, person, kind), whatever retries or races do.
    entry = "entry"
    winner = "winner"
    # The entry's memory was deleted while the mission ran.
    withdrawn = "withdrawn"
    # A moderator hid the memory; `restored` gives back what was taken (an appeal won,
    # or a new entry after a withdrawal).
    disqualified = "disqualified"
    restored = "restored"
    adjustment = "adjustment"
    account_closed = "account_closed"


AWARD_KINDS = (TransferKind.entry, TransferKind.winner)


class PointsAccount(Timestamped, Base):
    __tablename__ = "points_accounts"
    __table_args__ = (
        CheckConstraint("kind = 'mission_budget' OR balance >= 0", name="balance_not_negative"),
    )

    # A person's account has the person's id; it outlives the account as a closed,
    # empty one (`user_id` null) so the ledger's history stays whole.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind, "points_account_kind"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    balance: Mapped[int] = mapped_column(BigInteger, server_default="0")


class PointsTransfer(Timestamped, Base):
    __tablename__ = "points_transfers"
    __table_args__ = (
        Index(
            "uq_points_transfers_award",
            "mission_id",
            "account_id",
            "kind",
            unique=True,
            postgresql_where=text("kind IN ('entry', 'winner')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[TransferKind] = mapped_column(enum_type(TransferKind, "points_transfer_kind"))
    # The person's account the transfer is about (the award key's "person").
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("points_accounts.id"))
    mission_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("missions.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # Who made an adjustment. No foreign key: an append-only row cannot be updated
    # to null when that operator's account goes, and the id alone names nobody.
    actor_id: Mapped[uuid.UUID | None] = mapped_column()


class PointsEntry(Timestamped, Base):
    __tablename__ = "points_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # An account's statement, newest first.
        Index("ix_points_entries_account_created", "account_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("points_transfers.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("points_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
