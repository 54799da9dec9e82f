"""Hashtags in captions, Unicode-aware: `#첫눈` and `#café` are tags like `#sunset`."""

from __future__ import annotations

import re
import unicodedata

MAX_TAG_CHARS = 100
MAX_TAGS = 30

# \w is Unicode-aware for str patterns: letters and digits of every script, and '_'.
# A tag ends at anything else; a '#' inside a word (e.g. "c#") starts no tag.
_TAG = re.compile(r"(?<![\w#])#(\w+)")


def normalize_tag(tag: str) -> str:
    """The form tags are stored and matched in: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", tag).casefold()


def parse_hashtags(caption: str) -> list[str]:
    """Distinct tags in order of first use, at most `MAX_TAGS`."""
    found: list[str] = []
    for match in _TAG.finditer(unicodedata.normalize("NFC", caption)):
        tag = normalize_tag(match.group(1))[:MAX_TAG_CHARS]
        if not tag.isdigit() and tag not in found:
            found.append(tag)
        if len(found) == MAX_TAGS:
            break
    return found
