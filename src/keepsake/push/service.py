"""Rules of devices: registering push tokens and removing them."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.errors import Invalid, NotFound
from keepsake.i18n.catalog import _
from keepsake.push import repository
from keepsake.push.models import Platform
from keepsake.push.schemas import DeviceCreate, DevicePublic

# Enough for every phone and tablet a person has; registering one more forgets the one
# seen longest ago, so a stream of stale tokens cannot fan one push out without end.
MAX_DEVICES = 10
_APNS_TOKEN = re.compile(r"[0-9a-fA-F]{32,200}")


class DeviceNotFound(NotFound):
    code = "device_not_found"


class InvalidDeviceToken(Invalid):
    code = "invalid_device_token"


async def register_device(db: AsyncSession, *, user: User, body: DeviceCreate) -> DevicePublic:
    """Idempotent per token: the same token registered again (by anyone) moves to the caller."""
    token = body.token
    if body.platform == Platform.ios:
        if not _APNS_TOKEN.fullmatch(token) or len(token) % 2:
            raise InvalidDeviceToken(
                _("An APNs device token is the token's bytes in hex."),
                code=InvalidDeviceToken.code,
                field="token",
            )
        # APNs takes either case; one spelling keeps one row per token.
        token = token.lower()
    device = await repository.register(db, user_id=user.id, platform=body.platform, token=token)
    await repository.keep_newest(db, user_id=user.id, keep=MAX_DEVICES)
    return DevicePublic(id=device.id, platform=device.platform, created_at=device.created_at)


async def remove_device(db: AsyncSession, *, user: User, device_id: uuid.UUID) -> None:
    """Only the caller's own devices; anyone else's look like no device at all."""
    if not await repository.remove(db, user_id=user.id, device_id=device_id):
        raise DeviceNotFound(_("No such device of yours."))
