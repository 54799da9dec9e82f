"""Time-based one-time passwords (RFC 6238, HMAC-SHA1, 30 s, 6 digits) as authenticator
apps make them; a few lines of `hmac` rather than another dependency."""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from urllib.parse import quote

STEP_S = 30
DIGITS = 6
# One step either side: a phone's clock may be a little off.
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits in base32, the form authenticator apps take."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def code_at(secret: str, step: int) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.digest(key, struct.pack(">Q", step), "sha1")
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def verify(secret: str, code: str, *, now: float) -> bool:
    step = int(now) // STEP_S
    given = code.strip()
    return any(
        hmac.compare_digest(code_at(secret, step + drift), given)
        for drift in range(-DRIFT_STEPS, DRIFT_STEPS + 1)
    )


def provisioning_uri(secret: str, account: str) -> str:
    """The `otpauth://` URI an authenticator app reads (as a QR code or typed in)."""
    label = quote(f"Keepsake:{account}")
    return f"otpauth://totp/{label}?secret={secret}&issuer=Keepsake&digits={DIGITS}&period={STEP_S}"
