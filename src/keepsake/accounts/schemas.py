"""Request and response bodies of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from keepsake.i18n import Language
from keepsake.text import DisplayName

_LOCALE = (
    "The language the server writes to this person in; absent: the best match of "
    "`Accept-Language`, else `en`."
)
_PASSWORD = Field(min_length=1, max_length=256, examples=["correct horse battery staple"])


class SignupCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "mina@example.com",
                    "password": "a quiet walk by the sea",
                    "handle": "mina",
                    "display_name": "Mina",
                }
            ]
        }
    )

    email: EmailStr = Field(max_length=320)
    password: str = _PASSWORD
    # Not a `keepsake.text` type: NFC would turn the Kelvin sign into `K` before the
    # handle rule (ASCII only, which also refuses control characters) could refuse it.
    handle: str = Field(min_length=1, max_length=30)
    display_name: DisplayName = Field(description="1–60 characters, one line.")
    locale: Language | None = Field(default=None, description=_LOCALE)


class LoginCreate(BaseModel):
    email: EmailStr = Field(max_length=320, examples=["mina@example.com"])
    password: str = _PASSWORD


_OPAQUE_TOKEN = "Jm3v6cQ0pX2s1a8Yt9ZkB4rW7nE5uH0iL2oP6dF3gS8"  # noqa: S105 - documentation example


class RefreshCreate(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200, examples=[_OPAQUE_TOKEN])


class TokenCreate(BaseModel):
    token: str = Field(
        min_length=1, max_length=200, examples=[_OPAQUE_TOKEN], description="The emailed token."
    )


class ForgotPasswordCreate(BaseModel):
    email: EmailStr = Field(max_length=320, examples=["mina@example.com"])


class ResetPasswordCreate(BaseModel):
    token: str = Field(min_length=1, max_length=200, examples=[_OPAQUE_TOKEN])
    new_password: str = _PASSWORD


class IdTokenCreate(BaseModel):
    id_token: str = Field(
        min_length=1,
        max_length=8192,
        examples=["eyJraWQiOiJXNldjT0tCIiwiYWxnIjoiUlMyNTYifQ.eyJpc3MiOi4uLn0.c2lnbmF0dXJl"],
        description="The ID token (a JWT) the provider's SDK gave the app.",
    )
    locale: Language | None = Field(
        default=None, description=_LOCALE + " Used only when this sign-in creates the account."
    )


class Tokens(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6InYxIn0.eyJzdWIiOiIuLi4ifQ.sig",
                    "refresh_token": _OPAQUE_TOKEN,
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    refresh_token: str = Field(description="Single use: trade it at /v1/auth/refresh.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class TokensPublic(BaseModel):
    tokens: Tokens


class SessionPublic(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str
    ip: str
    current: bool = Field(description="True for the session making this request.")
