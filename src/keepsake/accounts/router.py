"""HTTP routes of accounts and sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from keepsake.accounts import links, service, sessions
from keepsake.accounts.deps import (
    AUTH_ERRORS,
    ClientInfo,
    CurrentAuth,
    CurrentUser,
)
from keepsake.accounts.schemas import (
    ForgotPasswordCreate,
    RefreshCreate,
    ResetPasswordCreate,
    SessionPublic,
    TokenCreate,
    TokensPublic,
)
from keepsake.db import DbSession
from keepsake.deps import AppMailer, AppSettings, IdPath, Limiter
from keepsake.errors import NotFound, RateLimited, responses
from keepsake.pagination import Page, Pagination

router = APIRouter(prefix="/v1", tags=["accounts"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post(
    "/auth/refresh",
    summary="Trade a refresh token for new tokens; the old refresh token stops working.",
    responses=responses(service.InvalidRefreshToken, service.RefreshTokenReused, RateLimited),
)
async def refresh(
    body: RefreshCreate, db: DbSession, settings: AppSettings, limiter: Limiter, client: ClientInfo
) -> TokensPublic:
    tokens = await service.refresh(
        db, settings=settings, limiter=limiter, client=client, token=body.refresh_token
    )
    return TokensPublic(tokens=tokens)


@router.post(
    "/auth/logout",
    status_code=NO_CONTENT,
    summary="End this session: its access and refresh tokens stop working.",
    responses=responses(*AUTH_ERRORS),
)
async def logout(db: DbSession, auth: CurrentAuth) -> Response:
    await sessions.log_out(db, user=auth.user, session_id=auth.session_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/auth/email/verify",
    status_code=NO_CONTENT,
    summary="Confirm an email address with the token from the email.",
    responses=responses(links.InvalidToken),
)
async def verify_email(body: TokenCreate, db: DbSession) -> Response:
    await links.verify_email(db, token=body.token)
    return Response(status_code=NO_CONTENT)


# Both answer 202 with no body at all: nothing in the answer may tell whether an email went out.
ACCEPTED_EMPTY: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted; the body is empty.", "content": {}}
}


@router.post(
    "/auth/email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Send the email confirmation link again.",
    responses={**ACCEPTED_EMPTY, **responses(*AUTH_ERRORS, RateLimited)},
)
async def resend_verification(
    db: DbSession, settings: AppSettings, mailer: AppMailer, limiter: Limiter, user: CurrentUser
) -> Response:
    await links.resend_verification(
        db, settings=settings, mailer=mailer, limiter=limiter, user=user
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/auth/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Email a password reset link (always 202, whether or not the account exists).",
    responses={**ACCEPTED_EMPTY, **responses(RateLimited)},
)
async def forgot_password(
    body: ForgotPasswordCreate,
    db: DbSession,
    settings: AppSettings,
    mailer: AppMailer,
    limiter: Limiter,
    client: ClientInfo,
) -> Response:
    await links.forgot_password(
        db, settings=settings, mailer=mailer, limiter=limiter, client=client, email=body.email
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/auth/password/reset",
    status_code=NO_CONTENT,
    summary="Set a new password with the emailed token; every session is signed out.",
    responses=responses(links.InvalidToken, RateLimited, invalid=("weak_password",)),
)
async def reset_password(
    body: ResetPasswordCreate,
    db: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    client: ClientInfo,
) -> Response:
    await links.reset_password(
        db,
        settings=settings,
        limiter=limiter,
        client=client,
        token=body.token,
        new_password=body.new_password,
    )
    return Response(status_code=NO_CONTENT)


@router.get(
    "/me/sessions",
    summary="List your signed-in sessions, newest first.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def list_sessions(db: DbSession, auth: CurrentAuth, page: Pagination) -> Page[SessionPublic]:
    return await sessions.list_sessions(db, user=auth.user, current=auth.session_id, page=page)


@router.delete(
    "/me/sessions/{id}",
    status_code=NO_CONTENT,
    summary="Sign out one of your sessions.",
    responses=responses(*AUTH_ERRORS, NotFound),
)
async def revoke_session(session_id: IdPath, db: DbSession, user: CurrentUser) -> Response:
    await sessions.revoke_session(db, user=user, session_id=session_id)
    return Response(status_code=NO_CONTENT)
