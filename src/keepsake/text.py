"""The one place text input is checked: NFC-normalised, then refused if it holds control
characters.

Every text field of a request body and every free-text path parameter uses one of these
types, so a NUL byte (which PostgreSQL cannot store) or a bell never reaches a service or
the database, and decomposed Hangul is stored and matched exactly as composed Hangul.
Normalising comes first, so length limits count the characters that will be stored.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# Control characters and line/paragraph separators; surrogates cannot be stored as UTF-8.
_FORBIDDEN = frozenset({"Cc", "Cs", "Zl", "Zp"})


def clean(value: str, *, multiline: bool = False) -> str | None:
    """`value` in NFC (with `\\r\\n` as `\\n` when multiline); None when it holds a
    character the field may not."""
    if multiline:
        value = value.replace("\r\n", "\n")
    value = unicodedata.normalize("NFC", value)
    for char in value:
        if multiline and char == "\n":
            continue
        if unicodedata.category(char) in _FORBIDDEN:
            return None
    return value


# Bounded by the `users` column it is stored in.
DISPLAY_NAME_MAX = 60


def display_name(value: str) -> str | None:
    """The rule of a display name, at sign-up as in `PATCH /v1/me`: one line, trimmed,
    1–60 characters; None when `value` breaks it."""
    cleaned = clean(value)
    name = None if cleaned is None else cleaned.strip()
    return name if name and len(name) <= DISPLAY_NAME_MAX else None


def _checker(*, multiline: bool, code: str) -> BeforeValidator:
    # The error's type picks the translated message (`keepsake.i18n.validation`).
    kind, message = (
        ("text_characters", "Text may not hold control characters.")
        if multiline
        else ("text_one_line", "Text is one line: no line breaks or control characters.")
    )

    def check(value: object) -> object:
        # Anything but a string is left to the `str` validation that follows.
        if not isinstance(value, str):
            return value
        cleaned = clean(value, multiline=multiline)
        if cleaned is None:
            # `code` becomes the problem's code (see `errors._validation_error`).
            raise PydanticCustomError(kind, message, {"code": code})
        return cleaned

    return BeforeValidator(check)


# Last in an `Annotated` that holds other constraints, so that it runs before them.
CHECK_ONE_LINE = _checker(multiline=False, code="invalid_text")
SingleLine = Annotated[str, CHECK_ONE_LINE]
MultiLine = Annotated[str, _checker(multiline=True, code="invalid_text")]
DisplayName = Annotated[str, _checker(multiline=False, code="invalid_display_name")]
Note = Annotated[str, _checker(multiline=False, code="invalid_note")]
Bio = Annotated[str, _checker(multiline=True, code="invalid_bio")]
Caption = Annotated[str, _checker(multiline=True, code="invalid_caption")]
