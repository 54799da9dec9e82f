"""The moderation sweep: suspensions whose `until` has come lift themselves."""

from __future__ import annotations

from keepsake import jobs
from keepsake.moderation import service
from keepsake.security import utcnow


async def lift_due_suspensions(res: jobs.Resources) -> None:
    """Run by every reconciler round; sign-in already lets such an account in."""
    async with res.sessionmaker() as db, db.begin():
        await service.lift_due(db, now=utcnow())
