"""Fixed-window rate limits kept in PostgreSQL, so every API pod shares one count.

One `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` per check: a single round trip,
atomic under concurrency, and no extra server (Redis) to run. The counter commits in
its own short transaction so a refused or failed request still counts.

Reads that count on every request (search) take hits in leases instead: a process
claims a few hits of the window at once in that same statement and spends them locally,
so a burst from one account costs one short statement per lease rather than a row lock
held by every request until it commits.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base
from keepsake.errors import RateLimited


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hits: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(BigInteger)


_HIT = text(
    """
    INSERT INTO rate_limit_counters AS c (key, window_start, hits, window_seconds)
    VALUES (:key, now(), :n, :window)
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN c.window_start + make_interval(secs => c.window_seconds) <= now()
                    THEN :n ELSE c.hits + :n END,
        window_start = CASE WHEN c.window_start + make_interval(secs => c.window_seconds) <= now()
                            THEN now() ELSE c.window_start END,
        window_seconds = :window
    RETURNING hits, extract(epoch FROM window_start + make_interval(secs => window_seconds) - now())
    """
)


_COUNTS = text(
    """
    SELECT key, hits,
           extract(epoch FROM window_start + make_interval(secs => window_seconds) - now())
    FROM rate_limit_counters
    WHERE key = ANY(:keys) AND window_start + make_interval(secs => window_seconds) > now()
    """
)


@dataclass(frozen=True)
class Count:
    """A counter's hits in its current window, and the seconds until that window ends."""

    hits: int
    remaining_s: float

    def refuse(self) -> RateLimited:
        return RateLimited(retry_after=max(1, math.ceil(self.remaining_s)))


# A lease is at most this many hits, and at most 1/LEASE_SHARE of the limit: every
# process may hold one lease per key, and its unspent hits count at the window's end
# (erring towards refusing a little early, never towards letting more through).
LEASE_MAX = 32
LEASE_SHARE = 20


@dataclass
class _Lease:
    left: int = 0
    # `time.monotonic()` at which the window that counted the lease ends.
    ends: float = -math.inf
    refused: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateLimiter:
    def __init__(self, engine: AsyncEngine, *, enabled: bool = True):
        self._engine = engine
        self.enabled = enabled
        self._leases: dict[str, _Lease] = {}

    async def hit(self, key: str, *, limit: int, window: timedelta) -> None:
        """Count one attempt under `key`; raise `RateLimited` past `limit` in the window."""
        if not self.enabled:
            return
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    _HIT, {"key": key, "n": 1, "window": int(window.total_seconds())}
                )
            ).one()
        _check(row, limit)

    async def hit_leased(self, key: str, *, limit: int, window: timedelta) -> None:
        """`hit`, spending a lease this process holds on `key`, claimed when spent.

        Concurrent requests of one process wait for one claim rather than each making
        their own; a refusal is remembered until the window ends.
        """
        if not self.enabled:
            return
        lease = self._leases.setdefault(key, _Lease())
        if not _spend(lease):
            async with lease.lock:
                if not _spend(lease):
                    await self._claim(key, lease, limit=limit, window=window)
        if lease.refused:
            raise RateLimited(retry_after=max(1, math.ceil(lease.ends - time.monotonic())))

    async def counts(self, keys: Sequence[str]) -> dict[str, Count]:
        """The current counts of these keys (absent: none in a running window), one query."""
        if not self.enabled:
            return {}
        async with self._engine.connect() as conn:
            rows = await conn.execute(_COUNTS, {"keys": list(keys)})
        return {row[0]: Count(int(row[1]), float(row[2])) for row in rows}

    async def add(self, keys: Sequence[str], *, window: timedelta) -> None:
        """Count one under each key without refusing anything: for limits on failures, which
        are only known after the attempt and must outlive the request's own rollback."""
        if not self.enabled:
            return
        async with self._engine.begin() as conn:
            for key in keys:
                params = {"key": key, "n": 1, "window": int(window.total_seconds())}
                await conn.execute(_HIT, params)

    async def _claim(self, key: str, lease: _Lease, *, limit: int, window: timedelta) -> None:
        size = max(1, min(LEASE_MAX, limit // LEASE_SHARE))
        params = {"key": key, "n": size, "window": int(window.total_seconds())}
        async with self._engine.begin() as conn:
            row = (await conn.execute(_HIT, params)).one()
        hits, remaining = int(row[0]), float(row[1])
        # Hits past the limit were counted but are not granted.
        granted = min(size, limit - (hits - size))
        lease.ends = time.monotonic() + remaining
        lease.refused = granted <= 0
        lease.left = max(0, granted - 1)
        if len(self._leases) > _MAX_LEASES:
            self._forget_ended()

    def _forget_ended(self) -> None:
        now = time.monotonic()
        for key in [k for k, v in self._leases.items() if v.ends <= now and not v.lock.locked()]:
            del self._leases[key]


# Keys seen by one process before those whose window has ended are dropped.
_MAX_LEASES = 10_000


def _spend(lease: _Lease) -> bool:
    """Take one hit of a live lease (or its live refusal); False when a claim is due."""
    if lease.ends <= time.monotonic():
        return False
    if lease.refused:
        return True
    if lease.left > 0:
        lease.left -= 1
        return True
    return False


def _check(row: Sequence[Any], limit: int) -> None:
    count = Count(int(row[0]), float(row[1]))
    if count.hits > limit:
        raise count.refuse()


async def prune_counters(db: AsyncSession) -> None:
    """Drop counters whose window has passed; they would restart at 1 anyway."""
    await db.execute(
        text(
            "DELETE FROM rate_limit_counters"
            " WHERE window_start + make_interval(secs => window_seconds) < now()"
        )
    )
