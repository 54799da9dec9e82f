"""Device registration."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keepsake.push.models import Platform

_APNS_EXAMPLE = "5d1e9f0c3b7a4e6d8c2f1a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"


class DeviceCreate(BaseModel):
    """An app install's push token, registered at every launch (it may change)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"platform": "ios", "token": _APNS_EXAMPLE},
                {"platform": "android", "token": "cK3x9QmT_Ui:APA91bH4kR2v7Zt0-wLq8sN1yE6oP3dF"},
            ]
        },
    )

    platform: Platform = Field(description="`ios` (an APNs token) or `android` (an FCM token).")
    token: str = Field(
        min_length=8,
        max_length=1024,
        pattern=r"^[A-Za-z0-9_:\-]+$",
        description="The APNs device token in hex, or the FCM registration token.",
    )


class DevicePublic(BaseModel):
    id: uuid.UUID
    platform: Platform
    created_at: datetime = Field(description="When this device was registered to you.")
