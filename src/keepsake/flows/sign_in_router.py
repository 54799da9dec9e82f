"""HTTP routes that open a session and show who holds it: sign-up, log-in, and Sign in
with Apple, Google and Kakao.

They answer with the accounts' tokens and the profiles' view of the person, so they sit
above both and call one flow each (`flows.accounts`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from keepsake.accounts import repository, service
from keepsake.accounts.deps import ClientInfo
from keepsake.accounts.provider_service import EmailInUse
from keepsake.accounts.providers import (
    InvalidIdToken,
    JwksCache,
    ProviderDisabled,
    ProviderName,
    ProviderUnavailable,
)
from keepsake.accounts.repository import EmailTaken, HandleTaken
from keepsake.accounts.schemas import IdTokenCreate, LoginCreate, SignupCreate
from keepsake.db import DbSession
from keepsake.deps import (
    AppMailer,
    AppSettings,
    AppStorage,
    Limiter,
    RequestLanguage,
    app_state,
)
from keepsake.errors import RateLimited, responses
from keepsake.flows import accounts as flows
from keepsake.flows.schemas import AuthPublic, ProviderAuthPublic

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account with email and password.",
    responses=responses(
        EmailTaken,
        HandleTaken,
        RateLimited,
        invalid=("invalid_handle", "handle_reserved", "weak_password", "invalid_display_name"),
    ),
)
async def signup(
    body: SignupCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    mailer: AppMailer,
    limiter: Limiter,
    client: ClientInfo,
    language: RequestLanguage,
) -> AuthPublic:
    return await flows.sign_up(
        db,
        settings=settings,
        storage=storage,
        mailer=mailer,
        limiter=limiter,
        client=client,
        email=body.email,
        password=body.password,
        handle=body.handle,
        display_name=body.display_name,
        locale=body.locale or language,
    )


@router.post(
    "/auth/login",
    summary="Sign in with email and password.",
    responses=responses(service.InvalidCredentials, service.AccountSuspended, RateLimited),
)
async def login(
    body: LoginCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    limiter: Limiter,
    client: ClientInfo,
) -> AuthPublic:
    return await flows.log_in(
        db,
        settings=settings,
        storage=storage,
        limiter=limiter,
        client=client,
        email=body.email,
        password=body.password,
    )


Jwks = Annotated[JwksCache, Depends(app_state("jwks"))]

_ERRORS = responses(
    InvalidIdToken,
    service.AccountSuspended,
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
    return await flows.sign_in_with_provider(
        db,
        settings=settings,
        storage=storage,
        keys=keys,
        provider_name=provider_name,
        id_token=body.id_token,
        client=client,
        locale=body.locale or language,
    )


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
