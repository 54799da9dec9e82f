"""HTTP routes of Sign in with Apple, Google and Kakao."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from keepsake.accounts import repository
from keepsake.accounts.deps import ClientInfo
from keepsake.accounts.provider_service import EmailInUse, sign_in_with_provider
from keepsake.accounts.providers import (
    InvalidIdToken,
    JwksCache,
    ProviderDisabled,
    ProviderName,
    ProviderUnavailable,
)
from keepsake.accounts.schemas import IdTokenCreate, ProviderAuthPublic
from keepsake.accounts.service import AccountSuspended
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, RequestLanguage
from keepsake.errors import responses
from keepsake.profiles.service import me_view

router = APIRouter(prefix="/v1", tags=["accounts"])


async def _jwks(request: Request) -> JwksCache:
    cache: JwksCache = request.app.state.jwks
    return cache


Jwks = Annotated[JwksCache, Depends(_jwks)]

_ERRORS = responses(
    InvalidIdToken,
    AccountSuspended,
    ProviderDisabled,
    EmailInUse,
    repository.EmailTaken,
    repository.HandleTaken,
    repository.IdentityTaken,
    ProviderUnavailable,
    invalid=("email_required",),
)


async def _sign_in(
    provider_name: ProviderName,
    body: IdTokenCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    keys: JwksCache,
    client: ClientInfo,
    language: RequestLanguage,
) -> ProviderAuthPublic:
    signed_in = await sign_in_with_provider(
        db,
        settings=settings,
        keys=keys,
        provider_name=provider_name,
        id_token=body.id_token,
        client=client,
        locale=body.locale or language,
    )
    user = await me_view(db, signed_in.user, settings=settings, storage=storage)
    return ProviderAuthPublic(user=user, tokens=signed_in.tokens, created=signed_in.created)


@router.post(
    "/auth/apple",
    summary="Sign in with Apple: trade Apple's ID token for tokens, creating the account if new.",
    responses=_ERRORS,
)
async def sign_in_with_apple(
    body: IdTokenCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    keys: Jwks,
    client: ClientInfo,
    language: RequestLanguage,
) -> ProviderAuthPublic:
    return await _sign_in("apple", body, db, settings, storage, keys, client, language)


@router.post(
    "/auth/google",
    summary="Sign in with Google: trade Google's ID token for tokens, creating the account if new.",
    responses=_ERRORS,
)
async def sign_in_with_google(
    body: IdTokenCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    keys: Jwks,
    client: ClientInfo,
    language: RequestLanguage,
) -> ProviderAuthPublic:
    return await _sign_in("google", body, db, settings, storage, keys, client, language)


@router.post(
    "/auth/kakao",
    summary="Sign in with Kakao: trade Kakao's ID token for tokens, creating the account if new.",
    responses=_ERRORS,
)
async def sign_in_with_kakao(
    body: IdTokenCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    keys: Jwks,
    client: ClientInfo,
    language: RequestLanguage,
) -> ProviderAuthPublic:
    return await _sign_in("kakao", body, db, settings, storage, keys, client, language)
