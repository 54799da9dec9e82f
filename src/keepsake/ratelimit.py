"""Fixed-window rate limits kept in PostgreSQL, so every API pod shares one count.

One `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` per check: a single round trip,
atomic under concurrency, and no extra server (Redis) to run. The counter commits in
its own short transaction so a refused or failed request still counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
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
    VALUES (:key, now(), 1, :window)
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN c.window_start + make_interval(secs => c.window_seconds) <= now()
                    THEN 1 ELSE c.hits + 1 END,
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


class RateLimiter:
    def __init__(self, engine: AsyncEngine, *, enabled: bool = True):
        self._engine = engine
        self.enabled = enabled

    async def hit(self, key: str, *, limit: int, window: timedelta) -> None:
        """Count one attempt under `key`; raise `RateLimited` past `limit` in the window."""
        if not self.enabled:
            return
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(_HIT, {"key": key, "window": int(window.total_seconds())})
            ).one()
        _check(row, limit)

    async def hit_in(self, db: AsyncSession, key: str, *, limit: int, window: timedelta) -> None:
        """`hit` on the request's own connection, for reads that count on every request.

        A second connection per request would come from the same pool: under load every
        request could hold one and wait for another until the pool times out. The count
        commits with the request; a refused request's own hit is not kept, which only
        ever errs towards letting the next one through.
        """
        if not self.enabled:
            return
        params = {"key": key, "window": int(window.total_seconds())}
        _check((await db.execute(_HIT, params)).one(), limit)

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
                await conn.execute(_HIT, {"key": key, "window": int(window.total_seconds())})


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
