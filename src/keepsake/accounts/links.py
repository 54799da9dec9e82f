"""Email links and passwords: verification and reset links, their one-time tokens, and
the password rules every way of setting a password shares."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts import repository
from keepsake.accounts.client import Client
from keepsake.accounts.models import OneTimeToken, User
from keepsake.config import Settings
from keepsake.errors import AppError, Invalid
from keepsake.i18n.catalog import _
from keepsake.i18n.email import link_email
from keepsake.kinds import AccountStatus
from keepsake.mailer import Mailer
from keepsake.ratelimit import RateLimiter
from keepsake.security import hash_password, new_token, password_problem, token_digest, utcnow

log = structlog.get_logger("keepsake.accounts")

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose label
CONFIRM_SUBJECT = _("Confirm your email for Keepsake")
SEND_RESET_TASK = "accounts:send_reset_link"


class InvalidToken(AppError):
    code = "invalid_link_token"
    title = _("Invalid or expired link")


def check_password(password: str, *context: str) -> None:
    problem = password_problem(password, context=context)
    if problem:
        message, params = problem
        raise Invalid(message, code="weak_password", field="password", params=params)


async def send_link(
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
    subject, body = link_email(
        user, subject=subject, text=text, link=link, token=token, expires_at=now + ttl
    )
    try:
        await mailer.send(to=user.email, subject=subject, body=body)
    except OSError:
        # Mail trouble must not fail sign-up; the user can ask for a new link.
        log.exception("mail.failed", purpose=purpose, user_id=str(user.id))


async def send_verification(
    db: AsyncSession, *, settings: Settings, mailer: Mailer, user: User, first: bool
) -> None:
    """The link that confirms `user`'s email address; the first one, at sign-up, greets them."""
    await send_link(
        db,
        settings=settings,
        mailer=mailer,
        user=user,
        purpose=VERIFY_EMAIL,
        subject=CONFIRM_SUBJECT,
        text=_("Hello {name}, please confirm your email address:")
        if first
        else _("Please confirm your email address:"),
    )


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
    await send_verification(db, settings=settings, mailer=mailer, user=user, first=False)


async def _use_token(db: AsyncSession, token: str, purpose: str) -> User:
    found = await repository.one_time_token_for_update(db, token_digest(token), purpose)
    now = utcnow()
    if found is None or found[0].used_at is not None or found[0].expires_at <= now:
        raise InvalidToken(_("This link is invalid, used or expired; ask for a new one."))
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
    """Always succeeds, so the answer never reveals whether an account exists.

    The request does the same work either way (one lookup, one job) and the job sends the
    email, so neither the answer nor its timing tells whether the account exists.
    """
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
    # The job's arguments (logged by the worker) carry an id, never the email.
    user_id = str(user.id) if user is not None and user.status == AccountStatus.active else None
    await jobs.defer(db, SEND_RESET_TASK, user_id=user_id)


async def send_reset_link(
    db: AsyncSession, *, settings: Settings, mailer: Mailer, user_id: uuid.UUID | None
) -> None:
    """The reset email `forgot_password` asked for, sent from a job."""
    user = None if user_id is None else await repository.user_by_id(db, user_id)
    if user is None or user.status != AccountStatus.active:
        return
    await send_link(
        db,
        settings=settings,
        mailer=mailer,
        user=user,
        purpose=RESET_PASSWORD,
        subject=_("Reset your Keepsake password"),
        text=_("Someone asked to reset your password. If it was you, use this link:"),
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
    check_password(new_password, user.handle, user.email.split("@")[0])
    user.password_hash = await hash_password(new_password)
    # Following the emailed link proves the mailbox; every old session ends.
    user.email_verified_at = user.email_verified_at or utcnow()
    await repository.revoke_sessions(db, user_id=user.id, reason="password_reset")
