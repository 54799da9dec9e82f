"""Background jobs of pushes: deliver a notification, send a digest, reach a device.

`deliver` and `digest` decide inside one transaction, with the notifications locked,
and hand each device its own `send` job there: a notification is pushed at most once,
and a device whose provider is briefly down is retried without repeating the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import procrastinate
import structlog
from procrastinate import JobContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.notifications import service as notifications
from keepsake.notifications.models import NotificationKind
from keepsake.push import messages, repository
from keepsake.push.config import push_config
from keepsake.push.gateway import gateway
from keepsake.push.messages import PushMessage
from keepsake.push.models import Device
from keepsake.push.outcome import Outcome, ProviderUnavailable
from keepsake.push.quiet import quiet_until
from keepsake.security import utcnow

log = structlog.get_logger("keepsake.push")
blueprint = procrastinate.Blueprint()

DIGEST_TASK = "push:digest"
SEND_TASK = "push:send"


class SendRetry(procrastinate.BaseRetryStrategy):
    """A provider hiccup is retried 3, 9, 27 and 81 s later; a job cut short by a stopping
    worker goes straight back to the queue."""

    backoff = procrastinate.RetryStrategy(
        max_attempts=5, exponential_wait=3, retry_exceptions=[ProviderUnavailable]
    )

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        return jobs.REQUEUE_ON_SHUTDOWN.get_retry_decision(
            exception=exception, job=job
        ) or self.backoff.get_retry_decision(exception=exception, job=job)


# A push owed this long past its batching wait, with no job for it, lost its job.
STRANDED_GRACE = timedelta(minutes=10)


def digest_lock(user_id: uuid.UUID) -> str:
    """One digest waiting per person: never more than one push at a window's end."""
    return f"push-digest:{user_id}"


async def _plan_digest(db: AsyncSession, user_id: uuid.UUID, at: datetime) -> None:
    try:
        async with db.begin_nested():
            await jobs.defer(
                db,
                DIGEST_TASK,
                queueing_lock=digest_lock(user_id),
                scheduled_at=at,
                user_id=str(user_id),
            )
    except IntegrityError:
        # A digest is already waiting for this person; it will carry this push too.
        return


async def _send(db: AsyncSession, devices: Sequence[Device], message: PushMessage) -> None:
    for device in devices:
        await jobs.defer(db, SEND_TASK, device_id=str(device.id), message=message.as_args())


@blueprint.task(name="deliver", pass_context=True, retry=jobs.REQUEUE_ON_SHUTDOWN)
async def deliver(context: JobContext, notification_id: str) -> None:
    res = jobs.resources(context)
    config = push_config(res.settings)
    async with res.sessionmaker() as db, db.begin():
        found = await notifications.owed_one(db, uuid.UUID(notification_id))
        if found is None:
            return
        recipient, item = found
        devices = await repository.of_user(db, recipient.id)
        if not devices:
            # Nobody to push to: nothing to hold for a digest either.
            await notifications.mark_pushed(db, [item.id])
            return
        now = utcnow()
        gathered = item.created_at + config.claps_gather
        if item.kind == NotificationKind.claps and gathered > now:
            await notifications.defer_delivery(db, item.id, at=gathered)
            return
        until = quiet_until(now, recipient.timezone, recipient.quiet_start, recipient.quiet_end)
        if until is not None:
            await _plan_digest(db, recipient.id, until)
            log.info("push.held", notification_id=notification_id, until=until.isoformat())
            return
        if await jobs.has_pending_job(db, digest_lock(recipient.id)):
            # The digest of a window that just ended is going out; it carries this one.
            return
        await _send(db, devices, messages.single(item, recipient.locale))
        await notifications.mark_pushed(db, [item.id])


@blueprint.task(name="digest", pass_context=True, retry=jobs.REQUEUE_ON_SHUTDOWN)
async def digest(context: JobContext, user_id: str) -> None:
    res = jobs.resources(context)
    user = uuid.UUID(user_id)
    async with res.sessionmaker() as db, db.begin():
        recipient, owed = await notifications.owed_all(db, user)
        if recipient is None:
            return
        until = quiet_until(
            utcnow(), recipient.timezone, recipient.quiet_start, recipient.quiet_end
        )
        if until is not None:
            # The quiet hours changed while the digest waited: wait for the new end.
            await _plan_digest(db, user, until)
            return
        message = messages.digest(owed, recipient.locale)
        if message is None:
            return
        await _send(db, await repository.of_user(db, user), message)
        await notifications.mark_pushed(db, [item.id for item in owed])
        log.info("push.digest", user_id=user_id, notifications=len(owed))


@blueprint.task(name="send", pass_context=True, retry=SendRetry())
async def send(context: JobContext, device_id: str, message: dict[str, str | None]) -> None:
    res = jobs.resources(context)
    async with res.sessionmaker() as db:
        device = await repository.get(db, uuid.UUID(device_id))
    if device is None:
        return
    push = PushMessage.from_args(message)
    outcome = await gateway(push_config(res.settings)).send(device.platform, device.token, push)
    if outcome is Outcome.unregistered:
        async with res.sessionmaker() as db, db.begin():
            await repository.forget(db, device.id)
        log.info("push.device.forgotten", device_id=device_id, platform=device.platform.value)
    elif outcome is Outcome.sent:
        log.info("push.sent", device_id=device_id, kind=push.kind)


async def reconcile(res: jobs.Resources) -> None:
    """Re-defer pushes whose job was lost; those waiting for a digest are left to it."""
    idle_for = push_config(res.settings).claps_gather + STRANDED_GRACE
    async with res.sessionmaker() as db, db.begin():
        for notification_id, recipient_id in await notifications.stranded(
            db, idle_for=idle_for, limit=100
        ):
            if await jobs.has_pending_job(
                db, notifications.delivery_lock(notification_id)
            ) or await jobs.has_pending_job(db, digest_lock(recipient_id)):
                continue
            await notifications.defer_delivery(db, notification_id)
            log.warning("push.requeued", notification_id=str(notification_id))
