"""Mission views and the operator's requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from keepsake.examples import example_of
from keepsake.memories.schemas import MemoryPublic
from keepsake.missions.models import EntryStatus, MissionStatus
from keepsake.text import MultiLine, SingleLine

_MISSION_EXAMPLE: dict[str, JsonValue] = {
    "id": "8b2d6f1a-3e9c-4a7b-b5d0-2c8e1f6a9d34",
    "title": "첫눈",
    "description": "The first snow where you are.",
    "hashtag": "첫눈",
    "starts_at": "2026-12-01T00:00:00Z",
    "ends_at": "2026-12-08T00:00:00Z",
    "winners_count": 3,
    "entry_points": 10,
    "winner_points": 100,
    "status": "open",
    "my_entry": None,
}


class MyEntry(BaseModel):
    memory_id: uuid.UUID | None = Field(description="Null once the memory was deleted.")
    status: EntryStatus
    winner: bool
    entered_at: datetime


class MissionPublic(BaseModel):
    """A mission as everyone signed in sees it; `my_entry` is the caller's own."""

    model_config = ConfigDict(json_schema_extra={"examples": [_MISSION_EXAMPLE]})

    id: uuid.UUID
    title: str
    description: str
    hashtag: str = Field(description="Without '#', in the form captions' tags are matched.")
    starts_at: datetime
    ends_at: datetime
    winners_count: int
    entry_points: int
    winner_points: int
    status: MissionStatus
    my_entry: MyEntry | None


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: SingleLine = Field(min_length=1, max_length=100)
    description: MultiLine = Field(max_length=2000)
    hashtag: SingleLine = Field(min_length=1, max_length=101, description="With or without '#'.")
    starts_at: datetime
    ends_at: datetime
    winners_count: StrictInt = Field(ge=1, le=100)
    entry_points: StrictInt = Field(ge=0, le=1_000_000)
    winner_points: StrictInt = Field(ge=0, le=1_000_000)


class MissionCreate(_Fields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {k: v for k, v in _MISSION_EXAMPLE.items() if k not in ("id", "status", "my_entry")}
            ]
        }
    )

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise PydanticCustomError("ends_before_start", "ends_at must be after starts_at.")
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise PydanticCustomError("timezone_aware", "Give the time with its UTC offset.")
        return self


class MissionUpdate(BaseModel):
    """Before the mission opens any field may change; later only title and description."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"title": "첫눈 (first snow)"}]},
    )

    title: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    description: MultiLine | None = Field(default=None, max_length=2000)
    hashtag: SingleLine | None = Field(default=None, min_length=1, max_length=101)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    winners_count: StrictInt | None = Field(default=None, ge=1, le=100)
    entry_points: StrictInt | None = Field(default=None, ge=0, le=1_000_000)
    winner_points: StrictInt | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _aware(self) -> Self:
        for value in (self.starts_at, self.ends_at):
            if value is not None and value.tzinfo is None:
                raise PydanticCustomError("timezone_aware", "Give the time with its UTC offset.")
        return self


class WinnersChoice(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"memory_ids": ["9a3e5c1d-7b2f-4e8a-b6d0-1f4c2a7e9b35"]}]},
    )

    memory_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class EntryPublic(BaseModel):
    """An entry: its memory as the caller may see it; `winner` once the mission closed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"memory": example_of(MemoryPublic), "winner": None}]}
    )

    memory: MemoryPublic
    winner: bool | None = Field(description="Null until the winners are chosen.")
