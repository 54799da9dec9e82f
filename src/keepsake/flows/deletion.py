"""The purge of one account past its grace period: what goes of it in every domain.

The accounts domain finds the accounts due and holds their locks (`accounts.deletion`);
this flow knows what each domain keeps of an account: its memories' files in storage, its
points in the ledger, and the `users` row whose ON DELETE CASCADE (or SET NULL) takes the
rest of its rows.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts import repository as accounts
from keepsake.memories import service as memories
from keepsake.points import service as points
from keepsake.storage import keys
from keepsake.storage_jobs import PURGE_MEDIA_TASK


async def purge_account(db: AsyncSession, user_id: uuid.UUID) -> None:
    """Everything of the account, in the caller's transaction."""
    memory_ids = await memories.authored_ids(db, user_id)
    # Stored files go through a job deferred in the same transaction: it exists exactly
    # when the rows are gone, and a storage outage only delays it.
    await jobs.defer(db, PURGE_MEDIA_TASK, prefixes=keys.account_folders(user_id, memory_ids))
    # The ledger is append-only and must still balance without them.
    await points.close_account(db, user_id)
    await accounts.delete_user(db, user_id)
