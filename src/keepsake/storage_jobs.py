"""The generic storage job: delete these keys (and everything under a prefix).

Any domain that lets go of media defers it in the transaction that lets go, through
`DELETE_MEDIA_TASK`, so the files go only once the rows that named them are gone. It sits
beside `storage/`, not in it: a job needs `keepsake.jobs`, which builds on `storage/`.
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
