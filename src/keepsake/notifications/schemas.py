"""Notification views and the read request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from keepsake.accounts.people import AvatarPublic
from keepsake.notifications.models import NotificationKind
from keepsake.pagination import MAX_LIMIT


class ActorPublic(BaseModel):
    """Someone behind a notification: enough to show their name and picture."""

    id: uuid.UUID
    handle: str
    display_name: str
    avatar: AvatarPublic | None


class MemoryRef(BaseModel):
    id: uuid.UUID


class MissionRef(BaseModel):
    id: uuid.UUID


class NotificationPublic(BaseModel):
    """One notification; a batch of claps on a memory gathers while it is unread."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7d4c2e-9f1a-4e63-8d25-7a6c3e1f9b40",
                    "kind": "claps",
                    "actors": [
                        {
                            "id": "5f0c6b8e-2a51-4c1e-9d0b-8a7f3e2c1b4d",
                            "handle": "mina",
                            "display_name": "Mina",
                            "avatar": None,
                        }
                    ],
                    "actor_count": 3,
                    "memory": {"id": "9a3e5c1d-7b2f-4e8a-b6d0-1f4c2a7e9b35"},
                    "mission": None,
                    "count": 12,
                    "created_at": "2026-11-26T21:04:05Z",
                    "updated_at": "2026-11-26T21:40:12Z",
                    "read": False,
                }
            ]
        }
    )

    id: uuid.UUID
    kind: NotificationKind
    actors: list[ActorPublic] = Field(
        description="The people behind it, most recent first: at most 3. Empty for "
        "`memory_ready`, `memory_failed`, `mission_won` and `mission_closed`."
    )
    actor_count: int = Field(description="How many different people are behind it.")
    memory: MemoryRef | None = Field(description="The memory it is about, if any.")
    mission: MissionRef | None = Field(
        default=None,
        description="`mission_won` and `mission_closed`: the mission it is about.",
    )
    count: int | None = Field(
        description="`claps` only: how many claps the batch holds (you are the author)."
    )
    created_at: datetime = Field(description="When the first event of the batch happened.")
    updated_at: datetime = Field(
        description="When the latest event joined it; the list is ordered by this."
    )
    read: bool


class NotificationsRead(BaseModel):
    """Which notifications to mark read: some by id, or all of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"ids": ["0b7d4c2e-9f1a-4e63-8d25-7a6c3e1f9b40"]}, {"all": True}]
        },
    )

    ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LIMIT,
        description="Ids from the list; ids that are not yours or no longer exist are ignored.",
    )
    all: Literal[True] | None = Field(default=None, description="Mark every notification read.")

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.ids is None) == (self.all is None):
            raise PydanticCustomError("ids_or_all", "Give either ids or all: true.")
        return self
