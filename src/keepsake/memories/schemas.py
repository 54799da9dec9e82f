"""Request and response bodies of memories."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keepsake.kinds import MemoryStatus, Visibility
from keepsake.music.schemas import MusicTrackPublic
from keepsake.text import Caption


def _absent(value: object) -> bool:
    return value is None


class ClipCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upload_id: uuid.UUID
    still_seconds: float | None = Field(
        default=None,
        ge=1,
        le=10,
        description="For a photo: how long it shows (default 3 s). Ignored for videos.",
    )


class MemoryCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "clips": [
                        {"upload_id": "7d4bfc1e-4b1f-4f0c-9a55-0d6a3c0b8a11"},
                        {"upload_id": "2a9e0f5c-1c3b-4e8e-8f0f-5e7d2b6c9a10", "still_seconds": 4},
                    ],
                    "music_track_id": None,
                    "caption": "First snow on the way home #첫눈 #walk",
                    "visibility": "followers",
                }
            ]
        },
    )

    clips: list[ClipCreate] = Field(min_length=1, max_length=10)
    music_track_id: uuid.UUID | None = None
    caption: Caption = Field(default="", max_length=2000)
    visibility: Visibility


class MemoryUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"caption": "Snow, at last #첫눈", "visibility": "public"}]
        },
    )

    caption: Caption | None = Field(default=None, max_length=2000)
    visibility: Visibility | None = None


class AuthorPublic(BaseModel):
    id: uuid.UUID
    handle: str
    display_name: str


class ClipPublic(BaseModel):
    id: uuid.UUID
    duration_s: float | None
    width: int | None
    height: int | None
    video_url: str | None = Field(description="Signed, expiring; null until the memory is ready.")
    poster_url: str | None = Field(description="Signed, expiring JPEG; null until ready.")


class Failure(BaseModel):
    code: str = Field(examples=["memory_too_long"])
    detail: str = Field(examples=["The clips add up to 245 s; a memory is at most 240 s."])


class ModerationState(BaseModel):
    """Shown to the author of a memory a moderator hid; nobody else sees the memory."""

    status: Literal["hidden"]
    reason: str = Field(examples=["Shows a person's home address."])


class MemoryPublic(BaseModel):
    """A memory as the viewer may see it; `clap_total` appears only for its author."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f1c2d3e-0000-4a5b-9c8d-112233445566",
                    "author": {
                        "id": "0b0e5a4e-1b7a-4c5e-9f3a-2d8c6e1f7a90",
                        "handle": "mina",
                        "display_name": "Mina",
                    },
                    "status": "ready",
                    "clips": [
                        {
                            "id": "8e7d6c5b-0000-4a5b-9c8d-112233445566",
                            "duration_s": 6.2,
                            "width": 720,
                            "height": 1280,
                            "video_url": "https://media.example.com/memories/...mp4?Signature=...",
                            "poster_url": "https://media.example.com/memories/...jpg?Signature=...",
                        }
                    ],
                    "duration_s": 6.2,
                    "music_track": None,
                    "caption": "First snow #첫눈",
                    "hashtags": ["첫눈"],
                    "visibility": "followers",
                    "created_at": "2026-11-26T21:04:05Z",
                    "my_claps": 0,
                }
            ]
        }
    )

    id: uuid.UUID
    author: AuthorPublic
    status: MemoryStatus
    failure: Failure | None = Field(default=None, exclude_if=_absent)
    clips: list[ClipPublic]
    duration_s: float | None
    music_track: MusicTrackPublic | None = None
    caption: str
    hashtags: list[str]
    visibility: Visibility
    created_at: datetime
    my_claps: int = Field(description="How many times you clapped for this memory.")
    # Absent rather than null: another viewer's response carries no total at all.
    clap_total: int | None = Field(
        default=None, exclude_if=_absent, description="All claps; only for the author."
    )
    moderation: ModerationState | None = Field(
        default=None,
        exclude_if=_absent,
        description="Present only for the author, when a moderator hid the memory: nobody "
        "else can see it, and its media URLs are null.",
    )
