"""The gettext catalogs, loaded from their `.po` files when the process starts.

Loading the `.po` files (rather than shipping compiled `.mo` files) means a fresh clone
runs with no build step and the repository holds one form of each catalog. Messages
use named `{placeholders}`, filled after translation.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from keepsake.i18n import SUPPORTED, Language

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "keepsake"


def po_path(language: Language) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(language: Language) -> gettext.GNUTranslations:
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


_TRANSLATIONS = {language: _load(language) for language in SUPPORTED}


def _(message: str) -> str:
    """Marks a message for `pybabel extract` where it is defined; translated later."""
    return message


def _n(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural pair for `pybabel extract` where it is defined."""
    return singular, plural


def translate(language: Language, message: str, **params: object) -> str:
    return _TRANSLATIONS[language].gettext(message).format(**params)


def translate_plural(
    language: Language, singular: str, plural: str, n: int, **params: object
) -> str:
    """The form of the language's plural rule for `n`; `{n}` is available to the text."""
    return _TRANSLATIONS[language].ngettext(singular, plural, n).format(n=n, **params)
