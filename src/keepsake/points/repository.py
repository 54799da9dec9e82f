"""Every query of the points ledger.

Writers lock the accounts they touch in one order (by id: the operator's accounts come
first, having the smallest ids) before the balance trigger does, so two transfers
never wait on each other crosswise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    Uuid,
    column,
    func,
    select,
    text,
    true,
    values,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.hooks import Hook
from keepsake.pagination import Cursor, keyset_before
from keepsake.points.models import (
    AWARD_KINDS,
    BUDGET_ACCOUNT,
    DELETED_ACCOUNTS,
    AccountKind,
    PointsAccount,
    PointsEntry,
    PointsTransfer,
    TransferKind,
)

_AWARD_PREDICATE = text("kind IN ({})".format(", ".join(f"'{k.value}'" for k in AWARD_KINDS)))
_SYSTEM = {
    BUDGET_ACCOUNT: AccountKind.mission_budget,
    DELETED_ACCOUNTS: AccountKind.deleted_accounts,
}


async def ensure_accounts(db: AsyncSession, *, user_id: uuid.UUID, system: uuid.UUID) -> None:
    """The person's account and one of the operator's, created on first use."""
    rows = [
        {"id": system, "kind": _SYSTEM[system], "user_id": None},
        {"id": user_id, "kind": AccountKind.person, "user_id": user_id},
    ]
    await db.execute(insert(PointsAccount).values(rows).on_conflict_do_nothing())


async def lock_balances(db: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Lock the accounts, in id order, and read their balances."""
    rows = await db.execute(
        select(PointsAccount.id, PointsAccount.balance)
        .where(PointsAccount.id.in_(ids))
        .order_by(PointsAccount.id)
        .with_for_update()
    )
    return {row.id: row.balance for row in rows}


async def post(
    db: AsyncSession,
    *,
    kind: TransferKind,
    account_id: uuid.UUID,
    legs: Sequence[tuple[uuid.UUID, int]],
    mission_id: uuid.UUID | None = None,
    reason: str | None = None,
    actor_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Write a transfer and its entries in one statement; its id, or None when it is an
    award already made (the unique award index turns the repeat into nothing)."""
    transfer = (
        insert(PointsTransfer)
        .values(
            id=uuid.uuid4(),
            kind=kind,
            account_id=account_id,
            mission_id=mission_id,
            reason=reason,
            actor_id=actor_id,
        )
        .on_conflict_do_nothing(
            index_elements=["mission_id", "account_id", "kind"],
            # Written out, not bound: once psycopg prepares the statement, a parameter
            # no longer proves the partial index's predicate and inference fails.
            index_where=_AWARD_PREDICATE,
        )
        .returning(PointsTransfer.id, PointsTransfer.created_at)
        .cte("transfer")
    )
    rows = values(column("account_id", Uuid()), column("amount", BigInteger()), name="legs").data(
        sorted(legs)
    )
    entries = (
        insert(PointsEntry)
        .from_select(
            ["id", "transfer_id", "account_id", "amount", "created_at"],
            select(
                func.gen_random_uuid(),
                transfer.c.id,
                rows.c.account_id,
                rows.c.amount,
                transfer.c.created_at,
            )
            .select_from(transfer)
            .join(rows, true())
            # Entries are written, and so their accounts locked, in id order.
            .order_by(rows.c.account_id),
        )
        .returning(PointsEntry.transfer_id)
    )
    return (await db.execute(entries)).scalars().first()


async def balance(db: AsyncSession, user_id: uuid.UUID) -> int:
    found = await db.scalar(select(PointsAccount.balance).where(PointsAccount.id == user_id))
    return found or 0


@dataclass(frozen=True)
class Line:
    """One entry of a person's statement."""

    id: uuid.UUID
    amount: int
    kind: TransferKind
    mission_id: uuid.UUID | None
    mission_title: str | None
    reason: str | None
    created_at: datetime


class MissionTitle(Protocol):
    """A transfer's mission title, in the statement's own query: the missions domain,
    above the ledger, says how (`missions.repository.title_of`)."""

    def __call__(self, mission_id: SQLColumnExpression[uuid.UUID | None]) -> ScalarSelect[str]: ...


mission_title: Hook[MissionTitle] = Hook("points.mission_title")


def _lines(
    account_id: uuid.UUID,
) -> Select[uuid.UUID, int, TransferKind, uuid.UUID | None, str, str | None, datetime]:
    return (
        select(
            PointsEntry.id,
            PointsEntry.amount,
            PointsTransfer.kind,
            PointsTransfer.mission_id,
            mission_title.target(PointsTransfer.mission_id),
            PointsTransfer.reason,
            PointsEntry.created_at,
        )
        .join(PointsTransfer, PointsTransfer.id == PointsEntry.transfer_id)
        .where(PointsEntry.account_id == account_id)
        .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
    )


async def statement(
    db: AsyncSession, *, account_id: uuid.UUID, limit: int | None, after: Cursor | None
) -> list[Line]:
    """The account's entries, newest first; `limit + 1` of them when paged."""
    query = _lines(account_id).where(keyset_before(PointsEntry.created_at, PointsEntry.id, after))
    if limit is not None:
        query = query.limit(limit + 1)
    return [Line(*row) for row in await db.execute(query)]


async def totals(db: AsyncSession) -> tuple[int, int]:
    """(sum of all balances, sum of all entries): both zero in a sound ledger."""
    balances = await db.scalar(select(func.coalesce(func.sum(PointsAccount.balance), 0)))
    entries = await db.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0)))
    return int(balances or 0), int(entries or 0)
