"""The profile's own fields: what a display name, a bio, a note, a time zone and quiet
hours may hold, each checked and normalized before it is stored."""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import cache

from keepsake import text as texts
from keepsake.errors import Invalid
from keepsake.i18n.catalog import _
from keepsake.profiles.schemas import QuietHours

# Bounded by the `users` columns they are stored in.
NOTE_MAX = 80
BIO_MAX = 300


class InvalidNote(Invalid):
    code = "invalid_note"


class InvalidDisplayName(Invalid):
    code = "invalid_display_name"


class InvalidBio(Invalid):
    code = "invalid_bio"


class InvalidTimezone(Invalid):
    code = "invalid_timezone"


class InvalidQuietHours(Invalid):
    code = "invalid_quiet_hours"


def text(value: str, *, multiline: bool = False) -> str | None:
    """Checked (as the request types check it) and trimmed; None when it may not be stored."""
    cleaned = texts.clean(value, multiline=multiline)
    return None if cleaned is None else cleaned.strip()


def note(value: str) -> str:
    note = text(value)
    if note is None:
        raise InvalidNote(
            _("The note is one line: no line breaks or control characters."),
            code=InvalidNote.code,
            field="note",
        )
    if len(note) > NOTE_MAX:
        raise InvalidNote(
            _("The note is at most {limit} characters."),
            code=InvalidNote.code,
            field="note",
            params={"limit": NOTE_MAX},
        )
    return note


def display_name(value: str) -> str:
    name = texts.display_name(value)
    if name is None:
        raise InvalidDisplayName(
            _("Give a display name of 1–{limit} characters on one line."),
            code=InvalidDisplayName.code,
            field="display_name",
            params={"limit": texts.DISPLAY_NAME_MAX},
        )
    return name


def bio(value: str) -> str:
    bio = text(value, multiline=True)
    if bio is None or len(bio) > BIO_MAX:
        raise InvalidBio(
            _("A bio is at most {limit} characters, without control characters."),
            code=InvalidBio.code,
            field="bio",
            params={"limit": BIO_MAX},
        )
    return bio


@cache
def zones() -> dict[str, str]:
    """IANA names by their lower-cased form, so `europe/berlin` is taken as `Europe/Berlin`."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def timezone(value: str) -> str:
    name = zones().get(value.lower())
    if name is None:
        raise InvalidTimezone(
            _("Use an IANA time zone name such as `Europe/Berlin`."),
            code=InvalidTimezone.code,
            field="timezone",
        )
    return name


def local_time(value: str, field: str) -> time:
    if len(value) == 5 and value[2] == ":" and value[:2].isdigit() and value[3:].isdigit():
        hour, minute = int(value[:2]), int(value[3:])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise InvalidQuietHours(
        _("Give a local time as `HH:MM` (00:00–23:59)."), code=InvalidQuietHours.code, field=field
    )


def quiet_hours(value: QuietHours) -> tuple[time, time]:
    start = local_time(value.start, "quiet_hours.start")
    end = local_time(value.end, "quiet_hours.end")
    if start == end:
        raise InvalidQuietHours(
            _("Quiet hours need a start and an end that differ; send null to turn them off."),
            code=InvalidQuietHours.code,
            field="quiet_hours",
        )
    return start, end
