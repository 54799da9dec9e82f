"""People search's statements stay within what psycopg caches."""

from __future__ import annotations

import itertools

from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

from keepsake.search import repository
from keepsake.search.repository import Shape


def test_every_shape_of_page_is_parsed_once_by_psycopg() -> None:
    # Longer, psycopg would split the statement for its placeholders on every run: a
    # tenth of the API process's time in a profile of the handle search.
    ranks = (None, repository.EXACT, repository.RELATED, repository.OTHERS)
    for initials, handle, resume in itertools.product((False, True), (False, True), ranks):
        sql = repository._page(Shape(initials=initials, handle=handle, resume=resume)).sql
        assert len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH, (initials, handle, resume)
