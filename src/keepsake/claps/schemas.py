"""Request and response bodies of claps."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keepsake.accounts.people import AvatarPublic
from keepsake.claps.models import MAX_CLAPS


class ClapCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"count": 3}]})

    # Strict: apps send numbers; `"3"`, `3.0` and `true` are refused, not coerced.
    count: int = Field(
        strict=True,
        ge=1,
        le=MAX_CLAPS,
        description=f"Claps to add. Your total per memory stops at {MAX_CLAPS}: a request "
        "that would pass it adds what still fits.",
    )


class ClapResult(BaseModel):
    """What the viewer did, and nothing about anyone else.

    The author cannot clap for their own memory, so this never carries a total.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"my_claps": 7}]})

    my_claps: int = Field(description="Your claps for this memory so far, after this request.")


class ClapperPublic(BaseModel):
    id: uuid.UUID
    handle: str
    display_name: str
    avatar: AvatarPublic | None = None


class ClapPublic(BaseModel):
    """One person's claps for your memory; only the author ever sees these."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user": {
                        "id": "0b0e5a4e-1b7a-4c5e-9f3a-2d8c6e1f7a90",
                        "handle": "theo",
                        "display_name": "Theo",
                        "avatar": None,
                    },
                    "count": 12,
                    "updated_at": "2026-11-27T08:15:00Z",
                }
            ]
        }
    )

    user: ClapperPublic
    count: int = Field(description="How many times they clapped, 1–50.")
    updated_at: datetime = Field(description="When they last clapped; the list's order.")
