"""Passwords, opaque tokens and signed access tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, ClassVar, TypeVar

import anyio.to_thread
import jwt
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from keepsake.config import PasswordHashProfile, Settings
from keepsake.i18n.catalog import _

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_T = TypeVar("_T")
ACCESS_TOKEN_AUDIENCE = "keepsake-api"  # noqa: S105 - a JWT audience, not a secret

# argon2id. Production: RFC 9106's "low memory" profile (t=3, m=64 MiB, p=4). `cheapest`
# (t=1, m=8 KiB, p=1) exists for test suites only, where hundreds of sign-ups would each
# spend tens of milliseconds of CPU. A hash records its own parameters, so hashes made
# under either profile verify under both.
_PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


@cache
def _hasher_and_dummy(profile: PasswordHashProfile) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher.from_parameters(_PROFILES[profile])
    return hasher, hasher.hash("keepsake-dummy-password")


_active_profile: PasswordHashProfile = "rfc9106_low_memory"


def use_password_hash_profile(profile: PasswordHashProfile) -> None:
    """Set the process's argon2 cost, once at start-up from `Settings.password_hash_profile`."""
    # One process-wide cost, chosen by settings when the app starts.
    global _active_profile
    _active_profile = profile


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(
    password: str, *, context: tuple[str, ...] = ()
) -> tuple[str, dict[str, object]] | None:
    """Why a new password is refused (NIST SP 800-63B) as a catalog message and its
    placeholders' values, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least {limit} characters for the password."), {
            "limit": MIN_PASSWORD_LENGTH
        }
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most {limit} characters for the password."), {"limit": MAX_PASSWORD_LENGTH}
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 3:
        return _("This password is too common; choose another."), {}
    if any(word and word.lower() in lowered for word in context if len(word) >= 4):
        return _("Do not use your handle or email in your password."), {}
    return None


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    hasher, _ = _hasher_and_dummy(_active_profile)
    return await anyio.to_thread.run_sync(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-effort check; a missing hash still costs one hash so timing leaks nothing."""

    hasher, dummy_hash = _hasher_and_dummy(_active_profile)

    def check() -> bool:
        try:
            return hasher.verify(password_hash or dummy_hash, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def new_token() -> str:
    """An opaque, URL-safe secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """Tokens are stored only as SHA-256: they are random, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID

    # The claims a session's token carries (the API's access token, the console's cookie).
    REQUIRED: ClassVar[tuple[str, ...]] = ("sub", "sid")

    def payload(self) -> dict[str, str]:
        return {"sub": str(self.user_id), "sid": str(self.session_id)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AccessClaims:
        return cls(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]))

    def sign(self, settings: Settings, *, audience: str, ttl: timedelta, now: datetime) -> str:
        return sign_token(settings, self.payload(), audience=audience, now=now, ttl=ttl)

    @classmethod
    def read(cls, settings: Settings, token: str, *, audience: str) -> AccessClaims | None:
        """The claims of a valid, unexpired token for `audience` signed by a known key."""
        return read_token(
            settings, token, audience=audience, required=cls.REQUIRED, parse=cls.from_payload
        )


def sign_token(
    settings: Settings, claims: dict[str, str], *, audience: str, now: datetime, ttl: timedelta
) -> str:
    """A JWT for `audience`, signed with the active key, which its header names."""
    kid = settings.jwt_active_kid
    payload = {
        **claims,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    key = settings.jwt_keys[kid].get_secret_value()
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid})


def read_token(
    settings: Settings,
    token: str,
    *,
    audience: str,
    required: tuple[str, ...],
    parse: Callable[[dict[str, Any]], _T],
) -> _T | None:
    """`parse` of the payload of a valid, unexpired token for `audience` signed by a known
    key; None otherwise (a payload `parse` rejects included)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or kid not in settings.jwt_keys:
            return None
        payload = jwt.decode(
            token,
            settings.jwt_keys[kid].get_secret_value(),
            algorithms=["HS256"],
            audience=audience,
            options={"require": ["exp", *required]},
        )
        return parse(payload)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def issue_access_token(settings: Settings, claims: AccessClaims, *, now: datetime) -> str:
    return claims.sign(
        settings, audience=ACCESS_TOKEN_AUDIENCE, ttl=settings.access_token_ttl, now=now
    )


def read_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The claims of a valid, unexpired token signed by a known key; None otherwise."""
    return AccessClaims.read(settings, token, audience=ACCESS_TOKEN_AUDIENCE)


APPEAL_TOKEN_AUDIENCE = "keepsake-appeal"  # noqa: S105 - a JWT audience, not a secret
APPEAL_TOKEN_TTL = timedelta(hours=1)


def issue_appeal_token(settings: Settings, user_id: uuid.UUID, *, now: datetime) -> str:
    """A suspended account's limited token, given at sign-in once the credentials are good.

    Its own audience keeps it from ever passing as an access token: it reads the
    account's strikes and sends appeals, nothing else.
    """
    return sign_token(
        settings,
        {"sub": str(user_id)},
        audience=APPEAL_TOKEN_AUDIENCE,
        now=now,
        ttl=APPEAL_TOKEN_TTL,
    )


def read_appeal_token(settings: Settings, token: str) -> uuid.UUID | None:
    """The account of a valid, unexpired appeal token; None otherwise."""
    return read_token(
        settings,
        token,
        audience=APPEAL_TOKEN_AUDIENCE,
        required=("sub",),
        parse=lambda payload: uuid.UUID(payload["sub"]),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def expires_in(ttl: timedelta) -> int:
    return int(ttl.total_seconds())
