"""The console's own session cookie and CSRF tokens.

The cookie is a short-lived signed token naming a row of the `sessions` table, opened
by the same sign-in as the API's; every request checks that row through
`accounts.service.authenticate`, so ending the account's sessions (log-out everywhere,
a password reset, a suspension) ends the console session too.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from keepsake.config import Settings
from keepsake.security import AccessClaims, new_token

COOKIE = "keepsake_console"
CSRF_COOKIE = "keepsake_console_csrf"
AUDIENCE = "keepsake-console"
PATH = "/admin"


def _key(settings: Settings, kid: str) -> str:
    return settings.jwt_keys[kid].get_secret_value()


def issue(settings: Settings, claims: AccessClaims, *, now: datetime) -> str:
    return claims.sign(settings, audience=AUDIENCE, ttl=settings.console_session_ttl, now=now)


def read(settings: Settings, token: str) -> AccessClaims | None:
    return AccessClaims.read(settings, token, audience=AUDIENCE)


def new_nonce() -> str:
    return new_token()


def csrf_token(settings: Settings, nonce: str) -> str:
    """A form's token: the cookie's random nonce, signed (OWASP's signed double-submit)."""
    key = _key(settings, settings.jwt_active_kid).encode()
    return hmac.new(key, b"console-csrf:" + nonce.encode(), "sha256").hexdigest()


def csrf_ok(settings: Settings, nonce: str | None, given: str | None) -> bool:
    if not nonce or not given:
        return False
    return hmac.compare_digest(csrf_token(settings, nonce), given)
