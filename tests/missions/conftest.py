"""Every mission and points test ends with a sound ledger: all accounts sum to zero."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.clock import current_time
from keepsake.security import utcnow
from tests.missions.helpers import Clock


@pytest.fixture(autouse=True)
async def _ledger_balances(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT coalesce(sum(balance), 0) FROM points_accounts),"
                    " (SELECT coalesce(sum(amount), 0) FROM points_entries),"
                    " (SELECT count(*) FROM points_accounts a WHERE a.balance <>"
                    "  (SELECT coalesce(sum(amount), 0) FROM points_entries e"
                    "   WHERE e.account_id = a.id))"
                )
            )
        ).one()
    assert tuple(row) == (0, 0, 0), f"ledger out of balance: {tuple(row)}"


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The time mission routes judge by, moved by the test."""
    moved = Clock(utcnow().replace(microsecond=0))

    async def now() -> datetime:
        return moved.now

    app.dependency_overrides[current_time] = now
    yield moved
    app.dependency_overrides.pop(current_time, None)
