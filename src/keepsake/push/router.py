"""HTTP routes of devices."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import IdPath
from keepsake.errors import RateLimited, responses
from keepsake.push import service
from keepsake.push.schemas import DeviceCreate, DevicePublic
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["devices"])


@router.post(
    "/devices",
    dependencies=[write_limit(Write.devices)],
    status_code=status.HTTP_201_CREATED,
    summary="Register this app install's push token; the same token again changes nothing.",
    responses=responses(*AUTH_ERRORS, RateLimited, invalid=(service.InvalidDeviceToken.code,)),
)
async def register_device(body: DeviceCreate, db: DbSession, user: CurrentUser) -> DevicePublic:
    return await service.register_device(db, user=user, body=body)


@router.delete(
    "/devices/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop pushes to one of your devices (say, when signing out on it).",
    responses=responses(*AUTH_ERRORS, service.DeviceNotFound),
)
async def remove_device(device_id: IdPath, db: DbSession, user: CurrentUser) -> Response:
    await service.remove_device(db, user=user, device_id=device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
