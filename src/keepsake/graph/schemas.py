"""Request and response bodies of the social graph."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keepsake.accounts.people import UserPublic


class FollowPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"relationship": "requested"}]})

    relationship: Literal["following", "requested"] = Field(
        description="`following` at once for public accounts; `requested` until a private "
        "account approves."
    )


class FollowRequestPublic(BaseModel):
    """Someone asking to follow you; approve or deny it by `id`."""

    id: uuid.UUID
    created_at: datetime
    user: UserPublic
