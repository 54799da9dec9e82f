"""The plans of every feed statement on a seeded database with fresh statistics.

Each statement must read `memories`, `home_timeline`, `claps` and `follows` through
indexes, and read about as many of their rows for a reader whose followees posted 400
memories each as for one whose followees posted 20: a page's cost must not grow with an
author's history. Run with `EXPLAIN (ANALYZE, FORMAT JSON)`, so the rows counted are
the rows PostgreSQL really read.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from keepsake.db import libpq_url
from keepsake.feeds import repository
from keepsake.readdb import ReadQuery, read_pool
from tests.fixtures.plans import explained, scans

WATCHED = {"memories", "home_timeline", "claps", "follows"}
# Followees per reader; each of a reader's followees posted `history` memories.
FOLLOWEES = 40
SHORT, LONG = 20, 400
LIMIT = 21
PAGE = {
    "limit": LIMIT,
    "before_at": datetime.max.replace(tzinfo=UTC),
    "before_id": uuid.UUID(int=(1 << 128) - 1),
}

# Person and one memory are SQLAlchemy statements; compiled here as the feeds' are.
STATEMENTS = {
    "home": repository._HOME,
    "explore": repository._EXPLORE,
    "hashtag": repository._HASHTAG,
    "person": ReadQuery.compile(repository._PERSON, "viewer_id", "author_id", *PAGE),
    "one": repository._READ_ONE,
}

_SEED = """
INSERT INTO users (id, email, handle, display_name)
SELECT md5('user' || n)::uuid, 'plan' || n || '@example.com',
       'plan_' || n, 'Plan ' || n
FROM generate_series(0, 2 * :followees + 1) AS n;

INSERT INTO follows (id, follower_id, followee_id, state)
SELECT gen_random_uuid(), md5('user' || r)::uuid,
       md5('user' || (2 + f + r * :followees))::uuid, 'active'
FROM generate_series(0, 1) AS r, generate_series(0, :followees - 1) AS f;

INSERT INTO memories (id, author_id, status, visibility, caption, duration_s, created_at)
SELECT md5('memory' || a || ':' || k)::uuid,
       md5('user' || a)::uuid,
       'ready', (ARRAY['public', 'followers', 'only_me'])[1 + k % 3]::memory_visibility,
       '#plans', 2.0, now() - k * interval '1 hour'
FROM generate_series(2, 2 * :followees + 1) AS a,
     generate_series(1, CASE WHEN a < 2 + :followees THEN :short ELSE :long END) AS k;

INSERT INTO memory_hashtags (memory_id, tag, created_at)
SELECT id, 'plans', created_at FROM memories;

INSERT INTO claps (memory_id, user_id, count)
SELECT id, md5('user0')::uuid, 1
FROM memories WHERE visibility = 'public' ON CONFLICT DO NOTHING;
"""


def md5_id(key: str) -> uuid.UUID:
    """The id `md5(key)::uuid` gives in the seed above."""
    return uuid.UUID(hashlib.md5(key.encode()).hexdigest())  # noqa: S324 - ids, not secrets


def user(n: int) -> uuid.UUID:
    return md5_id(f"user{n}")


async def rows_read(conn: AsyncConnection, name: str, **values: Any) -> int:
    """Rows of the watched tables the statement read; fails on a sequential scan of one."""
    plan = await explained(conn, STATEMENTS[name], values)
    read = 0
    for node in scans(plan):
        if node.get("Relation Name") not in WATCHED:
            continue
        assert node["Node Type"] != "Seq Scan", (name, node["Relation Name"], plan)
        loops = node["Actual Loops"]
        read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * loops
    return int(read)


async def test_feed_plans_use_indexes_and_stay_flat(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for statement in _SEED.split(";\n\n"):
            await conn.execute(
                text(statement), {"followees": FOLLOWEES, "short": SHORT, "long": LONG}
            )
        await conn.execute(
            text("ANALYZE users, follows, memories, memory_hashtags, claps, home_timeline")
        )
        # A few thousand rows fit in a few pages, which a sequential scan legitimately
        # reads fastest. Priced out, a scan still in the plan means no index serves it.
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        short_author, long_author = user(2), user(2 + FOLLOWEES)
        memory = md5_id(f"memory{2 + FOLLOWEES}:{LONG}")
        # Custom plans first, then the generic ones the read pool is set to use.
        for plan_mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(text(f"SET LOCAL plan_cache_mode = {plan_mode}"))
            for name in ("explore", "hashtag", "one"):
                values = {**PAGE, "viewer_id": user(0), "tag": "plans", "memory_id": memory}
                await rows_read(conn, name, **values)
            read = {
                name: [
                    await rows_read(conn, name, **PAGE, viewer_id=viewer, author_id=author)
                    for viewer, author in ((user(0), short_author), (user(1), long_author))
                ]
                for name in ("home", "person")
            }
            for name, (short, long) in read.items():
                # A page of 21 from authors who posted 20 or 400 each: the same work, give
                # or take the probes of a few more skipped rows.
                assert long <= 1.5 * short + 50, (plan_mode, name, short, long)
            # Nor with the number of people followed: about a page's rows and their
            # probes, where a merge of 40 followees' newest memories reads some 40 × 21.
            assert max(read["home"]) <= 12 * LIMIT, (plan_mode, read)


async def test_the_read_pool_runs_the_generic_plans_checked_above(database_url: str) -> None:
    async with read_pool(libpq_url(database_url), size=1) as pool, pool.connection() as conn:
        mode = await (await conn.execute("SHOW plan_cache_mode")).fetchone()
    assert mode == ("force_generic_plan",)
