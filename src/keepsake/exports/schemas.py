"""Response bodies of data exports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _absent(value: object) -> bool:
    return value is None


class ExportPublic(BaseModel):
    """Your data export: `pending` while it is being made, then `ready` with a download link.

    The ZIP holds `account.json`, `graph.json`, `memories.json` and the media: each ready
    memory's videos and posters under `media/{memory_id}/`, the avatar as
    `media/avatar.jpg`.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3c1f7e2a-0000-4a5b-9c8d-112233445566",
                    "status": "ready",
                    "created_at": "2026-11-26T21:04:05Z",
                    "url": "https://media.example.com/exports/...zip?Signature=...",
                    "expires_at": "2026-11-26T22:10:00Z",
                    "available_until": "2026-11-27T21:09:30Z",
                    "size_bytes": 48213554,
                }
            ]
        }
    )

    id: uuid.UUID
    status: Literal["pending", "ready"]
    created_at: datetime
    url: str | None = Field(
        default=None, exclude_if=_absent, description="Signed ZIP download link; when ready."
    )
    expires_at: datetime | None = Field(
        default=None,
        exclude_if=_absent,
        description=(
            "`url` works at least until then (signed URLs may last a few minutes more); "
            "ask again for a fresh link."
        ),
    )
    available_until: datetime | None = Field(
        default=None,
        exclude_if=_absent,
        description="When the export is deleted; asking after that starts a new one.",
    )
    size_bytes: int | None = Field(default=None, exclude_if=_absent)
