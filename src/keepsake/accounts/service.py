"""Account rules: sign-up, sign-in, token rotation, sessions, email and password flows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import repository
from keepsake.accounts.handles import check_handle
from keepsake.accounts.mailer import Mailer
from keepsake.accounts.models import AccountStatus, OneTimeToken, RefreshToken, Session, User
from keepsake.accounts.schemas import SessionPublic, Tokens
from keepsake.config import Settings
from keepsake.errors import AppError, Forbidden, Invalid, NotFound, Unauthorized
from keepsake.pagination import Page, PageRequest, split_page
from keepsake.ratelimit import RateLimiter
from keepsake.security import (
    AccessClaims,
    expires_in,
    hash_password,
    issue_access_token,
    new_token,
    password_problem,
    token_digest,
    utcnow,
    verify_password,
)

log = structlog.get_logger("keepsake.accounts")

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose label


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
    code = "invalid_token"


class SessionRevoked(Unauthorized):
    code = "session_revoked"


class InvalidToken(AppError):
    code = "invalid_token"
    title = "Invalid or expired link"


@dataclass(frozen=True)
class Client:
    """Where a request comes from, for rate limits and the session list."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: Tokens


def _check_password(password: str, *context: str) -> None:
    problem = password_problem(password, context=context)
    if problem:
        raise Invalid(problem, code="weak_password", field="password")


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


async def _send_link(
    db: AsyncSession,
    *,
    settings: Settings,
    mailer: Mailer,
    user: User,
    purpose: str,
    subject: str,
    text: str,
) -> None:
    now = utcnow()
    ttl = settings.email_token_ttl if purpose == VERIFY_EMAIL else settings.password_reset_ttl
    await repository.expire_unused_tokens(db, user_id=user.id, purpose=purpose, now=now)
    token = new_token()
    await repository.add(
        db,
        OneTimeToken(
            token_hash=token_digest(token), user_id=user.id, purpose=purpose, expires_at=now + ttl
        ),
    )
    path = "verify-email" if purpose == VERIFY_EMAIL else "reset-password"
    link = f"{settings.public_url}/{path}?token={token}"
    try:
        await mailer.send(
            to=user.email, subject=subject, body=f"{text}\n\n{link}\n\nToken: {token}\n"
        )
    except OSError:
        # Mail trouble must not fail sign-up; the user can ask for a new link.
        log.exception("mail.failed", purpose=purpose, user_id=str(user.id))


async def new_user(
    db: AsyncSession,
    *,
    email: str,
    handle: str,
    display_name: str,
    password: str | None,
    email_verified: bool,
) -> User:
    """Create a user after checking handle and password; the unique indexes settle races."""
    check_handle(handle)
    display_name = display_name.strip()
    if not display_name or "\n" in display_name:
        raise Invalid(
            "Give a display name on one line.", code="invalid_display_name", field="display_name"
        )
    if password is not None:
        _check_password(password, handle, email.split("@")[0])
    user = User(
        id=uuid.uuid4(),
        email=email.lower(),
        handle=handle,
        display_name=display_name,
        password_hash=await hash_password(password) if password is not None else None,
        email_verified_at=utcnow() if email_verified else None,
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
    )
    tokens = await _open_session(db, settings, user, client)
    await _send_link(
        db,
        settings=settings,
        mailer=mailer,
        user=user,
        purpose=VERIFY_EMAIL,
        subject="Confirm your email for Keepsake",
        text=f"Hello {user.display_name}, please confirm your email address:",
    )
    log.info("account.created", user_id=str(user.id))
    return SignedIn(user, tokens)


def ensure_may_sign_in(user: User) -> None:
    """Sign-in rules shared by passwords and providers."""
    if user.status == AccountStatus.suspended:
        raise AccountSuspended("This account is suspended.")
    if user.status == AccountStatus.deleting:
        # Signing in during the grace period cancels the deletion.
        user.status = AccountStatus.active
        user.deletion_requested_at = None


async def start_session(
    db: AsyncSession, *, settings: Settings, user: User, client: Client
) -> Tokens:
    ensure_may_sign_in(user)
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
    window = settings.rate_limit_window
    await limiter.hit(
        f"login:ip:{client.ip}", limit=settings.rate_limit_login_per_ip, window=window
    )
    await limiter.hit(
        f"login:account:{email.lower()}", limit=settings.rate_limit_login_per_account, window=window
    )
    user = await repository.user_by_email(db, email)
    # The hash is checked even for an unknown email, so timing does not reveal accounts.
    password_ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok:
        raise InvalidCredentials("The email or password is wrong.")
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
    found = await repository.refresh_token_for_update(db, token_digest(token))
    if found is None:
        raise InvalidRefreshToken("This refresh token is not valid.")
    stored, session = found
    now = utcnow()
    if session.revoked_at is not None or session.expires_at <= now:
        raise InvalidRefreshToken("This session has ended; sign in again.")
    if stored.used_at is not None:
        # A rotated token came back: whoever holds it may be a thief, so end the session.
        await repository.revoke_sessions(
            db, user_id=session.user_id, session_id=session.id, reason="refresh_token_reused"
        )
        log.warning("session.refresh_reuse", session_id=str(session.id))
        raise RefreshTokenReused("This refresh token was already used; the session is ended.")
    stored.used_at = now
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
        raise SessionRevoked("This session has ended; sign in again.")
    if user.status == AccountStatus.suspended:
        raise AccountSuspended("This account is suspended.")
    return user


async def log_out(db: AsyncSession, *, user: User, session_id: uuid.UUID) -> None:
    await repository.revoke_sessions(db, user_id=user.id, session_id=session_id, reason="logout")


async def list_sessions(
    db: AsyncSession, *, user: User, current: uuid.UUID, page: PageRequest
) -> Page[SessionPublic]:
    rows = await repository.live_sessions(db, user.id, limit=page.limit, after=page.after)
    sessions, cursor = split_page(rows, page.limit)
    items = [
        SessionPublic(
            id=s.id,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.id == current,
        )
        for s in sessions
    ]
    return Page(items=items, next_cursor=cursor)


async def end_all_sessions(db: AsyncSession, *, user: User, reason: str) -> None:
    await repository.revoke_sessions(db, user_id=user.id, reason=reason)


async def revoke_session(db: AsyncSession, *, user: User, session_id: uuid.UUID) -> None:
    if not await repository.revoke_sessions(
        db, user_id=user.id, session_id=session_id, reason="revoked"
    ):
        raise NotFound("No such session.", code="session_not_found")


async def resend_verification(
    db: AsyncSession, *, settings: Settings, mailer: Mailer, limiter: RateLimiter, user: User
) -> None:
    if user.email_verified_at is not None:
        return
    await limiter.hit(
        f"verify:account:{user.id}",
        limit=settings.rate_limit_password_per_account,
        window=settings.rate_limit_window,
    )
    await _send_link(
        db,
        settings=settings,
        mailer=mailer,
        user=user,
        purpose=VERIFY_EMAIL,
        subject="Confirm your email for Keepsake",
        text="Please confirm your email address:",
    )


async def _use_token(db: AsyncSession, token: str, purpose: str) -> User:
    found = await repository.one_time_token_for_update(db, token_digest(token), purpose)
    now = utcnow()
    if found is None or found[0].used_at is not None or found[0].expires_at <= now:
        raise InvalidToken("This link is invalid, used or expired; ask for a new one.")
    stored, user = found
    stored.used_at = now
    return user


async def verify_email(db: AsyncSession, *, token: str) -> None:
    user = await _use_token(db, token, VERIFY_EMAIL)
    user.email_verified_at = user.email_verified_at or utcnow()


async def forgot_password(
    db: AsyncSession,
    *,
    settings: Settings,
    mailer: Mailer,
    limiter: RateLimiter,
    client: Client,
    email: str,
) -> None:
    """Always succeeds, so the answer never reveals whether an account exists."""
    window = settings.rate_limit_window
    await limiter.hit(
        f"forgot:ip:{client.ip}", limit=settings.rate_limit_password_per_ip, window=window
    )
    await limiter.hit(
        f"forgot:account:{email.lower()}",
        limit=settings.rate_limit_password_per_account,
        window=window,
    )
    user = await repository.user_by_email(db, email)
    if user is None or user.status != AccountStatus.active:
        return
    await _send_link(
        db,
        settings=settings,
        mailer=mailer,
        user=user,
        purpose=RESET_PASSWORD,
        subject="Reset your Keepsake password",
        text="Someone asked to reset your password. If it was you, use this link:",
    )


async def reset_password(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    client: Client,
    token: str,
    new_password: str,
) -> None:
    await limiter.hit(
        f"reset:ip:{client.ip}",
        limit=settings.rate_limit_password_per_ip,
        window=settings.rate_limit_window,
    )
    user = await _use_token(db, token, RESET_PASSWORD)
    _check_password(new_password, user.handle, user.email.split("@")[0])
    user.password_hash = await hash_password(new_password)
    # Following the emailed link proves the mailbox; every old session ends.
    user.email_verified_at = user.email_verified_at or utcnow()
    await repository.revoke_sessions(db, user_id=user.id, reason="password_reset")


async def user_by_id(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    """Any account, whatever its status: for jobs that carry only the id."""
    return await repository.user_by_id(db, user_id)


async def user_by_handle(db: AsyncSession, handle: str) -> User | None:
    return await repository.user_by_handle(db, handle)
