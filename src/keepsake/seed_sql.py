"""The seeder's statements: every row generated inside PostgreSQL from its number.

Python ships no rows: `generate_series` numbers them and a keyed hash of each number
(`hashint8extended`, stable for a given PostgreSQL) stands in for a random generator,
so the same numbers give the same rows on every run. Ids are `uuid3` of the row's name
(`pg_temp.seed_id('memory:17')`), the same as `keepsake.seed_content.seed_id` in Python.
The helpers live in `pg_temp`: they vanish with the session and never touch the schema.
"""

from __future__ import annotations

from keepsake.seed_content import NAMESPACE

# `(h & 2^52-1) / 2^52`: a uniform float in [0, 1) from 52 bits of the hash.
HELPERS = f"""
CREATE FUNCTION pg_temp.seed_uuid(h text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT (substr(h, 1, 12) || '3' || substr(h, 14, 3)
        || substr('89ab89ab89ab89ab', strpos('0123456789abcdef', substr(h, 17, 1)), 1)
        || substr(h, 18))::uuid
$$;
CREATE FUNCTION pg_temp.seed_id(name text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.seed_uuid(md5('\\x{NAMESPACE.hex}'::bytea || convert_to(name, 'UTF8')))
$$;
CREATE FUNCTION pg_temp.seed_unit(k bigint, salt bigint) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    SELECT (hashint8extended(k, salt) & 4503599627370495)::float8 / 4503599627370496
$$;
"""


class SeedError(Exception):
    """The database holds something the seeder cannot fill in."""


USERS = """
INSERT INTO users (id, email, email_verified_at, password_hash, handle, display_name, bio,
    note, is_private, created_at)
SELECT pg_temp.seed_id('user:' || n), h || '@' || :domain, joined, :password_hash, h,
    names[1 + floor(pg_temp.seed_unit(n, 1) * cardinality(names))::int] || ' '
        || left(names[1 + floor(pg_temp.seed_unit(n, 2) * cardinality(names))::int], 1) || '.',
    CASE WHEN pg_temp.seed_unit(n, 3) < 0.4
        THEN phrases[1 + floor(pg_temp.seed_unit(n, 4) * cardinality(phrases))::int]
        ELSE '' END,
    CASE WHEN pg_temp.seed_unit(n, 5) < 0.2
        THEN phrases[1 + floor(pg_temp.seed_unit(n, 6) * cardinality(phrases))::int]
        ELSE '' END,
    pg_temp.seed_unit(n, 7) < 0.05,
    joined
FROM generate_series(:lo, :hi - 1) AS n,
    CAST(:names AS text[]) AS names, CAST(:phrases AS text[]) AS phrases,
    LATERAL (
        SELECT 'seed_user_' || lpad(n::text, greatest(5, length(n::text)), '0') AS h,
            CAST(:now AS timestamptz) - interval '1 day' * (90 + 310 * pg_temp.seed_unit(n, 8))
                AS joined
    ) AS x
"""

# Out-degrees have a long tail (Pareto 1.5, mean 3, scaled to average `per_user`), and
# followees are drawn by a Zipf law over a fixed shuffle of accounts (rank × mult + shift
# mod users, mult coprime to users). Draws that repeat are dropped; whoever still falls
# short (someone following thousands saturates the popular accounts) is topped up from
# a run of `want + 1` consecutive accounts, which always holds enough new ones.
FOLLOWS = """
WITH f AS (
    SELECT n, CASE WHEN n = 0 AND :pin THEN :cap
        ELSE least(floor(power(1 - pg_temp.seed_unit(n, 11), -2.0 / 3) * :per_user / 3)::int,
            :cap) END AS want
    FROM generate_series(:lo, :hi - 1) AS n
), drawn AS (
    SELECT f.n, j, ((least(floor(power(CAST(:users AS float8),
            pg_temp.seed_unit(f.n * 4294967296 + j, 12)))::bigint, :users) - 1)
        * :mult + :shift) % :users AS followee
    FROM f, generate_series(1, f.want + f.want / 4 + 2) AS j
), zipf AS (
    SELECT p.n, p.followee FROM (
        SELECT d.n, d.followee, row_number() OVER (PARTITION BY d.n ORDER BY min(d.j)) AS k
        FROM drawn AS d WHERE d.followee <> d.n GROUP BY d.n, d.followee
    ) AS p JOIN f USING (n) WHERE p.k <= f.want
), short AS (
    SELECT f.n, f.want, f.want - count(z.followee) AS missing
    FROM f LEFT JOIN zipf AS z USING (n) GROUP BY f.n, f.want
    HAVING f.want > count(z.followee)
), filled AS (
    SELECT c.n, c.followee FROM (
        SELECT s.n, s.missing, b.followee, row_number() OVER (PARTITION BY s.n ORDER BY t) AS k
        FROM short AS s, generate_series(0, s.want) AS t,
            LATERAL (SELECT (floor(pg_temp.seed_unit(s.n, 13) * :users)::bigint + t) % :users
                AS followee) AS b
        WHERE b.followee <> s.n
            AND NOT EXISTS (SELECT 1 FROM zipf AS z WHERE z.n = s.n AND z.followee = b.followee)
    ) AS c WHERE c.k <= c.missing
)
INSERT INTO follows (id, follower_id, followee_id, state, created_at)
SELECT pg_temp.seed_id('follow:' || n || ':' || followee), pg_temp.seed_id('user:' || n),
    pg_temp.seed_id('user:' || followee), 'active',
    CAST(:now AS timestamptz)
        - interval '90 days' * pg_temp.seed_unit(n * 4294967296 + followee, 14)
FROM (SELECT n, followee FROM zipf UNION ALL SELECT n, followee FROM filled) AS p
"""

# Posting follows a flatter Zipf law (0.7: the busiest post daily, not thousands of
# times), by inverting its continuous CDF. Visibility: 45 % public, 45 % followers, 5 %
# close friends, 5 % only me; 1–3 clips; 0–3 hashtags, popular ones far more often.
MEMORY_PLAN = """
CREATE TEMP TABLE seed_memories AS
SELECT n, pg_temp.seed_id('memory:' || n) AS id,
    pg_temp.seed_id('user:' || ((least(floor(power((power(CAST(:users AS float8), 0.3) - 1)
        * pg_temp.seed_unit(n, 15) + 1, 1 / 0.3))::bigint, :users) - 1) * :mult + :shift)
        % :users) AS author_id,
    CAST(CASE WHEN v < 0.45 THEN 'public' WHEN v < 0.9 THEN 'followers'
        WHEN v < 0.95 THEN 'close_friends' ELSE 'only_me' END AS memory_visibility)
        AS visibility,
    CAST(:now AS timestamptz) - interval '90 days' * power(pg_temp.seed_unit(n, 17), 2)
        AS created_at,
    CASE WHEN c < 0.6 THEN 1 WHEN c < 0.9 THEN 2 ELSE 3 END AS clips,
    phrases[1 + floor(pg_temp.seed_unit(n, 19) * cardinality(phrases))::int] AS phrase,
    ARRAY(
        SELECT DISTINCT tags[least(floor(1 / (1 - pg_temp.seed_unit(n * 16 + j, 20)))::int,
            cardinality(tags))]
        FROM generate_series(1, floor(pg_temp.seed_unit(n, 21) * 4)::int) AS j ORDER BY 1
    ) AS tags
FROM generate_series(0, :memories - 1) AS n,
    CAST(:phrases AS text[]) AS phrases, CAST(:tags AS text[]) AS tags,
    LATERAL (SELECT pg_temp.seed_unit(n, 16) AS v, pg_temp.seed_unit(n, 18) AS c) AS x
"""

MEMORIES = """
INSERT INTO memories (id, author_id, status, caption, visibility, duration_s, created_at,
    updated_at)
SELECT id, author_id, 'ready',
    phrase || CASE WHEN cardinality(tags) > 0 THEN ' #' || array_to_string(tags, ' #')
        ELSE '' END,
    visibility, :clip_seconds * clips, created_at, created_at
FROM seed_memories WHERE n >= :lo AND n < :hi
"""

# Originals are dangling, as for a real ready memory: the pipeline deletes them.
CLIPS = """
INSERT INTO clips (id, memory_id, position, upload_id, source_key, source_content_type,
    duration_s, width, height, video_key, poster_key)
SELECT c.id, s.id, p, pg_temp.seed_id('upload:' || s.n || ':' || p), 'uploads/seed/' || c.id,
    'video/mp4', :clip_seconds, :width, :height, 'seed/clip-' || c.variant || '.mp4',
    'seed/clip-' || c.variant || '.jpg'
FROM seed_memories AS s, generate_series(0, s.clips - 1) AS p,
    LATERAL (SELECT pg_temp.seed_id('clip:' || s.n || ':' || p) AS id,
        floor(pg_temp.seed_unit(s.n * 16 + p, 22) * :variants)::int AS variant) AS c
WHERE s.n >= :lo AND s.n < :hi
"""

HASHTAGS = """
INSERT INTO memory_hashtags (memory_id, tag, created_at)
SELECT s.id, t.tag, s.created_at FROM seed_memories AS s, unnest(s.tags) AS t(tag)
WHERE s.n >= :lo AND s.n < :hi
"""

FANS = """
CREATE TEMP TABLE seed_fans AS
SELECT followee_id AS author_id, follower_id AS fan_id,
    (row_number() OVER (PARTITION BY followee_id ORDER BY follower_id) - 1)::int AS i
FROM follows WHERE state = 'active';
CREATE TEMP TABLE seed_fan_counts AS
SELECT author_id, count(*)::int AS fans FROM seed_fans GROUP BY author_id;
"""

# Only memories others may clap for, and only by people who may see them: anyone for a
# public memory of a public account, otherwise an active follower. A few memories gather
# most claps (Zipf 0.8 over a shuffle). A memory only followers see takes at most its
# author's followers (most authors have few); what those cannot take goes to the public
# ones, pro rata. Each memory's clappers are distinct by construction (a run of its
# author's followers, then of accounts), mostly followers. 25 % more candidates than
# asked (rounded at random, so that a million small shares do not round up), then the
# asked number of distinct pairs, at random.
CLAPS = """
WITH open_ AS (
    SELECT s.n, m.id, m.author_id, m.created_at, coalesce(c.fans, 0) AS fans,
        (m.visibility = 'public' AND NOT u.is_private) AS anyone,
        row_number() OVER (ORDER BY hashint8extended(s.n, 23)) AS rank
    FROM seed_memories AS s JOIN memories AS m ON m.id = s.id
    JOIN users AS u ON u.id = m.author_id
    LEFT JOIN seed_fan_counts AS c ON c.author_id = m.author_id
    WHERE m.status = 'ready' AND m.visibility IN ('public', 'followers')
), wanted AS (
    SELECT o.*, :total * 1.25 * power(o.rank, -0.8) / sum(power(o.rank, -0.8)) OVER () AS want,
        pg_temp.seed_unit(o.n, 29) AS jitter
    FROM open_ AS o
), restricted AS (
    SELECT w.*, sum(CASE WHEN NOT w.anyone THEN least(floor(w.want + w.jitter), w.fans) END)
            OVER () AS taken,
        sum(CASE WHEN w.anyone THEN w.want END) OVER () AS open_want
    FROM wanted AS w
), sized AS (
    SELECT r.*, CASE WHEN r.anyone THEN least(floor(greatest(0, :total * 1.25 - r.taken)
            * r.want / r.open_want + r.jitter)::int, :users - 1)
        ELSE least(floor(r.want + r.jitter)::int, r.fans) END AS c
    FROM restricted AS r
), split AS (
    SELECT z.*, CASE WHEN z.anyone THEN least(z.fans, ceil(0.8 * z.c)::int) ELSE z.c END
        AS from_fans
    FROM sized AS z
), candidates AS (
    SELECT z.id AS memory_id, z.author_id, z.created_at, z.n, t,
        CASE WHEN t < z.from_fans THEN f.fan_id ELSE pg_temp.seed_id('user:'
            || ((floor(pg_temp.seed_unit(z.n, 24) * :users)::bigint + t) % :users)) END
            AS user_id
    FROM split AS z CROSS JOIN generate_series(0, z.c - 1) AS t
    LEFT JOIN seed_fans AS f ON t < z.from_fans AND f.author_id = z.author_id
        AND f.i = (floor(pg_temp.seed_unit(z.n, 25) * z.fans)::int + t) % greatest(z.fans, 1)
), distinct_ AS (
    SELECT DISTINCT ON (memory_id, user_id) *, hashint8extended(n * 4294967296 + t, 26) AS k
    FROM candidates WHERE user_id <> author_id ORDER BY memory_id, user_id, t
)
INSERT INTO claps (memory_id, user_id, count, created_at, updated_at)
SELECT memory_id, user_id,
    least(50, floor(power(1 - pg_temp.seed_unit(k, 27), -1 / 1.3)))::int, at, at
FROM (
    SELECT *, created_at + (CAST(:now AS timestamptz) - created_at)
        * power(pg_temp.seed_unit(k, 28), 2) AS at
    FROM distinct_ ORDER BY k LIMIT :total
) AS chosen
"""
