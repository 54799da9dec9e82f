"""Pydantic's validation messages in the request's language, chosen by error `type`.

Pydantic writes its messages in English only; each error also carries a stable `type`
and a `ctx` of values (a limit, the allowed choices), which fill the catalog message's
named placeholders. A type not listed gets the general message rather than English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keepsake.i18n import Language
from keepsake.i18n.catalog import _, _n, translate, translate_plural

GENERAL = _("This value is not valid.")

_BY_TYPE: dict[str, str] = {
    "missing": _("This field is required."),
    "extra_forbidden": _("This field is not accepted here."),
    "string_type": _("Send text here."),
    "string_pattern_mismatch": _("This value does not have the expected form."),
    "int_type": _("Send a whole number."),
    "int_parsing": _("Send a whole number."),
    "int_from_float": _("Send a whole number."),
    "float_type": _("Send a number."),
    "float_parsing": _("Send a number."),
    "bool_type": _("Send true or false."),
    "bool_parsing": _("Send true or false."),
    "greater_than": _("Use a number above {gt}."),
    "greater_than_equal": _("Use a number of at least {ge}."),
    "less_than": _("Use a number below {lt}."),
    "less_than_equal": _("Use a number of at most {le}."),
    "enum": _("Use one of these values: {expected}."),
    "literal_error": _("Use one of these values: {expected}."),
    "uuid_type": _("Send a UUID."),
    "uuid_parsing": _("Send a UUID."),
    "datetime_type": _("Send a date and time in ISO 8601 form."),
    "datetime_parsing": _("Send a date and time in ISO 8601 form."),
    "datetime_from_date_parsing": _("Send a date and time in ISO 8601 form."),
    "timezone_aware": _("Give the time with its UTC offset."),
    "date_type": _("Send a date as YYYY-MM-DD."),
    "date_parsing": _("Send a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": _("Send a date as YYYY-MM-DD."),
    "time_type": _("Send a time as HH:MM."),
    "time_parsing": _("Send a time as HH:MM."),
    "dict_type": _("Send an object here."),
    "model_type": _("Send an object here."),
    "model_attributes_type": _("Send an object here."),
    "list_type": _("Send a list here."),
    "json_invalid": _("This is not valid JSON."),
    "value_error": GENERAL,
    # The shared text types' own errors (`keepsake.text`).
    "text_characters": _("Text may not hold control characters."),
    "text_one_line": _("Text is one line: no line breaks or control characters."),
    # The request models' own rules.
    "not_null": _("This field may not be null."),
    "ids_or_all": _("Give either ids or all: true."),
    "points_nonzero": _("An adjustment moves at least one point."),
    "ends_before_start": _("ends_at must be after starts_at."),
}

# Limits that are counts: the catalog's plural form follows the limit (`ctx[key]`).
_PLURAL_BY_TYPE: dict[str, tuple[tuple[str, str], str]] = {
    "string_too_short": (
        _n("Use at least {n} character.", "Use at least {n} characters."),
        "min_length",
    ),
    "string_too_long": (
        _n("Use at most {n} character.", "Use at most {n} characters."),
        "max_length",
    ),
    "too_short": (_n("Give at least {n} item.", "Give at least {n} items."), "min_length"),
    "too_long": (_n("Give at most {n} item.", "Give at most {n} items."), "max_length"),
}


def field_message(language: Language, error: Mapping[str, Any]) -> str:
    """The message of one of pydantic's `errors()` entries, in `language`."""
    kind = str(error["type"])
    ctx = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if kind in _PLURAL_BY_TYPE:
        (singular, plural), key = _PLURAL_BY_TYPE[kind]
        return translate_plural(language, singular, plural, int(ctx[key]))
    return translate(language, _BY_TYPE.get(kind, GENERAL), **ctx)
