"""Signing up and logging in: the accounts domain opens the session, profiles shows the
person who now holds it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import service
from keepsake.accounts.client import Client
from keepsake.accounts.schemas import AuthPublic
from keepsake.config import Settings
from keepsake.i18n import Language
from keepsake.mailer import Mailer
from keepsake.profiles.service import me_view
from keepsake.ratelimit import RateLimiter
from keepsake.storage.base import Storage


async def sign_up(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    mailer: Mailer,
    limiter: RateLimiter,
    client: Client,
    email: str,
    password: str,
    handle: str,
    display_name: str,
    locale: Language,
) -> AuthPublic:
    signed_in = await service.sign_up(
        db,
        settings=settings,
        mailer=mailer,
        limiter=limiter,
        client=client,
        email=email,
        password=password,
        handle=handle,
        display_name=display_name,
        locale=locale,
    )
    user = await me_view(db, signed_in.user, settings=settings, storage=storage)
    return AuthPublic(user=user, tokens=signed_in.tokens)


async def log_in(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    limiter: RateLimiter,
    client: Client,
    email: str,
    password: str,
) -> AuthPublic:
    signed_in = await service.log_in(
        db, settings=settings, limiter=limiter, client=client, email=email, password=password
    )
    user = await me_view(db, signed_in.user, settings=settings, storage=storage)
    return AuthPublic(user=user, tokens=signed_in.tokens)
