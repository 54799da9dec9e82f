"""Emails in the account's language, with times in its time zone and the language's format."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Protocol

from babel import Locale
from babel.dates import format_date, format_time

from keepsake.i18n import Language
from keepsake.i18n.catalog import _, translate

EXPIRES = _("This link works until {until}.")
TOKEN = _("If the link does not open, enter this code in the app:")


class Addressee(Protocol):
    @property
    def display_name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def locale(self) -> Language: ...


def local_time(moment: datetime, addressee: Addressee) -> str:
    """`moment` in the person's time zone, as their language writes a date and time.

    CLDR's own pattern joins a long date and a short time ("December 5, 2026 at 1:30 PM",
    "2026년 12월 5일 오후 10:30"); its long time would add seconds and a GMT offset.
    """
    local = moment.astimezone(zoneinfo.ZoneInfo(addressee.timezone))
    language = addressee.locale
    pattern = Locale.parse(language).datetime_formats["long"]
    return str(pattern).format(
        format_time(local, "short", locale=language), format_date(local, "long", locale=language)
    )


def link_email(
    addressee: Addressee, *, subject: str, text: str, link: str, token: str, expires_at: datetime
) -> tuple[str, str]:
    """Subject and body of an email carrying a one-time link.

    The `Token:` line stays the same in every language: support and tests read it.
    """
    language = addressee.locale
    lines = [
        translate(language, text, name=addressee.display_name),
        "",
        link,
        "",
        translate(language, EXPIRES, until=local_time(expires_at, addressee)),
        translate(language, TOKEN),
        f"Token: {token}",
    ]
    return translate(language, subject), "\n".join(lines) + "\n"
