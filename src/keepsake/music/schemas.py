"""Bodies of the music library: what the apps list, and what operators send."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from keepsake.text import CHECK_ONE_LINE

# Trimmed, one line, and bounded by the `music_tracks` columns.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    CHECK_ONE_LINE,
]


class MusicTrackPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3c1f9a2e-6b7d-4e0a-8f21-9d5c4b3a2e10",
                    "title": "Slow Morning",
                    "artist": "The Quiet Band",
                    "duration_s": 182.4,
                    "url": "https://media.example.com/music/3c1f9a2e.m4a?sig=…",
                }
            ]
        }
    )

    id: uuid.UUID
    title: str = Field(examples=["Slow Morning"])
    artist: str = Field(examples=["The Quiet Band"])
    duration_s: float = Field(examples=[182.4])
    url: str = Field(description="Signed, expiring URL of the audio file.")


class MusicTrackCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Slow Morning",
                    "artist": "The Quiet Band",
                    "upload_id": "3c1f9a2e-6b7d-4e0a-8f21-9d5c4b3a2e10",
                }
            ]
        },
    )

    title: Name
    artist: Name
    upload_id: uuid.UUID = Field(
        description="A finished upload of purpose `music` (MP3 or AAC) made by you."
    )


class MusicTrackUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Slow Morning (Live)"}]}
    )

    title: Name | None = None
    artist: Name | None = None

    @field_validator("title", "artist")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("not_null", "This field may not be null.")
        return value
