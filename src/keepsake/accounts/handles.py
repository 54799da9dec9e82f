"""Handle rules: 3–30 ASCII characters of a-z 0-9 _ . (any case), unique regardless of
case, with no leading, trailing or doubled dot."""

from __future__ import annotations

import re

from keepsake.errors import Invalid
from keepsake.i18n.catalog import _

# Checked on the handle as typed, before any case folding: Unicode lowering turns the
# Kelvin sign (U+212A) into `k`, which would let `KKK` pose as `kkk`.
_HANDLE = re.compile(r"(?=.{3,30}\Z)[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*", re.ASCII)

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
    if not _HANDLE.fullmatch(handle):
        raise Invalid(
            _(
                "A handle is 3–30 characters: letters a–z, digits, '_' and '.', with no dot "
                "at either end or next to another."
            ),
            code="invalid_handle",
            field="handle",
        )
    # Dots and underscores do not disguise a reserved word: `ad.min`, `_support_`.
    if handle.lower().replace(".", "").replace("_", "") in RESERVED:
        raise Invalid(_("This handle is reserved."), code="handle_reserved", field="handle")
    return handle
