"""A search query folded the way migration 0012 folds names, and its grams."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Initial consonants in syllable order; NFKC turns the compatibility letters people type
# (`ㅊ`, U+314A) into conjoining ones (U+110E), which map back by position.
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_CONJOINING = {chr(0x1100 + i): letter for i, letter in enumerate(INITIALS)}
_HANDLE_CHARS = re.compile(r"[a-z0-9_.]+")


@dataclass(frozen=True)
class Query:
    """What to look for: `term` in folded names (or in initials), and a handle prefix."""

    term: str
    initials: bool
    # The handle-like query, for the exact-handle rank and the prefix match; None when
    # the query holds characters no handle has.
    handle: str | None

    @property
    def first_gram(self) -> str:
        """The gram whose postings a page reads: a one-character term, else its first bigram.

        Only one: the other bigrams would each cost an index probe per candidate, and
        `strpos` on the candidate's name decides the match anyway.
        """
        return self.term[:2]

    @property
    def handle_prefix(self) -> str | None:
        """A LIKE pattern matching handles that start with the query, `_` taken literally."""
        if self.handle is None:
            return None
        return self.handle.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"


def fold(text: str) -> str:
    """NFKC (full-width letters, decomposed Hangul), lower case, blanks collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def parse(text: str) -> Query | None:
    """The query, or None when nothing searchable is left once folded."""
    folded = fold(text)
    if not folded:
        return None
    letters = folded.replace(" ", "")
    if all(char in _CONJOINING for char in letters):
        return Query(
            term="".join(_CONJOINING[char] for char in letters), initials=True, handle=None
        )
    handle = letters.lstrip("@")
    return Query(
        term=folded,
        initials=False,
        handle=handle if _HANDLE_CHARS.fullmatch(handle) else None,
    )
