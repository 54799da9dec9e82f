"""Sign in with Apple, Google and Kakao: the providers' published keys and ID-token checks."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import httpx
import jwt
import structlog

from keepsake.config import Settings
from keepsake.errors import NotFound, Unauthorized, Unavailable
from keepsake.i18n.catalog import _

log = structlog.get_logger("keepsake.accounts.providers")

ProviderName = Literal["apple", "google", "kakao"]

ALGORITHM = "RS256"
# Phones' clocks drift; a minute either way is the usual allowance for `exp` and `iat`.
LEEWAY = timedelta(seconds=60)
# An unknown `kid` triggers at most one refetch per interval, so tokens naming junk
# keys cannot make us hammer the provider; real rotations publish keys well ahead.
KID_REFETCH_INTERVAL = 60.0
# When a refresh fails we keep serving the last good keys and try again this much later.
RETRY_AFTER_FAILURE = 60.0
FETCH_TIMEOUT = 5.0


class InvalidIdToken(Unauthorized):
    code = "invalid_id_token"


class ProviderUnavailable(Unavailable):
    code = "provider_unavailable"


class ProviderDisabled(NotFound):
    code = "provider_disabled"


@dataclass(frozen=True)
class Provider:
    name: ProviderName
    title: str
    jwks_url: str
    issuers: tuple[str, ...]
    client_ids: tuple[str, ...]


@dataclass(frozen=True)
class ProviderClaims:
    """What we use of a verified ID token."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def provider(settings: Settings, name: ProviderName) -> Provider:
    """The provider's configuration; one without client ids is switched off."""
    if name == "apple":
        found = Provider(
            "apple",
            "Apple",
            settings.apple_jwks_url,
            (settings.apple_issuer,),
            tuple(settings.apple_client_ids),
        )
    elif name == "kakao":
        found = Provider(
            "kakao",
            "Kakao",
            settings.kakao_jwks_url,
            (settings.kakao_issuer,),
            tuple(settings.kakao_client_ids),
        )
    else:
        found = Provider(
            "google",
            "Google",
            settings.google_jwks_url,
            tuple(settings.google_issuers),
            tuple(settings.google_client_ids),
        )
    if not found.client_ids:
        raise ProviderDisabled(
            _("Sign in with {provider} is not enabled on this server."),
            params={"provider": found.title},
        )
    return found


@dataclass
class _Keys:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    expires_at: float = -math.inf
    next_kid_refetch: float = -math.inf
    # Bumped after every fetch attempt, so requests queued behind one fetch share its outcome.
    generation: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwksCache:
    """Each provider's signing keys by `kid`, fetched with the app's shared HTTP client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        ttl: timedelta,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._ttl = ttl.total_seconds()
        self._clock = clock
        self._by_url: dict[str, _Keys] = {}

    async def signing_key(self, url: str, kid: str, *, title: str) -> jwt.PyJWK:
        entry = self._by_url.setdefault(url, _Keys())
        if self._clock() >= entry.expires_at:
            await self._refresh(url, entry)
        if kid not in entry.keys and self._clock() >= entry.next_kid_refetch:
            entry.next_kid_refetch = self._clock() + KID_REFETCH_INTERVAL
            await self._refresh(url, entry)
        if not entry.keys:
            raise ProviderUnavailable(
                _("{provider}'s signing keys cannot be fetched; try again soon."),
                params={"provider": title},
            )
        try:
            return entry.keys[kid]
        except KeyError:
            raise InvalidIdToken(
                _("The ID token is signed with a key that {provider} does not publish."),
                params={"provider": title},
            ) from None

    async def _refresh(self, url: str, entry: _Keys) -> None:
        seen = entry.generation
        async with entry.lock:
            if entry.generation != seen:
                return
            entry.generation += 1
            try:
                entry.keys = await self._fetch(url)
            except (httpx.HTTPError, ValueError) as exc:
                # Keys rotate slowly: the last good set beats refusing every sign-in.
                log.warning("jwks.fetch_failed", url=url, error=repr(exc), stale=bool(entry.keys))
                if entry.keys:
                    entry.expires_at = self._clock() + RETRY_AFTER_FAILURE
                return
            entry.expires_at = self._clock() + self._ttl
            log.info("jwks.fetched", url=url, kids=sorted(entry.keys))

    async def _fetch(self, url: str) -> dict[str, jwt.PyJWK]:
        response = await self._http.get(url, timeout=FETCH_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("the JWKS document has no `keys` list")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
                continue
            try:
                # Bound to RS256 whatever the entry says, so no other algorithm can be used.
                keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM)
            except jwt.PyJWTError:
                continue
        if not keys:
            raise ValueError("the JWKS document has no usable RSA signing keys")
        return keys


def _why(exc: jwt.PyJWTError, found: Provider) -> tuple[str, dict[str, object]]:
    """The catalog message saying why a token was refused, with its placeholders' values."""
    provider: dict[str, object] = {"provider": found.title}
    if isinstance(exc, jwt.InvalidSignatureError):
        return _("The ID token's signature does not verify."), {}
    if isinstance(exc, jwt.ExpiredSignatureError):
        return _("The ID token has expired; sign in again."), {}
    if isinstance(exc, jwt.InvalidAudienceError):
        return _(
            "The ID token was issued for another app, not this server's {provider} client."
        ), provider
    if isinstance(exc, jwt.InvalidIssuerError):
        return _("The ID token was not issued by {provider}."), provider
    if isinstance(exc, jwt.ImmatureSignatureError | jwt.InvalidIssuedAtError):
        return _("The ID token's issue time (iat) is invalid or in the future."), {}
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return _("The ID token lacks the `{claim}` claim."), {"claim": exc.claim}
    return _("The ID token is malformed."), {}


def _claims(payload: dict[str, Any]) -> ProviderClaims:
    subject = payload["sub"]
    if not subject or len(subject) > 255:
        raise InvalidIdToken(_("The ID token's subject (sub) is invalid."))
    email = payload.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        email = None
    # Kakao names the person `nickname`.
    name = payload.get("name") or payload.get("nickname")
    return ProviderClaims(
        subject=subject,
        email=email.lower() if email else None,
        # Apple sends the flag as the string "true", Google as a boolean.
        email_verified=email is not None and payload.get("email_verified") in (True, "true"),
        name=name if isinstance(name, str) else None,
    )


async def verify_id_token(keys: JwksCache, found: Provider, token: str) -> ProviderClaims:
    """The token's claims once signature, issuer, audience, expiry and iat all check out."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidIdToken(_("The ID token is malformed.")) from None
    if header.get("alg") != ALGORITHM:
        raise InvalidIdToken(
            _("The ID token must be signed with {algorithm}."), params={"algorithm": ALGORITHM}
        )
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidIdToken(_("The ID token does not name its signing key (kid)."))
    key = await keys.signing_key(found.jwks_url, kid, title=found.title)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=found.client_ids,
            issuer=found.issuers,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as exc:
        message, params = _why(exc, found)
        raise InvalidIdToken(message, params=params) from None
    return _claims(payload)
