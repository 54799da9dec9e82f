"""The end of an account: once the grace period is over, everything it owns goes.

`DELETE /v1/me` only marks the account `deleting` (signing in during the grace period
makes it active again). This sweep deletes the `users` row of every account past its
grace, each through the `purge` hook (connected to `flows.deletion.purge_account`, which
knows what every domain keeps of it).
"""

from __future__ import annotations

import uuid
from typing import Protocol

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts import repository
from keepsake.hooks import Hook
from keepsake.security import utcnow

log = structlog.get_logger("keepsake.accounts")
# Small, because each account's cascade may touch many rows while its lock is held.
BATCH = 10


class Purge(Protocol):
    """Everything of the account, in the caller's transaction."""

    async def __call__(self, db: AsyncSession, user_id: uuid.UUID) -> None: ...


purge: Hook[Purge] = Hook("accounts.purge")


async def _purge_batch(res: jobs.Resources) -> int:
    """Purge up to `BATCH` accounts in one transaction; how many went."""
    cutoff = utcnow() - res.settings.account_deletion_grace
    purged = []
    async with res.sessionmaker() as db, db.begin():
        for user in await repository.due_for_purge(db, requested_before=cutoff, limit=BATCH):
            try:
                # One account that cannot go (a reference to it that does not cascade)
                # must not hold up everyone else's deletion.
                async with db.begin_nested():
                    await purge.target(db, user.id)
            except DBAPIError:
                log.exception("account.purge.failed", user_id=str(user.id))
                continue
            purged.append(user.id)
    for user_id in purged:
        log.info("account.purged", user_id=str(user_id))
    return len(purged)


async def purge_due_accounts(res: jobs.Resources) -> None:
    """Remove every account whose grace period is over, a small batch at a time.

    Safe beside other workers: each batch locks its accounts and skips locked ones.
    """
    while await _purge_batch(res) == BATCH:
        pass
