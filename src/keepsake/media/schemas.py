"""Request and response bodies of uploads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keepsake.media.models import UploadPurpose


class UploadCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"purpose": "clip", "content_type": "video/mp4", "size_bytes": 7340032}]
        },
    )

    purpose: UploadPurpose
    content_type: str = Field(
        max_length=100,
        description="Clips: video/mp4, video/quicktime, image/jpeg, image/png, image/heic. "
        "Avatars: image/jpeg, image/png, image/heic, image/webp.",
    )
    size_bytes: int = Field(strict=True, gt=0, description="The exact size of the file to upload.")


class UploadPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7d4bfc1e-4b1f-4f0c-9a55-0d6a3c0b8a11",
                    "upload_url": "https://media.example.com/uploads/...?X-Amz-Signature=...",
                    "method": "PUT",
                    "headers": {"Content-Type": "video/mp4", "Content-Length": "7340032"},
                    "expires_at": "2026-11-26T23:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    upload_url: str = Field(description="Send the raw bytes here, with `method` and `headers`.")
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: datetime
