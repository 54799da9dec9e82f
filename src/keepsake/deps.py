"""Request dependencies for the app-wide services the lifespan creates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from keepsake.config import Settings
from keepsake.i18n import Language, negotiate
from keepsake.mailer import Mailer
from keepsake.ratelimit import RateLimiter
from keepsake.readdb import ReadDb
from keepsake.storage.base import Storage


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


async def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def _read_db(request: Request) -> ReadDb:
    db: ReadDb = request.app.state.read_db
    return db


async def _language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


AppSettings = Annotated[Settings, Depends(_settings)]
Limiter = Annotated[RateLimiter, Depends(_limiter)]
AppMailer = Annotated[Mailer, Depends(_mailer)]
AppStorage = Annotated[Storage, Depends(_storage)]
AppReadDb = Annotated[ReadDb, Depends(_read_db)]

# API.md names every resource's path parameter `{id}`, and generated clients (openapi-fetch,
# openapi-generator) use the path template literally: the handlers keep their descriptive
# argument names, the template says `{id}`.
IdPath = Annotated[uuid.UUID, Path(alias="id")]
# The language `Accept-Language` asks for, among those the server speaks.
RequestLanguage = Annotated[Language, Depends(_language)]
