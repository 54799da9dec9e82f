"""Response bodies of search."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class HashtagMission(BaseModel):
    """The open mission a tag names: where the app leads someone who picks the tag."""

    id: uuid.UUID = Field(examples=["8b2d6f1a-3e9c-4a7b-b5d0-2c8e1f6a9d34"])
    title: str = Field(examples=["첫눈"])
    ends_at: datetime = Field(examples=["2026-12-08T00:00:00Z"])


class HashtagPublic(BaseModel):
    """A tag people used, or an open mission's tag; never with a count."""

    tag: str = Field(description="Without `#`, as stored: NFKC, case-folded.", examples=["첫눈"])
    mission: HashtagMission | None = Field(
        default=None,
        description="The open mission with this tag; such tags come before all others.",
    )


class HashtagList(BaseModel):
    items: list[HashtagPublic]
