"""Sign in with Apple, Google or Kakao: find, link or create the account behind an ID token."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import repository, service
from keepsake.accounts.client import Client
from keepsake.accounts.handles import check_handle
from keepsake.accounts.models import Identity, User
from keepsake.accounts.providers import (
    JwksCache,
    ProviderClaims,
    ProviderName,
    provider,
    verify_id_token,
)
from keepsake.accounts.schemas import Tokens
from keepsake.config import Settings
from keepsake.errors import Conflict, Invalid
from keepsake.i18n import Language
from keepsake.i18n.catalog import _
from keepsake.security import utcnow

log = structlog.get_logger("keepsake.accounts")

# A lost race on a unique index is retried; the winner's rows are committed by then.
MAX_ATTEMPTS = 3
# `mina`, `mina_2` … `mina_20` are checked in one query before falling back to a random suffix.
HANDLE_CANDIDATES = 20
MAX_HANDLE = 30
FALLBACK_HANDLE = "member"


class EmailInUse(Conflict):
    code = "email_in_use"


@dataclass(frozen=True)
class ProviderSignedIn:
    user: User
    tokens: Tokens
    created: bool


async def sign_in_with_provider(
    db: AsyncSession,
    *,
    settings: Settings,
    keys: JwksCache,
    provider_name: ProviderName,
    id_token: str,
    client: Client,
    locale: Language,
) -> ProviderSignedIn:
    found = provider(settings, provider_name)
    claims = await verify_id_token(keys, found, id_token)
    user, created = await _account_with_retries(db, found.name, claims, locale)
    tokens = await service.start_session(db, settings=settings, user=user, client=client)
    if created:
        log.info("account.created", user_id=str(user.id), provider=found.name)
    return ProviderSignedIn(user, tokens, created)


async def _account_with_retries(
    db: AsyncSession, provider_name: str, claims: ProviderClaims, locale: Language
) -> tuple[User, bool]:
    attempt = 1
    while True:
        try:
            # Each attempt is one savepoint, so a lost race leaves no half-made account.
            async with db.begin_nested():
                return await _account(db, provider_name, claims, locale, retry=attempt > 1)
        except (repository.EmailTaken, repository.HandleTaken, repository.IdentityTaken):
            if attempt == MAX_ATTEMPTS:
                raise
            attempt += 1


async def _account(
    db: AsyncSession,
    provider_name: str,
    claims: ProviderClaims,
    locale: Language,
    *,
    retry: bool,
) -> tuple[User, bool]:
    """The token's user and whether it was just created."""
    user = await repository.user_by_identity(db, provider=provider_name, subject=claims.subject)
    if user is not None:
        return user, False
    if claims.email is None:
        raise Invalid(
            _("The ID token carries no email, and no account is linked to it yet."),
            code="email_required",
        )
    user = await repository.user_by_email(db, claims.email)
    created = user is None
    if user is None:
        user = await _create(db, claims, claims.email, locale, retry=retry)
    elif claims.email_verified:
        await _claim_email(db, user)
        log.info("identity.linked", user_id=str(user.id), provider=provider_name)
    else:
        # A concurrent first sign-in with this same token may have committed its account
        # since the lookup above; that account is this token's, not a conflict.
        raced = await repository.user_by_identity(
            db, provider=provider_name, subject=claims.subject
        )
        if raced is not None:
            return raced, False
        raise EmailInUse(
            _(
                "An account already uses this email and the provider has not verified it; "
                "sign in with your password instead."
            )
        )
    await repository.insert_identity(
        db,
        Identity(
            user_id=user.id, provider=provider_name, subject=claims.subject, email=claims.email
        ),
    )
    return user, created


async def _claim_email(db: AsyncSession, user: User) -> None:
    """Linking on the provider's verified email proves the mailbox is this person's."""
    if user.email_verified_at is not None:
        return
    # Nobody proved this address before, so the account may have been planted by someone
    # who guessed it (pre-account hijacking): their password and sessions must not survive.
    user.password_hash = None
    user.email_verified_at = utcnow()
    await repository.revoke_sessions(db, user_id=user.id, reason="email_claimed")


async def _create(
    db: AsyncSession, claims: ProviderClaims, email: str, locale: Language, *, retry: bool
) -> User:
    local = email.rsplit("@", 1)[0]
    handle = await _free_handle(db, _handle_base(local), spread=retry)
    name = " ".join((claims.name or "").split())[:60]
    return await service.new_user(
        db,
        email=email,
        handle=handle,
        display_name=name or local.strip()[:60] or handle,
        password=None,
        email_verified=claims.email_verified,
        locale=locale,
    )


def _handle_base(local: str) -> str:
    """`Mina.K+news` → `mina.k`, `josé` → `jose`: the local part made of handle characters."""
    ascii_only = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9_.]+", "_", ascii_only.split("+")[0].lower())
    return base.strip("._")[:MAX_HANDLE] or FALLBACK_HANDLE


def _allowed(handle: str) -> bool:
    try:
        check_handle(handle)
    except Invalid:
        return False
    return True


def _with_suffix(base: str, suffix: str) -> str:
    return base[: MAX_HANDLE - len(suffix)] + suffix


async def _free_handle(db: AsyncSession, base: str, *, spread: bool) -> str:
    """The first free candidate; after a lost race a random free one, so racers part ways."""
    suffixes = ["", *(f"_{n}" for n in range(2, HANDLE_CANDIDATES + 1))]
    candidates = [c for c in (_with_suffix(base, s) for s in suffixes) if _allowed(c)]
    taken = await repository.taken_handles(db, candidates)
    free = [candidate for candidate in candidates if candidate not in taken]
    if free:
        return secrets.choice(free) if spread else free[0]
    # Checked by the unique index on insert; a collision is retried like any race.
    return _with_suffix(base, f"_{secrets.randbelow(10**6):06d}")
