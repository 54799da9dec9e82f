"""Profile views: the owner's own (`MePublic`) and everyone else's (`UserPublic`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

# Another person's view (and the avatar and handle in it) sits with the accounts beneath
# the graph, which lists people; `as`: named here as the profile view it also is.
from keepsake.accounts.people import NOTE, PersonFields
from keepsake.accounts.people import UserPublic as UserPublic
from keepsake.i18n import Language
from keepsake.text import Bio, DisplayName, Note

_LOCALE = "`ko` or `en`: the language of pushes, emails and messages written for you."
_SEARCHABLE = "Whether people search finds you; people who already follow you find you either way."


class Counts(BaseModel):
    """Numbers about the owner, shown to the owner only."""

    followers: int
    following: int
    follow_requests: int = Field(description="Follow requests waiting for your answer.")


class QuietHours(BaseModel):
    """Local times (in `timezone`) between which pushes are held; may span midnight."""

    model_config = ConfigDict(strict=True, extra="forbid")

    start: str = Field(description="Local time `HH:MM`, 24-hour.", examples=["22:00"])
    end: str = Field(description="Local time `HH:MM`, 24-hour.", examples=["07:00"])


class NotificationPrefs(BaseModel):
    """Which kinds of notification reach you; every kind is on unless turned off."""

    follow: bool = True
    follow_request: bool = True
    follow_approved: bool = True
    claps: bool = True
    memory_ready: bool = True
    memory_failed: bool = True


class NotificationPrefsUpdate(BaseModel):
    """The kinds to change; the others keep their value."""

    model_config = ConfigDict(strict=True, extra="forbid")

    follow: bool | None = None
    follow_request: bool | None = None
    follow_approved: bool | None = None
    claps: bool | None = None
    memory_ready: bool | None = None
    memory_failed: bool | None = None


class MePublic(PersonFields):
    """The caller's own profile and settings; the only view that carries counts."""

    email: str
    email_verified: bool
    is_private: bool
    discoverable: bool = Field(
        description="Search engines may index your share pages (`/u/{handle}`, `/m/{id}`)."
    )
    timezone: str = Field(description="IANA time zone name.", examples=["Europe/Berlin"])
    quiet_hours: QuietHours | None = Field(description="Null when pushes are never held.")
    notification_prefs: NotificationPrefs
    locale: Language = Field(description=_LOCALE)
    searchable: bool = Field(description=_SEARCHABLE)
    role: str
    created_at: datetime
    counts: Counts


_NOT_NULL = (
    "display_name",
    "bio",
    "note",
    "is_private",
    "discoverable",
    "timezone",
    "notification_prefs",
    "locale",
    "searchable",
)


class MeUpdate(BaseModel):
    """Fields to change; absent fields stay as they are. `quiet_hours: null` turns them off."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"note": "walking by the sea this week"},
                {"avatar_upload_id": "9a3e5c1d-7b2f-4e8a-b6d0-1f4c2a7e9b35"},
                {
                    "display_name": "Mina",
                    "bio": "Slow mornings, long walks.",
                    "is_private": True,
                    "timezone": "Europe/Berlin",
                    "quiet_hours": {"start": "22:00", "end": "07:00"},
                    "notification_prefs": {"claps": False},
                },
            ]
        },
    )

    display_name: DisplayName | None = Field(default=None, description="1–60 characters, one line.")
    bio: Bio | None = Field(default=None, description="Up to 300 characters; may span lines.")
    note: Note | None = Field(default=None, description=NOTE + ' `""` clears it.')
    is_private: bool | None = Field(
        default=None,
        description="Private accounts approve followers. Turning it off approves every "
        "pending follow request.",
    )
    discoverable: bool | None = Field(
        default=None,
        description="Let search engines index your share pages; off until you turn it on.",
    )
    timezone: str | None = Field(default=None, description="IANA time zone name.")
    quiet_hours: QuietHours | None = None
    notification_prefs: NotificationPrefsUpdate | None = None
    locale: Language | None = Field(default=None, description=_LOCALE)
    searchable: bool | None = Field(default=None, description=_SEARCHABLE)
    avatar_upload_id: uuid.UUID | None = Field(
        default=None,
        # JSON has no UUID type: the id arrives as a string, which strict mode refuses.
        strict=False,
        description="A finished `avatar` upload of yours (JPEG, PNG, HEIC or WebP) to become "
        "your avatar; null removes the avatar.",
    )

    @field_validator(*_NOT_NULL)
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("not_null", "This field may not be null.")
        return value


class MeDelete(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"password": "a quiet walk by the sea"}]}
    )

    password: str | None = Field(
        default=None,
        max_length=256,
        description="Required when the account has a password; an account made with Apple "
        "or Google only sends `{}`.",
    )


class DeletionPublic(BaseModel):
    status: Literal["deleting"] = "deleting"
    deletion_requested_at: datetime = Field(
        description="Signing in again before the account is purged cancels the deletion."
    )


class NotePublic(BaseModel):
    """One past value of your note."""

    id: uuid.UUID
    note: str
    created_at: datetime
