"""Points views and the operator's adjustment."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator
from pydantic_core import PydanticCustomError

from keepsake.points.models import TransferKind
from keepsake.text import SingleLine

MAX_ADJUSTMENT = 1_000_000


class MissionRef(BaseModel):
    id: uuid.UUID
    title: str


class PointsLine(BaseModel):
    """One movement of the owner's points."""

    id: uuid.UUID
    amount: int = Field(description="Positive when points came in, negative when they left.")
    kind: TransferKind
    mission: MissionRef | None = Field(description="The mission it was for, if any.")
    reason: str | None = Field(description="An operator's adjustment: why.")
    created_at: datetime


class PointsPublic(BaseModel):
    """Your balance and its history; nobody else ever sees either."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "balance": 150,
                    "items": [
                        {
                            "id": "3c1e9a7b-5d2f-4b8e-a0c6-9f4e2d1b7a53",
                            "amount": 100,
                            "kind": "winner",
                            "mission": {
                                "id": "8b2d6f1a-3e9c-4a7b-b5d0-2c8e1f6a9d34",
                                "title": "첫눈",
                            },
                            "reason": None,
                            "created_at": "2026-12-05T09:00:00Z",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    balance: int
    items: list[PointsLine]
    next_cursor: str | None


class AdjustmentCreate(BaseModel):
    """An operator's correction of a person's balance."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"handle": "mina", "amount": 50, "reason": "Prize resent after a bug"}]
        },
    )

    handle: str = Field(pattern=r"^@?[A-Za-z0-9_.]{1,30}$", description="With or without @.")
    amount: StrictInt = Field(
        ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT, description="Points to add (negative: remove)."
    )
    reason: SingleLine = Field(min_length=1, max_length=500)

    @field_validator("amount")
    @classmethod
    def _moves_something(cls, amount: int) -> int:
        if amount == 0:
            raise PydanticCustomError("points_nonzero", "An adjustment moves at least one point.")
        return amount


class AdjustmentPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3c1e9a7b-5d2f-4b8e-a0c6-9f4e2d1b7a53",
                    "handle": "mina",
                    "amount": 50,
                    "reason": "Prize resent after a bug",
                }
            ]
        }
    )

    id: uuid.UUID
    handle: str
    amount: int
    reason: str
