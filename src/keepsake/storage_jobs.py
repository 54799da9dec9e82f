"""The generic storage jobs: delete these keys (and everything under a prefix), and purge
a gone account's folders.

Any domain that lets go of media defers it in the transaction that lets go, through
`DELETE_MEDIA_TASK` (or `PURGE_MEDIA_TASK`), so the files go only once the rows that named
them are gone. They sit beside `storage/`, not in it: a job needs `keepsake.jobs`, which
builds on `storage/`.
"""

from __future__ import annotations

import procrastinate
from procrastinate import JobContext

from keepsake import jobs

# Its name keeps the namespace it was first registered under: queued jobs carry it.
NAMESPACE = "memories"
DELETE_MEDIA_TASK = f"{NAMESPACE}:delete_media"
blueprint = procrastinate.Blueprint()


@blueprint.task(name="delete_media", pass_context=True, retry=jobs.REQUEUE_ON_SHUTDOWN)
async def delete_media(context: JobContext, keys: list[str], prefix: str | None) -> None:
    storage = jobs.resources(context).storage
    await storage.delete(keys)
    if prefix:
        await storage.delete_prefix(prefix)


# Registered under the namespace it was first registered under: queued jobs carry it.
PURGE_NAMESPACE = "accounts"
PURGE_MEDIA_TASK = f"{PURGE_NAMESPACE}:purge_media"
purge_blueprint = procrastinate.Blueprint()
# Once an account's rows are gone the job is the only record of its files: keep trying
# for days (waits of 4 s, 16 s, ... 3 days) before leaving it `failed` for an operator.
_UNTIL_STORAGE_IS_BACK = procrastinate.RetryStrategy(max_attempts=10, exponential_wait=4)


@purge_blueprint.task(name="purge_media", pass_context=True, retry=_UNTIL_STORAGE_IS_BACK)
async def purge_media(context: JobContext, prefixes: list[str]) -> None:
    storage = jobs.resources(context).storage
    for prefix in prefixes:
        await storage.delete_prefix(prefix)
