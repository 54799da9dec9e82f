"""The job that sends a password-reset email (`links.forgot_password` defers it)."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext

from keepsake import jobs
from keepsake.accounts import links

blueprint = procrastinate.Blueprint()


@blueprint.task(name="send_reset_link", pass_context=True, retry=jobs.REQUEUE_ON_SHUTDOWN)
async def send_reset_link(context: JobContext, user_id: str | None) -> None:
    res = jobs.resources(context)
    async with res.sessionmaker() as db, db.begin():
        await links.send_reset_link(
            db,
            settings=res.settings,
            mailer=res.mailer,
            user_id=None if user_id is None else uuid.UUID(user_id),
        )
