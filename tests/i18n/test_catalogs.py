"""The catalogs hold every message the code marks, translated, with the same placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from keepsake.i18n import SUPPORTED, Language
from keepsake.i18n.catalog import po_path

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as the `pybabel extract` command in babel.cfg.
KEYWORDS = {"_": None, "_n": (1, 2), "translate": (2,), "translate_plural": (2, 3)}


def _extracted() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as cfg:
        # Babel ships without type hints for its frontend module.
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "src", method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _catalog(language: Language) -> Catalog:
    with po_path(language).open("rb") as po:
        return read_po(po, locale=language)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


EXTRACTED = _extracted()


def test_the_code_marks_messages() -> None:
    assert "During your quiet hours" in EXTRACTED


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_message_is_translated_with_its_placeholders(language: Language) -> None:
    catalog = _catalog(language)
    held = {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog}
    held.discard("")
    assert not catalog.obsolete, f"obsolete entries in {language}: {list(catalog.obsolete)}"
    assert EXTRACTED - held == set(), f"untranslated in {language}"
    assert held - EXTRACTED == set(), f"entries no code uses in {language}"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, (language, message.id)
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = (
            [message.string] if isinstance(message.string, str) else list(message.string or ())
        )
        assert all(strings), (language, message.id)
        wanted = set().union(*(_fields(text) for text in ids))
        for text in strings:
            # A plural's one-form may leave out `{n}` ("A memory…"), never add a field.
            assert _fields(text) <= wanted, (language, message.id, text)
            assert _fields(text) >= wanted - {"n"}, (language, message.id, text)
