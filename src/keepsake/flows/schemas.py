"""Bodies that span domains: a new session (accounts) with the person who holds it
(profiles)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from keepsake.accounts.schemas import Tokens
from keepsake.profiles.schemas import MePublic


class AuthPublic(BaseModel):
    user: MePublic
    tokens: Tokens


class ProviderAuthPublic(AuthPublic):
    created: bool = Field(description="True when this sign-in created the account.")
