"""Signing up and signing in: the accounts domain opens the session, profiles shows the
person who now holds it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import service
from keepsake.accounts.client import Client
from keepsake.accounts.provider_service import sign_in_with_provider as provider_sign_in
from keepsake.accounts.providers import JwksCache, ProviderName
from keepsake.config import Settings
from keepsake.flows.schemas import AuthPublic, ProviderAuthPublic
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


async def sign_in_with_provider(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    keys: JwksCache,
    provider_name: ProviderName,
    id_token: str,
    client: Client,
    locale: Language,
) -> ProviderAuthPublic:
    signed_in = await provider_sign_in(
        db,
        settings=settings,
        keys=keys,
        provider_name=provider_name,
        id_token=id_token,
        client=client,
        locale=locale,
    )
    user = await me_view(db, signed_in.user, settings=settings, storage=storage)
    return ProviderAuthPublic(user=user, tokens=signed_in.tokens, created=signed_in.created)
