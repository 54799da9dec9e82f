"""Languages: which one a request or an account speaks."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["ko", "en"]
SUPPORTED: tuple[Language, ...] = get_args(Language)
DEFAULT: Language = "en"
_BY_TAG: dict[str, Language] = {language: language for language in SUPPORTED}


def _weighted(part: str) -> tuple[float, str]:
    tag, _, params = part.strip().partition(";")
    weight = 1.0
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
    return weight, tag.strip().lower()


def negotiate(accept_language: str | None) -> Language:
    """The best supported match of an `Accept-Language` header (`ko-KR`, `ko` → `ko`), else `en`."""
    if not accept_language:
        return DEFAULT
    ranked = sorted(
        (_weighted(part) for part in accept_language[:500].split(",")),
        key=lambda pair: -pair[0],
    )
    for weight, tag in ranked:
        found = _BY_TAG.get(tag.split("-", 1)[0])
        if weight > 0 and found is not None:
            return found
    return DEFAULT
