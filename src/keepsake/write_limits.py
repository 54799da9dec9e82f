"""Per-account rate limits on writes, counted in PostgreSQL like every other limit.

A route opts in with `dependencies=[write_limit(Write.claps)]`. The count is keyed by the
account named in the bearer token, read without touching the database (its signature is
checked; whether its session still lives is the route's own auth, which still runs): a
missing or bad token is left to that auth to refuse with 401.
"""

from __future__ import annotations

import enum
from typing import Any

from fastapi import Depends, Request

from keepsake.config import Settings
from keepsake.ratelimit import RateLimiter
from keepsake.security import read_access_token


class Write(enum.StrEnum):
    """Kinds of writes, each with its setting `rate_limit_<kind>_per_hour`."""

    uploads = "uploads"
    memories = "memories"
    claps = "claps"
    follows = "follows"
    reports = "reports"
    blocks = "blocks"
    profile_edits = "profile_edits"
    devices = "devices"
    appeals = "appeals"


def per_hour(settings: Settings, kind: Write) -> int:
    limit: int = getattr(settings, f"rate_limit_{kind.value}_per_hour")
    return limit


def write_limit(kind: Write) -> Any:
    """A route dependency counting one `kind` write of the caller; 429 past the limit."""

    async def count(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        settings: Settings = request.app.state.settings
        claims = read_access_token(settings, token) if scheme.lower() == "bearer" else None
        if claims is None:
            return
        limiter: RateLimiter = request.app.state.rate_limiter
        await limiter.hit_leased(
            f"write:{kind.value}:{claims.user_id}",
            limit=per_hour(settings, kind),
            window=settings.rate_limit_write_window,
        )

    return Depends(count)
