"""Account rules: sign-up, sign-in, token rotation, sessions, email and password flows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import text
from keepsake.accounts import lockout, repository
from keepsake.accounts.client import Client
from keepsake.accounts.handles import check_handle
from keepsake.accounts.links import check_password, send_verification
from keepsake.accounts.models import RefreshToken, Session, User
from keepsake.accounts.schemas import Tokens
from keepsake.config import Settings
from keepsake.errors import Forbidden, Invalid, Unauthorized
from keepsake.i18n import Language
from keepsake.i18n.catalog import _
from keepsake.kinds import AccountStatus
from keepsake.mailer import Mailer
from keepsake.ratelimit import RateLimiter
from keepsake.security import (
    AccessClaims,
    expires_in,
    hash_password,
    issue_access_token,
    issue_appeal_token,
    new_token,
    token_digest,
    utcnow,
    verify_password,
)

log = structlog.get_logger("keepsake.accounts")


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class InvalidRefreshToken(Unauthorized):
    code = "invalid_refresh_token"


class RefreshTokenReused(Unauthorized):
    """Raised after revoking the session; the revocation is committed all the same."""

    code = "refresh_token_reused"
    commit = True


class AccountSuspended(Forbidden):
    code = "account_suspended"


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"


class InvalidAccessToken(Unauthorized):
    code = "invalid_access_token"


class SessionRevoked(Unauthorized):
    code = "session_revoked"


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: Tokens


async def _open_session(db: AsyncSession, settings: Settings, user: User, client: Client) -> Tokens:
    now = utcnow()
    session = Session(
        id=uuid.uuid4(),
        user_id=user.id,
        user_agent=client.user_agent[:300],
        ip=client.ip[:64],
        expires_at=now + settings.refresh_token_ttl,
    )
    refresh = new_token()
    await repository.add(db, session)
    await repository.add(db, RefreshToken(token_hash=token_digest(refresh), session_id=session.id))
    return _tokens(settings, user.id, session.id, refresh, now)


def _tokens(
    settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID, refresh: str, now: datetime
) -> Tokens:
    access = issue_access_token(settings, AccessClaims(user_id, session_id), now=now)
    return Tokens(
        access_token=access,
        refresh_token=refresh,
        expires_in=expires_in(settings.access_token_ttl),
    )


async def new_user(
    db: AsyncSession,
    *,
    email: str,
    handle: str,
    display_name: str,
    password: str | None,
    email_verified: bool,
    locale: Language,
) -> User:
    """Create a user after checking handle and password; the unique indexes settle races."""
    check_handle(handle)
    name = text.display_name(display_name)
    if name is None:
        raise Invalid(
            _("Give a display name of 1–{limit} characters on one line."),
            code="invalid_display_name",
            field="display_name",
            params={"limit": text.DISPLAY_NAME_MAX},
        )
    if password is not None:
        check_password(password, handle, email.split("@")[0])
    user = User(
        id=uuid.uuid4(),
        email=email.lower(),
        handle=handle,
        display_name=name,
        password_hash=await hash_password(password) if password is not None else None,
        email_verified_at=utcnow() if email_verified else None,
        locale=locale,
    )
    return await repository.insert_user(db, user)


async def sign_up(
    db: AsyncSession,
    *,
    settings: Settings,
    mailer: Mailer,
    limiter: RateLimiter,
    client: Client,
    email: str,
    password: str,
    handle: str,
    display_name: str,
    locale: Language,
) -> SignedIn:
    await limiter.hit(
        f"signup:ip:{client.ip}",
        limit=settings.rate_limit_signup_per_ip,
        window=settings.rate_limit_window,
    )
    user = await new_user(
        db,
        email=email,
        handle=handle,
        display_name=display_name,
        password=password,
        email_verified=False,
        locale=locale,
    )
    tokens = await _open_session(db, settings, user, client)
    await send_verification(db, settings=settings, mailer=mailer, user=user, first=True)
    log.info("account.created", user_id=str(user.id))
    return SignedIn(user, tokens)


def ensure_may_sign_in(settings: Settings, user: User) -> None:
    """Sign-in rules shared by passwords and providers (the credentials are checked)."""
    now = utcnow()
    if user.status == AccountStatus.suspended:
        if user.suspended_until is None or user.suspended_until > now:
            raise AccountSuspended(
                _("This account is suspended."),
                extensions={
                    "until": user.suspended_until,
                    "appeal_token": issue_appeal_token(settings, user.id, now=now),
                },
            )
        # Its time is up: in at once; the moderation sweep records the lift.
        user.status = AccountStatus.active
        user.suspended_until = None
    if user.status == AccountStatus.deleting:
        # Signing in during the grace period cancels the deletion.
        user.status = AccountStatus.active
        user.deletion_requested_at = None


async def start_session(
    db: AsyncSession, *, settings: Settings, user: User, client: Client
) -> Tokens:
    ensure_may_sign_in(settings, user)
    return await _open_session(db, settings, user, client)


async def log_in(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    client: Client,
    email: str,
    password: str,
) -> SignedIn:
    await lockout.check(limiter, settings, email, client)
    user = await repository.user_by_email(db, email)
    # The hash is checked even for an unknown email, so timing does not reveal accounts.
    password_ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok:
        await lockout.failed(limiter, settings, email, client)
        raise InvalidCredentials(_("The email or password is wrong."))
    tokens = await start_session(db, settings=settings, user=user, client=client)
    return SignedIn(user, tokens)


async def refresh(
    db: AsyncSession, *, settings: Settings, limiter: RateLimiter, client: Client, token: str
) -> Tokens:
    await limiter.hit(
        f"refresh:ip:{client.ip}",
        limit=settings.rate_limit_refresh_per_ip,
        window=settings.rate_limit_window,
    )
    digest = token_digest(token)
    now = utcnow()
    session = await repository.claim_refresh_token(db, digest)
    if session is None:
        used = await repository.session_of_refresh_token(db, digest)
        if used is None:
            raise InvalidRefreshToken(_("This refresh token is not valid."))
        if used.revoked_at is None and used.expires_at > now:
            # A rotated token came back, or lost a race with its own twin: whoever holds
            # it may be a thief, so end the session.
            await repository.revoke_sessions(
                db, user_id=used.user_id, session_id=used.id, reason="refresh_token_reused"
            )
            log.warning("session.refresh_reuse", session_id=str(used.id))
            raise RefreshTokenReused(
                _("This refresh token was already used; the session is ended.")
            )
        raise InvalidRefreshToken(_("This session has ended; sign in again."))
    if session.revoked_at is not None or session.expires_at <= now:
        raise InvalidRefreshToken(_("This session has ended; sign in again."))
    session.last_used_at = now
    session.expires_at = now + settings.refresh_token_ttl
    new_refresh = new_token()
    await repository.add(
        db, RefreshToken(token_hash=token_digest(new_refresh), session_id=session.id)
    )
    return _tokens(settings, session.user_id, session.id, new_refresh, now)


async def authenticate(db: AsyncSession, claims: AccessClaims) -> User:
    user = await repository.user_for_session(
        db, user_id=claims.user_id, session_id=claims.session_id
    )
    if user is None:
        raise SessionRevoked(_("This session has ended; sign in again."))
    if user.status == AccountStatus.suspended:
        raise AccountSuspended(_("This account is suspended."))
    return user


async def user_by_id(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    """Any account, whatever its status: for jobs that carry only the id."""
    return await repository.user_by_id(db, user_id)


async def user_by_handle(db: AsyncSession, handle: str) -> User | None:
    return await repository.user_by_handle(db, handle)
