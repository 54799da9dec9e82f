"""Request dependencies for the app-wide services the lifespan creates."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from keepsake.config import Settings
from keepsake.i18n import Language, negotiate
from keepsake.mailer import Mailer
from keepsake.ratelimit import RateLimiter
from keepsake.readdb import ReadDb
from keepsake.storage.base import Storage


def app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency giving the object the lifespan keeps as `app.state.<name>`.

    `app.state` is untyped, so the value is `Any` here; the `Annotated` alias that uses
    this dependency states its type, as a typed local would.
    """

    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


async def _language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


AppSettings = Annotated[Settings, Depends(app_state("settings"))]
Limiter = Annotated[RateLimiter, Depends(app_state("rate_limiter"))]
AppMailer = Annotated[Mailer, Depends(app_state("mailer"))]
AppStorage = Annotated[Storage, Depends(app_state("storage"))]
AppReadDb = Annotated[ReadDb, Depends(app_state("read_db"))]

# API.md names every resource's path parameter `{id}`, and generated clients (openapi-fetch,
# openapi-generator) use the path template literally: the handlers keep their descriptive
# argument names, the template says `{id}`.
IdPath = Annotated[uuid.UUID, Path(alias="id")]
# The language `Accept-Language` asks for, among those the server speaks.
RequestLanguage = Annotated[Language, Depends(_language)]
