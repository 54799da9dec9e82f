"""A person as others see them: the handle in a path, the avatar's pictures and the
profile card (`UserPublic`).

Every domain that lists people (the graph, notifications, claps, search) shows this card,
so it sits with the accounts, beneath them all; the owner's own view (`MePublic`) is the
profiles'.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from keepsake.privacy import Person, Relationship, relationship

HandlePath = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.]{3,30}$",
        description="A handle, in any case: 3–30 characters of a–z, 0–9, `_` and `.`.",
        examples=["mina"],
    ),
]

NOTE = "The one-line note: at most 80 characters, no line breaks."
AVATAR = "The avatar's square pictures; null when there is no avatar."


class AvatarPublic(BaseModel):
    """Signed, expiring URLs of square JPEGs at most 96, 320 and 640 pixels wide."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "small": "https://media.example.com/avatars/5f0c.../3e1a.../96.jpg?...",
                    "medium": "https://media.example.com/avatars/5f0c.../3e1a.../320.jpg?...",
                    "large": "https://media.example.com/avatars/5f0c.../3e1a.../640.jpg?...",
                }
            ]
        }
    )

    small: str = Field(description="At most 96 × 96 pixels: lists and comments.")
    medium: str = Field(description="At most 320 × 320 pixels: profile headers.")
    large: str = Field(description="At most 640 × 640 pixels: full-screen views.")


class PersonFields(BaseModel):
    """What every view of a person starts with: another's (`UserPublic`) and your own
    (`MePublic`)."""

    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    note: str = Field(description=NOTE)
    avatar: AvatarPublic | None = Field(default=None, description=AVATAR)


class UserPublic(PersonFields):
    """Another person's profile as you may see it. It never carries counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c6b8e-2a51-4c1e-9d0b-8a7f3e2c1b4d",
                    "handle": "mina",
                    "display_name": "Mina",
                    "bio": "Slow mornings, long walks.",
                    "note": "walking by the sea this week",
                    "avatar": None,
                    "is_private": False,
                    "relationship": "following",
                    "follows_you": True,
                    "muted": False,
                }
            ]
        }
    )

    is_private: bool
    relationship: Relationship = Field(
        description="Your follow of them: `self` (this is you), `following`, `requested` "
        "(waiting for their approval) or `none`; the same values `POST .../follow` returns.",
    )
    follows_you: bool = Field(description="They follow you (an approved follow).")
    muted: bool = Field(description="You muted them: their memories stay out of your feeds.")

    @classmethod
    def of(cls, viewer_id: uuid.UUID, person: Person, avatar: AvatarPublic | None) -> UserPublic:
        return cls(
            id=person.id,
            handle=person.handle,
            display_name=person.display_name,
            bio=person.bio,
            note=person.note,
            avatar=avatar,
            is_private=person.is_private,
            relationship=relationship(viewer_id, person),
            follows_you=person.relation.follows_viewer,
            muted=person.relation.muting,
        )
