"""A bulk load into an empty database: indexes, foreign keys and fan-out triggers later.

Maintaining a B-tree row by row, checking each foreign key row by row and fanning each
memory out through a trigger cost far more than building the index once, validating
the key with one join and writing the timeline with one statement. So, inside the
seeding transaction, the big tables' foreign keys and the indexes nothing outside them
depends on are dropped, as written in the catalog (`pg_get_indexdef`,
`pg_get_constraintdef`), and the triggers whose work `REBUILD` redoes are disabled; at
the end the derived tables are rebuilt, then the indexes, then the keys (validated
then), then the triggers enabled again. Being one transaction, a failure leaves the
schema as it was. Every other trigger fires as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from keepsake.seed_sql import SeedError

BIG_TABLES = ("follows", "memories", "clips", "memory_hashtags", "claps", "home_timeline")

# (table, trigger): the fan-out and hashtag triggers of migrations 0012 and 0015.
DEFERRED_TRIGGERS = (
    ("follows", "follows_home_inserted"),
    ("memories", "memories_home_inserted"),
    ("memory_hashtags", "memory_hashtags_used"),
)

# What those triggers would have written had the rows gone in follows first, memories
# second: every ready memory on its author's timeline and, unless the author has more
# active followers than the fan-out limit (then marked wide), on each follower's; each
# tag of a public memory with the last time it was used.
REBUILD = (
    (
        "home_wide_authors",
        """
    INSERT INTO home_wide_authors (author_id)
    SELECT f.followee_id FROM follows AS f
    WHERE f.state = 'active' AND EXISTS (
        SELECT 1 FROM memories AS m WHERE m.author_id = f.followee_id AND m.status = 'ready')
    GROUP BY f.followee_id HAVING count(*) > keepsake_home_fanout_limit()
    ON CONFLICT DO NOTHING
    """,
    ),
    (
        "home_timeline",
        """
    INSERT INTO home_timeline (owner_id, created_at, memory_id)
    SELECT f.follower_id, m.created_at, m.id
    FROM memories AS m JOIN follows AS f ON f.followee_id = m.author_id AND f.state = 'active'
    WHERE m.status = 'ready'
        AND NOT EXISTS (SELECT 1 FROM home_wide_authors AS w WHERE w.author_id = m.author_id)
    UNION ALL
    SELECT m.author_id, m.created_at, m.id FROM memories AS m WHERE m.status = 'ready'
    """,
    ),
    (
        "hashtags",
        """
    INSERT INTO hashtags (tag, last_used_at)
    SELECT h.tag, max(h.created_at)
    FROM memory_hashtags AS h JOIN memories AS m ON m.id = h.memory_id
    WHERE m.visibility = 'public'
    GROUP BY h.tag
    ON CONFLICT (tag) DO UPDATE
        SET last_used_at = greatest(hashtags.last_used_at, EXCLUDED.last_used_at)
    """,
    ),
)

_FOREIGN_KEYS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[]))
ORDER BY 1, 2
"""
# Indexes of the big tables that no foreign key from another table relies on; for one
# that backs a primary key or unique constraint, the constraint.
_INDEXES = """
SELECT i.indrelid::regclass::text, ix.relname, pg_get_indexdef(i.indexrelid),
    c.conname, pg_get_constraintdef(c.oid)
FROM pg_index AS i JOIN pg_class AS ix ON ix.oid = i.indexrelid
LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
    AND c.contype IN ('p', 'u', 'x')
WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT EXISTS (
    SELECT 1 FROM pg_constraint AS fk WHERE fk.contype = 'f' AND fk.conindid = i.indexrelid
        AND NOT fk.conrelid = ANY(CAST(:tables AS regclass[])))
ORDER BY 1, 2
"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Deferred:
    """What `defer` took off, to be put back exactly by `restore`."""

    foreign_keys: list[tuple[str, str, str]]
    indexes: list[tuple[str, str, str, str | None, str | None]]


async def is_empty(conn: AsyncConnection) -> bool:
    return await conn.scalar(text("SELECT NOT EXISTS (SELECT 1 FROM users)")) is True


async def defer(conn: AsyncConnection) -> Deferred:
    tables = {"tables": list(BIG_TABLES)}
    keys = [(t, n, d) for t, n, d in (await conn.execute(text(_FOREIGN_KEYS), tables)).all()]
    indexes = [
        (t, n, d, c, cd) for t, n, d, c, cd in (await conn.execute(text(_INDEXES), tables)).all()
    ]
    for table, trigger in DEFERRED_TRIGGERS:
        found = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_trigger"
                " WHERE tgrelid = CAST(:t AS regclass) AND tgname = :n"
            ),
            {"t": table, "n": trigger},
        )
        if found != 1:
            raise SeedError(f"no trigger {trigger} on {table}: the bulk rebuild is out of date")
        await conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {_quoted(trigger)}")
    for table, name, _ in keys:
        await conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {_quoted(name)}")
    for table, name, _, constraint, _ in indexes:
        if constraint is None:
            await conn.exec_driver_sql(f"DROP INDEX {_quoted(name)}")
        else:
            await conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {_quoted(constraint)}")
    return Deferred(keys, indexes)


async def restore(conn: AsyncConnection, deferred: Deferred) -> None:
    """Indexes first (keys need their referenced index), then keys, then triggers."""
    for table, _, definition, constraint, constraint_def in deferred.indexes:
        if constraint is None:
            await conn.exec_driver_sql(definition)
        else:
            await conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {_quoted(constraint)} {constraint_def}"
            )
    for table, name, definition in deferred.foreign_keys:
        await conn.exec_driver_sql(
            f"ALTER TABLE {table} ADD CONSTRAINT {_quoted(name)} {definition}"
        )
    for table, trigger in DEFERRED_TRIGGERS:
        await conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {_quoted(trigger)}")
