"""Points rules: awards once per key, take-backs never below zero, the owner's statement."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import service as accounts
from keepsake.errors import Conflict, NotFound
from keepsake.i18n.catalog import _
from keepsake.pagination import Cursor, Page, PageRequest
from keepsake.points import repository
from keepsake.points.models import BUDGET_ACCOUNT, DELETED_ACCOUNTS, TransferKind
from keepsake.points.schemas import (
    AdjustmentCreate,
    AdjustmentPublic,
    MissionRef,
    PointsLine,
    PointsPublic,
)


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class PersonNotFound(NotFound):
    code = "user_not_found"


async def award(
    db: AsyncSession,
    *,
    kind: TransferKind,
    mission_id: uuid.UUID,
    user_id: uuid.UUID,
    amount: int,
) -> bool:
    """Give `amount` from the mission budget, once per (mission, person, kind); whether
    this call gave it (False for a repeat, a concurrent twin, or nothing to give)."""
    if amount <= 0:
        return False
    await repository.ensure_accounts(db, user_id=user_id, system=BUDGET_ACCOUNT)
    given = await repository.post(
        db,
        kind=kind,
        account_id=user_id,
        mission_id=mission_id,
        legs=[(BUDGET_ACCOUNT, -amount), (user_id, amount)],
    )
    return given is not None


async def take_back(
    db: AsyncSession, *, kind: TransferKind, mission_id: uuid.UUID, user_id: uuid.UUID, amount: int
) -> int:
    """Return up to `amount` to the budget, never below zero; how much was taken."""
    if amount <= 0:
        return 0
    await repository.ensure_accounts(db, user_id=user_id, system=BUDGET_ACCOUNT)
    held = (await repository.lock_balances(db, [BUDGET_ACCOUNT, user_id]))[user_id]
    taken = min(amount, held)
    if taken > 0:
        await repository.post(
            db,
            kind=kind,
            account_id=user_id,
            mission_id=mission_id,
            legs=[(user_id, -taken), (BUDGET_ACCOUNT, taken)],
        )
    return taken


async def give_back(
    db: AsyncSession, *, mission_id: uuid.UUID, user_id: uuid.UUID, amount: int
) -> None:
    """Restore what `take_back` took (an appeal won, or a new entry after a withdrawal)."""
    if amount <= 0:
        return
    await repository.ensure_accounts(db, user_id=user_id, system=BUDGET_ACCOUNT)
    await repository.lock_balances(db, [BUDGET_ACCOUNT, user_id])
    await repository.post(
        db,
        kind=TransferKind.restored,
        account_id=user_id,
        mission_id=mission_id,
        legs=[(BUDGET_ACCOUNT, -amount), (user_id, amount)],
    )


async def adjust(
    db: AsyncSession, *, admin_id: uuid.UUID, body: AdjustmentCreate
) -> AdjustmentPublic:
    """An operator's correction, from or back to the budget; refused below zero."""
    user = await accounts.user_by_handle(db, body.handle)
    if user is None:
        raise PersonNotFound(_("No such user."))
    await repository.ensure_accounts(db, user_id=user.id, system=BUDGET_ACCOUNT)
    held = (await repository.lock_balances(db, [BUDGET_ACCOUNT, user.id]))[user.id]
    if held + body.amount < 0:
        raise InsufficientPoints(
            _("The balance is {balance}; it cannot go below 0."), params={"balance": held}
        )
    transfer_id = await repository.post(
        db,
        kind=TransferKind.adjustment,
        account_id=user.id,
        reason=body.reason,
        actor_id=admin_id,
        legs=[(BUDGET_ACCOUNT, -body.amount), (user.id, body.amount)],
    )
    assert transfer_id is not None, "only awards can be refused as repeats"
    return AdjustmentPublic(
        id=transfer_id, handle=user.handle, amount=body.amount, reason=body.reason
    )


async def close_account(db: AsyncSession, user_id: uuid.UUID) -> None:
    """Before an account is purged: its points go to the closed "deleted accounts"
    account by a transfer, so the ledger keeps its history and still sums to zero."""
    await repository.ensure_accounts(db, user_id=user_id, system=DELETED_ACCOUNTS)
    held = (await repository.lock_balances(db, [DELETED_ACCOUNTS, user_id]))[user_id]
    if held > 0:
        await repository.post(
            db,
            kind=TransferKind.account_closed,
            account_id=user_id,
            legs=[(user_id, -held), (DELETED_ACCOUNTS, held)],
        )


def _line(line: repository.Line) -> PointsLine:
    mission = None
    if line.mission_id is not None and line.mission_title is not None:
        mission = MissionRef(id=line.mission_id, title=line.mission_title)
    return PointsLine(
        id=line.id,
        amount=line.amount,
        kind=line.kind,
        mission=mission,
        reason=line.reason,
        created_at=line.created_at,
    )


async def my_points(db: AsyncSession, *, user_id: uuid.UUID, page: PageRequest) -> PointsPublic:
    """The owner's balance and statement, newest first: two statements."""
    held = await repository.balance(db, user_id)
    lines = await repository.statement(db, account_id=user_id, limit=page.limit, after=page.after)
    shown = lines[: page.limit]
    cursor = None
    if len(lines) > page.limit:
        cursor = Cursor(shown[-1].created_at, shown[-1].id).encode()
    return PointsPublic(balance=held, items=[_line(x) for x in shown], next_cursor=cursor)


async def statement_of(db: AsyncSession, user_id: uuid.UUID) -> Page[PointsLine]:
    """The whole statement, for the person's data export."""
    lines = await repository.statement(db, account_id=user_id, limit=None, after=None)
    return Page(items=[_line(x) for x in lines], next_cursor=None)


async def totals(db: AsyncSession) -> tuple[int, int]:
    """(sum of all balances, sum of all entries): the ledger is sound when both are 0."""
    return await repository.totals(db)
