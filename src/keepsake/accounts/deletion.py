"""The end of an account: once the grace period is over, everything it owns goes.

`DELETE /v1/me` only marks the account `deleting` (signing in during the grace period
makes it active again). This sweep deletes the `users` row of every account past its
grace; every table holding the account's data references it with ON DELETE CASCADE (or
SET NULL), so that one DELETE removes memories, clips, follows, sessions and the rest.
Stored files go through a job deferred in the same transaction: it exists exactly when
the rows are gone, and a storage outage only delays it.
"""

from __future__ import annotations

import procrastinate
import structlog
from procrastinate import JobContext
from sqlalchemy.exc import DBAPIError

from keepsake import jobs
from keepsake.accounts import repository
from keepsake.memories import service as memories
from keepsake.points import service as points
from keepsake.security import utcnow
from keepsake.storage import keys

log = structlog.get_logger("keepsake.accounts")
blueprint = procrastinate.Blueprint()

PURGE_MEDIA_TASK = "accounts:purge_media"
# Small, because each account's cascade may touch many rows while its lock is held.
BATCH = 10
# Once the rows are gone the job is the only record of the files: keep trying for days
# (waits of 4 s, 16 s, ... 3 days) before leaving it `failed` for an operator to retry.
_UNTIL_STORAGE_IS_BACK = procrastinate.RetryStrategy(max_attempts=10, exponential_wait=4)


@blueprint.task(name="purge_media", pass_context=True, retry=_UNTIL_STORAGE_IS_BACK)
async def purge_media(context: JobContext, prefixes: list[str]) -> None:
    storage = jobs.resources(context).storage
    for prefix in prefixes:
        await storage.delete_prefix(prefix)


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
                    memory_ids = await memories.authored_ids(db, user.id)
                    prefixes = keys.account_folders(user.id, memory_ids)
                    await jobs.defer(db, PURGE_MEDIA_TASK, prefixes=prefixes)
                    # The ledger is append-only and must still balance without them.
                    await points.close_account(db, user.id)
                    await repository.delete_user(db, user.id)
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
