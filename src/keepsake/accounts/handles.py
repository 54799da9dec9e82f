"""Handle rules: 3–30 characters of a-z 0-9 _ . , unique regardless of case."""

from __future__ import annotations

import re

from keepsake.errors import Invalid

_HANDLE = re.compile(r"[a-z0-9_.]{3,30}")

# Words that would let someone pose as the service or collide with app routes.
RESERVED = frozenset(
    {
        "about", "account", "accounts", "admin", "administrator", "api", "app", "auth",
        "help", "keepsake", "login", "logout", "me", "moderator", "null", "official",
        "privacy", "root", "security", "settings", "signup", "staff", "support", "system",
        "team", "terms", "undefined", "user", "users", "www",
    }
)  # fmt: skip


def check_handle(handle: str) -> str:
    """The handle as the owner typed it, or an `Invalid` error saying what is wrong."""
    if not _HANDLE.fullmatch(handle.lower()):
        raise Invalid(
            "A handle is 3–30 characters: letters a–z, digits, '_' and '.'.",
            code="invalid_handle",
            field="handle",
        )
    if handle.lower() in RESERVED or handle.strip("._").lower() in RESERVED:
        raise Invalid("This handle is reserved.", code="handle_reserved", field="handle")
    return handle
