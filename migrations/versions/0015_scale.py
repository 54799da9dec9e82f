"""the home timeline, filled by triggers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

Home used to merge every followed author's newest memories on each read, so its cost
grew with the number of people followed (measured: 4,490 memories and 37,000 buffers
read for a page of 20 when following 400). `home_timeline` holds each reader's
candidates, written when they happen, so a page reads about as many rows as it shows.

The triggers keep it whole whatever path writes (the API, the job worker, the seeder,
raw SQL):

- a memory inserted ready, or becoming ready, goes to its author and each active
  follower (one statement per INSERT statement, so a bulk insert fans out in bulk);
  but an author with more than 10,000 active followers is marked in
  `home_wide_authors` instead, and home reads their newest memories at read time (one
  index scan per such author the reader follows), so a post costs them no 10,000 writes;
- a follow that becomes active brings the followee's newest 100 ready memories
  (inserted active, or a request approved: ON CONFLICT DO UPDATE fires the UPDATE one);
- a follow that ends (unfollow, denial, block, account deletion) takes all of the
  followee's memories out of the follower's timeline.

Visibility, hiding, suspension, blocks and mutes are not written here: the home
statement checks the full privacy policy on every row it reads, so a row left here is a
candidate, never a permission.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_timeline",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memory_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_home_timeline_memory_id_memories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_home_timeline_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "owner_id", "created_at", "memory_id", name=op.f("pk_home_timeline")
        ),
    )
    op.create_index("ix_home_timeline_memory", "home_timeline", ["memory_id"])
    op.create_table(
        "home_wide_authors",
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_home_wide_authors_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("author_id", name=op.f("pk_home_wide_authors")),
    )
    op.execute(
        """
        -- A function, not a literal, so that a test can lower it.
        CREATE FUNCTION keepsake_home_fanout_limit() RETURNS integer
        LANGUAGE sql STABLE AS 'SELECT 10000';

        -- Whether the author's memories are read at home time rather than fanned out;
        -- an author past the limit is marked once, and stays marked.
        CREATE FUNCTION keepsake_home_is_wide(author uuid) RETURNS boolean
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM home_wide_authors WHERE author_id = author) THEN
                RETURN true;
            END IF;
            IF (
                SELECT count(*) FROM (
                    SELECT 1 FROM follows WHERE followee_id = author AND state = 'active'
                    LIMIT keepsake_home_fanout_limit() + 1
                ) AS followers
            ) <= keepsake_home_fanout_limit() THEN
                RETURN false;
            END IF;
            INSERT INTO home_wide_authors (author_id) VALUES (author) ON CONFLICT DO NOTHING;
            RETURN true;
        END $$;

        CREATE FUNCTION keepsake_home_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- Materialized: the check runs once per memory, not once per follower.
            WITH ready AS MATERIALIZED (
                SELECT n.id, n.author_id, n.created_at, keepsake_home_is_wide(n.author_id) AS wide
                FROM new_memories AS n WHERE n.status = 'ready'
            )
            INSERT INTO home_timeline (owner_id, created_at, memory_id)
            SELECT f.follower_id, r.created_at, r.id
            FROM ready AS r
            JOIN follows AS f ON f.followee_id = r.author_id AND f.state = 'active'
            WHERE NOT r.wide
            UNION ALL
            SELECT r.author_id, r.created_at, r.id FROM ready AS r
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$;

        CREATE TRIGGER memories_home_inserted
            AFTER INSERT ON memories REFERENCING NEW TABLE AS new_memories
            FOR EACH STATEMENT EXECUTE FUNCTION keepsake_home_inserted();

        CREATE FUNCTION keepsake_home_ready() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO home_timeline (owner_id, created_at, memory_id)
            VALUES (NEW.author_id, NEW.created_at, NEW.id)
            ON CONFLICT DO NOTHING;
            IF NOT keepsake_home_is_wide(NEW.author_id) THEN
                INSERT INTO home_timeline (owner_id, created_at, memory_id)
                SELECT f.follower_id, NEW.created_at, NEW.id
                FROM follows AS f
                WHERE f.followee_id = NEW.author_id AND f.state = 'active'
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$;

        CREATE TRIGGER memories_home_ready
            AFTER UPDATE OF status ON memories
            FOR EACH ROW WHEN (NEW.status = 'ready' AND OLD.status <> 'ready')
            EXECUTE FUNCTION keepsake_home_ready();

        CREATE FUNCTION keepsake_home_followed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO home_timeline (owner_id, created_at, memory_id)
            SELECT NEW.follower_id, m.created_at, m.id
            FROM memories AS m
            WHERE m.author_id = NEW.followee_id AND m.status = 'ready'
            ORDER BY m.created_at DESC, m.id DESC
            LIMIT 100
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$;

        CREATE FUNCTION keepsake_home_follows_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO home_timeline (owner_id, created_at, memory_id)
            SELECT n.follower_id, m.created_at, m.id
            FROM new_follows AS n
            CROSS JOIN LATERAL (
                SELECT m.created_at, m.id FROM memories AS m
                WHERE m.author_id = n.followee_id AND m.status = 'ready'
                ORDER BY m.created_at DESC, m.id DESC
                LIMIT 100
            ) AS m
            WHERE n.state = 'active'
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$;

        -- Per statement, so the seeder's bulk inserts run it once per batch.
        CREATE TRIGGER follows_home_inserted
            AFTER INSERT ON follows REFERENCING NEW TABLE AS new_follows
            FOR EACH STATEMENT EXECUTE FUNCTION keepsake_home_follows_inserted();
        CREATE TRIGGER follows_home_activated
            AFTER UPDATE OF state ON follows
            FOR EACH ROW WHEN (NEW.state = 'active' AND OLD.state <> 'active')
            EXECUTE FUNCTION keepsake_home_followed();

        CREATE FUNCTION keepsake_home_unfollowed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- Through the followee's memories: primary-key probes, however long the
            -- follower's timeline is.
            DELETE FROM home_timeline AS t
            USING memories AS m
            WHERE m.author_id = OLD.followee_id
                AND t.owner_id = OLD.follower_id
                AND t.created_at = m.created_at
                AND t.memory_id = m.id;
            RETURN NULL;
        END $$;

        CREATE TRIGGER follows_home_deleted
            AFTER DELETE ON follows
            FOR EACH ROW WHEN (OLD.state = 'active')
            EXECUTE FUNCTION keepsake_home_unfollowed();
        CREATE TRIGGER follows_home_deactivated
            AFTER UPDATE OF state ON follows
            FOR EACH ROW WHEN (OLD.state = 'active' AND NEW.state <> 'active')
            EXECUTE FUNCTION keepsake_home_unfollowed();

        INSERT INTO home_timeline (owner_id, created_at, memory_id)
        SELECT f.follower_id, m.created_at, m.id
        FROM follows AS f JOIN memories AS m ON m.author_id = f.followee_id
        WHERE f.state = 'active' AND m.status = 'ready'
        UNION ALL
        SELECT m.author_id, m.created_at, m.id FROM memories AS m WHERE m.status = 'ready'
        ON CONFLICT DO NOTHING;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER follows_home_deactivated ON follows;
        DROP TRIGGER follows_home_deleted ON follows;
        DROP FUNCTION keepsake_home_unfollowed();
        DROP TRIGGER follows_home_activated ON follows;
        DROP TRIGGER follows_home_inserted ON follows;
        DROP FUNCTION keepsake_home_follows_inserted();
        DROP FUNCTION keepsake_home_followed();
        DROP TRIGGER memories_home_ready ON memories;
        DROP FUNCTION keepsake_home_ready();
        DROP TRIGGER memories_home_inserted ON memories;
        DROP FUNCTION keepsake_home_inserted();
        DROP FUNCTION keepsake_home_is_wide(uuid);
        DROP FUNCTION keepsake_home_fanout_limit();
        """
    )
    op.drop_table("home_wide_authors")
    op.drop_index("ix_home_timeline_memory", table_name="home_timeline")
    op.drop_table("home_timeline")
