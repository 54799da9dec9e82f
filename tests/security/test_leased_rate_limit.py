"""Leased rate limits: hits claimed from PostgreSQL a few at a time, spent in process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.errors import RateLimited
from keepsake.ratelimit import RateLimiter

KEY = "search:account:test"
WINDOW = timedelta(minutes=15)


async def counted(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        hits = await conn.scalar(
            text("SELECT hits FROM rate_limit_counters WHERE key = :key"), {"key": KEY}
        )
    return int(hits or 0)


async def test_concurrent_hits_share_one_claim_per_lease(engine: AsyncEngine) -> None:
    limiter = RateLimiter(engine)
    # A limit of 100 leases 5 hits at a time: 20 concurrent hits make 4 claims.
    await asyncio.gather(*(limiter.hit_leased(KEY, limit=100, window=WINDOW) for _ in range(20)))
    assert await counted(engine) == 20
    await limiter.hit_leased(KEY, limit=100, window=WINDOW)
    assert await counted(engine) == 25


async def test_processes_add_up_and_the_limit_holds(engine: AsyncEngine) -> None:
    first, second = RateLimiter(engine), RateLimiter(engine)
    granted = 0
    waits = []
    for _ in range(60):
        for limiter in (first, second):
            try:
                await limiter.hit_leased(KEY, limit=40, window=WINDOW)
                granted += 1
            except RateLimited as refused:
                waits.append(int(refused.headers["Retry-After"]))
    # Leases of 2 across two processes: at most one unspent hit each is lost to the limit.
    assert 38 <= granted <= 40
    assert len(waits) == 120 - granted
    assert all(0 < wait <= WINDOW.total_seconds() for wait in waits)
    settled = await counted(engine)
    # A refusal is remembered in process until the window ends: no statement per refusal.
    await asyncio.gather(
        *(limiter.hit_leased(KEY, limit=40, window=WINDOW) for limiter in (first, second)),
        return_exceptions=True,
    )
    assert await counted(engine) == settled


async def test_a_small_limit_is_counted_hit_by_hit(engine: AsyncEngine) -> None:
    limiter = RateLimiter(engine)
    for _ in range(3):
        await limiter.hit_leased(KEY, limit=3, window=WINDOW)
    assert await counted(engine) == 3
    with pytest.raises(RateLimited):
        await limiter.hit_leased(KEY, limit=3, window=WINDOW)


async def test_a_disabled_limiter_counts_nothing(engine: AsyncEngine) -> None:
    limiter = RateLimiter(engine, enabled=False)
    await limiter.hit_leased(KEY, limit=1, window=WINDOW)
    await limiter.hit_leased(KEY, limit=1, window=WINDOW)
    assert await counted(engine) == 0
