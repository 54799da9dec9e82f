"""Profile views: the owner's own (`MePublic`) and everyone else's (`UserPublic`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class Counts(BaseModel):
    followers: int
    following: int


class MePublic(BaseModel):
    """The caller's own profile and settings; the only view that carries counts."""

    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    note: str = Field(description="The one-line note: at most 80 characters, no line breaks.")
    email: str
    email_verified: bool
    is_private: bool
    timezone: str
    role: str
    created_at: datetime
    counts: Counts
