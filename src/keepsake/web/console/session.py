"""The console's own session cookie and CSRF tokens.

The cookie is a short-lived signed token naming a row of the `sessions` table, opened
by the same sign-in as the API's; every request checks that row through
`accounts.service.authenticate`, so ending the account's sessions (log-out everywhere,
a password reset, a suspension) ends the console session too.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

import jwt

from keepsake.config import Settings
from keepsake.security import AccessClaims, new_token

COOKIE = "keepsake_console"
CSRF_COOKIE = "keepsake_console_csrf"
AUDIENCE = "keepsake-console"
PATH = "/admin"


def _key(settings: Settings, kid: str) -> str:
    return settings.jwt_keys[kid].get_secret_value()


def issue(settings: Settings, claims: AccessClaims, *, now: datetime) -> str:
    kid = settings.jwt_active_kid
    payload = {
        "sub": str(claims.user_id),
        "sid": str(claims.session_id),
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + settings.console_session_ttl).timestamp()),
    }
    return jwt.encode(payload, _key(settings, kid), algorithm="HS256", headers={"kid": kid})


def read(settings: Settings, token: str) -> AccessClaims | None:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or kid not in settings.jwt_keys:
            return None
        payload = jwt.decode(
            token,
            _key(settings, kid),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "sid"]},
        )
        return AccessClaims(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


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
