"""`keepsake admin seed`: a realistic data set for load tests and benchmarks, written fast.

Every row is derived from its number (`seed_user_00042`, memory 17), generated inside
PostgreSQL (`keepsake.seed_sql`): Python sends statements, not rows. Into an empty
database the whole seed is one transaction that drops the big tables' indexes and
foreign keys and the fan-out triggers first and rebuilds them, and the tables they
derive, at the end (`keepsake.seed_bulk`). Into a database that already has accounts,
the same statements run with `ON CONFLICT DO NOTHING` and every trigger on, one
transaction per phase or batch: a re-run with the same numbers adds nothing, a larger
run adds only what is new, and a memory's clips and hashtags go in with it.

Popularity follows power laws, as on any social network: a few accounts are followed by
many, a few post a lot, a few memories gather most claps. Every account has the same
password, hashed once: argon2 costs tens of milliseconds per hash by design.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from keepsake import seed_bulk, seed_sql
from keepsake.security import hash_password
from keepsake.seed_content import (
    CLIP_SECONDS,
    CLIP_SIZE,
    MEDIA_VARIANTS,
    NAMES,
    PHRASES,
    TAGS,
    store_media,
)
from keepsake.seed_content import EMAIL_DOMAIN as EMAIL_DOMAIN
from keepsake.seed_content import email as email
from keepsake.seed_content import handle as handle
from keepsake.seed_content import seed_id as seed_id
from keepsake.storage.base import Storage

SEED_PASSWORD = "a calm seeded afternoon"  # noqa: S105 - published: seeded test data only
# Rows per statement when adding to a database in use: a transaction each.
BATCH = 100_000
SEEDED_TABLES = ("users", "follows", "memories", "clips", "memory_hashtags", "claps")
DERIVED_TABLES = ("home_timeline", "home_wide_authors", "hashtags", "user_search_grams")


@dataclass(frozen=True)
class SeedPlan:
    users: int
    memories: int
    follows_per_user: int = 20
    # The long tail's cap, which the first account reaches; None: 20 × `follows_per_user`,
    # and nobody in particular reaches it.
    max_follows: int | None = None
    # Clap rows (one person's claps for one memory); None means three per memory.
    claps: int | None = None
    # Every seeded time is this long ago or less; None: when the seed starts.
    now: datetime | None = None


@dataclass
class SeedResult:
    inserted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    bulk: bool = False


def _shuffle(users: int, salt: int) -> dict[str, int]:
    """`rank × mult + shift mod users`: a fixed shuffle of accounts, mult coprime to users."""
    mult = max(1, int(users * 0.6180339887) + salt)
    while math.gcd(mult, users) != 1:
        mult += 1
    return {"mult": mult, "shift": (salt * 7919) % users}


class Seeder:
    def __init__(
        self, conn: AsyncConnection, plan: SeedPlan, progress: Callable[[str], None], bulk: bool
    ) -> None:
        self.conn, self.plan, self.progress = conn, plan, progress
        self.result = SeedResult(bulk=bulk)
        self.conflict = "" if bulk else " ON CONFLICT DO NOTHING"
        self.params: dict[str, Any] = {
            "now": plan.now or datetime.now(UTC),
            "users": plan.users,
            "phrases": PHRASES,
        }

    async def step(self, label: str, sql: str, table: str | None, **params: Any) -> None:
        """Runs one statement; prints its rows, seconds and rows per second."""
        started = time.monotonic()
        result = await self.conn.execute(text(sql), {**self.params, **params})
        rows, seconds = max(result.rowcount, 0), time.monotonic() - started
        if table is not None:
            self.result.inserted[table] = self.result.inserted.get(table, 0) + rows
        rate = rows / seconds if seconds > 0 else 0.0
        self.progress(f"seeding {label}: {rows:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s)")

    async def script(self, label: str, sql: str) -> None:
        started = time.monotonic()
        await self.conn.exec_driver_sql(sql)
        self.progress(f"seeding {label}: {time.monotonic() - started:.1f} s")

    async def commit(self) -> None:
        """Ends a batch when adding to a database in use; a bulk load is one transaction."""
        if self.conflict:
            await self.conn.commit()

    def ranges(self, total: int, batch: int) -> list[tuple[int, int]]:
        """[lo, hi) ranges of row numbers: all at once in bulk, else `batch` at a time."""
        size = max(1, batch if self.conflict else total)
        return [(lo, min(lo + size, total)) for lo in range(0, total, size)]

    async def users(self, password_hash: str) -> None:
        params = {"names": NAMES, "password_hash": password_hash, "domain": EMAIL_DOMAIN}
        for lo, hi in self.ranges(self.plan.users, BATCH):
            label = f"users {hi}/{self.plan.users}"
            await self.step(label, seed_sql.USERS + self.conflict, "users", lo=lo, hi=hi, **params)
            await self.commit()

    async def follows(self) -> None:
        plan = self.plan
        cap = min(plan.max_follows or 20 * plan.follows_per_user, plan.users // 2)
        params = {
            "cap": cap,
            "pin": plan.max_follows is not None,
            "per_user": plan.follows_per_user,
            **_shuffle(plan.users, 1),
        }
        # Someone following thousands makes a batch of thousands of rows on their own.
        for lo, hi in self.ranges(plan.users, BATCH // (4 * plan.follows_per_user)):
            label = f"follows of users {hi}/{plan.users}"
            await self.step(
                label, seed_sql.FOLLOWS + self.conflict, "follows", lo=lo, hi=hi, **params
            )
            await self.commit()

    async def memories(self) -> None:
        total = self.plan.memories
        await self.step(
            "memory plan",
            seed_sql.MEMORY_PLAN,
            None,
            memories=total,
            tags=TAGS,
            **_shuffle(self.plan.users, 2),
        )
        await self.conn.exec_driver_sql("CREATE INDEX ON seed_memories (n); ANALYZE seed_memories")
        sizes = {"clip_seconds": CLIP_SECONDS, "width": CLIP_SIZE[0], "height": CLIP_SIZE[1]}
        for lo, hi in self.ranges(total, BATCH // 4):
            for table, sql in (
                ("memories", seed_sql.MEMORIES),
                ("clips", seed_sql.CLIPS),
                ("memory_hashtags", seed_sql.HASHTAGS),
            ):
                label = f"{table} of memories {hi}/{total}"
                await self.step(
                    label,
                    sql + self.conflict,
                    table,
                    lo=lo,
                    hi=hi,
                    variants=MEDIA_VARIANTS,
                    **sizes,
                )
            await self.commit()

    async def claps(self) -> None:
        total = self.plan.claps if self.plan.claps is not None else 3 * self.plan.memories
        await self.script(
            "followers for claps",
            seed_sql.FANS + "CREATE INDEX ON seed_fans (author_id, i);"
            " ANALYZE seed_fans; ANALYZE seed_fan_counts;",
        )
        if total:
            await self.step("claps", seed_sql.CLAPS + self.conflict, "claps", total=total)
        await self.commit()


async def seed(
    engine: AsyncEngine, storage: Storage, plan: SeedPlan, progress: Callable[[str], None]
) -> SeedResult:
    started = time.monotonic()
    await store_media(storage)
    password_hash = await hash_password(SEED_PASSWORD)
    async with engine.connect() as conn:
        # Before any temporary table: the plan tables stay in memory.
        await conn.exec_driver_sql("SET temp_buffers = '256MB'")
        await conn.exec_driver_sql(seed_sql.HELPERS)
        bulk = await seed_bulk.is_empty(conn)
        await conn.exec_driver_sql("SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'")
        seeder = Seeder(conn, plan, progress, bulk)
        progress("seeding an empty database in bulk" if bulk else "seeding: adding what is new")
        try:
            deferred = await seed_bulk.defer(conn) if bulk else None
            await seeder.users(password_hash)
            await seeder.follows()
            await seeder.memories()
            if bulk:
                # Tables loaded in this transaction have no statistics yet: without them
                # the claps and rebuild statements were planned as nested loops.
                await seeder.script("statistics", f"ANALYZE {', '.join(SEEDED_TABLES[:-1])}")
            await seeder.claps()
            if deferred is not None:
                for table, sql in seed_bulk.REBUILD:
                    await seeder.step(table, sql, None)
                restore_started = time.monotonic()
                await seed_bulk.restore(conn, deferred)
                progress(f"seeding indexes and keys: {time.monotonic() - restore_started:.1f} s")
            await conn.commit()
        finally:
            await conn.rollback()
            await conn.exec_driver_sql("DISCARD TEMP; RESET work_mem; RESET maintenance_work_mem")
            await conn.commit()
        # Fresh statistics: until autovacuum gets to them, the planner would take these
        # tables for the nearly empty ones it last saw, and the load test measure bad plans.
        analyze_started = time.monotonic()
        await conn.exec_driver_sql(f"ANALYZE {', '.join((*SEEDED_TABLES, *DERIVED_TABLES))}")
        await conn.commit()
        progress(f"seeding analyze: {time.monotonic() - analyze_started:.1f} s")
    seeder.result.seconds = time.monotonic() - started
    return seeder.result
