"""Bodies of the music library."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class MusicTrackPublic(BaseModel):
    id: uuid.UUID
    title: str = Field(examples=["Slow Morning"])
    artist: str = Field(examples=["The Quiet Band"])
    duration_s: float = Field(examples=[182.4])
    url: str = Field(description="Signed, expiring URL of the audio file.")
