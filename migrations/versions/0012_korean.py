"""a language per account; people and hashtag search that understand Hangul

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-05

People search indexes names with an inverted index of one- and two-character grams
(`user_search_grams`) rather than `pg_trgm`: a Korean name is usually two or three
syllables and the common query one or two, which trigrams cannot serve. Each posting
carries the handle's sort key, so a gram's postings come out of the primary key already
in result order and a page stops reading after `limit` matches. Longer queries walk
their first bigram's postings and probe the others by primary key, then recheck the
whole query against the folded name.

`search_name` (NFKC, lower-cased, blanks collapsed) and `search_initials` (the
initial consonant of each Hangul syllable, so `ㅊㄴ` finds `첫눈`) and the grams of
both are kept by triggers, so every path that writes `users` (sign-up, providers,
`PATCH /v1/me`, the seeder's raw SQL, the admin CLI) keeps search right.

`hashtags` holds each tag once with when a public memory last used it: the hashtag
search reads prefixes of it in C order (Hangul included) and never counts.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE users
            ADD COLUMN locale varchar(8) NOT NULL DEFAULT 'en',
            ADD COLUMN searchable boolean NOT NULL DEFAULT true,
            ADD COLUMN search_name text NOT NULL DEFAULT '',
            ADD COLUMN search_initials text NOT NULL DEFAULT '';

        CREATE FUNCTION keepsake_search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT btrim(regexp_replace(lower(normalize(value, NFKC)), '\\s+', ' ', 'g'))
        $$;

        -- 588 = 21 vowels x 28 finals: the syllables of one initial consonant in a row.
        CREATE FUNCTION keepsake_search_initials(folded text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(string_agg(
                substr('ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ', (ascii(c) - 44032) / 588 + 1, 1),
                '' ORDER BY i), '')
            FROM unnest(string_to_array(folded, NULL)) WITH ORDINALITY AS chars(c, i)
            WHERE ascii(c) BETWEEN 44032 AND 55203
        $$;

        CREATE TABLE user_search_grams (
            gram text COLLATE "C" NOT NULL,
            handle_key text COLLATE "C" NOT NULL,
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (gram, handle_key, user_id)
        );
        CREATE INDEX ix_user_search_grams_user ON user_search_grams (user_id);

        -- Handle prefixes in the same C order as the grams' handle keys.
        CREATE INDEX ix_users_handle_key ON users ((lower(handle) COLLATE "C"));

        CREATE FUNCTION keepsake_search_fields() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search_name := keepsake_search_fold(NEW.display_name);
            NEW.search_initials := keepsake_search_initials(NEW.search_name);
            RETURN NEW;
        END $$;

        CREATE TRIGGER users_search_fields
            BEFORE INSERT OR UPDATE OF display_name ON users
            FOR EACH ROW EXECUTE FUNCTION keepsake_search_fields();

        CREATE FUNCTION keepsake_search_grams() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM user_search_grams WHERE user_id = NEW.id;
            END IF;
            INSERT INTO user_search_grams (gram, handle_key, user_id)
            SELECT DISTINCT substr(source, i, n), lower(NEW.handle), NEW.id
            FROM unnest(ARRAY[NEW.search_name, NEW.search_initials]) AS sources(source),
                 generate_series(1, length(source)) AS i,
                 (VALUES (1), (2)) AS lengths(n)
            WHERE i + n - 1 <= length(source) AND btrim(substr(source, i, n)) <> '';
            RETURN NULL;
        END $$;

        CREATE TRIGGER users_search_grams_insert
            AFTER INSERT ON users
            FOR EACH ROW EXECUTE FUNCTION keepsake_search_grams();
        CREATE TRIGGER users_search_grams_update
            AFTER UPDATE OF display_name, handle ON users
            FOR EACH ROW
            WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name
                  OR OLD.handle IS DISTINCT FROM NEW.handle)
            EXECUTE FUNCTION keepsake_search_grams();

        UPDATE users SET display_name = display_name;
        INSERT INTO user_search_grams (gram, handle_key, user_id)
        SELECT DISTINCT substr(source, i, n), lower(u.handle), u.id
        FROM users AS u,
             unnest(ARRAY[u.search_name, u.search_initials]) AS sources(source),
             generate_series(1, length(source)) AS i,
             (VALUES (1), (2)) AS lengths(n)
        WHERE i + n - 1 <= length(source) AND btrim(substr(source, i, n)) <> ''
        ON CONFLICT DO NOTHING;

        CREATE TABLE hashtags (
            tag text COLLATE "C" PRIMARY KEY,
            last_used_at timestamptz NOT NULL
        );

        CREATE FUNCTION keepsake_hashtag_used() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- Only a public memory's tags are offered to everyone: a tag typed on a
            -- memory for friends or for oneself may say more than its author meant.
            INSERT INTO hashtags (tag, last_used_at)
            SELECT NEW.tag, NEW.created_at
            FROM memories WHERE id = NEW.memory_id AND visibility = 'public'
            ON CONFLICT (tag) DO UPDATE
                SET last_used_at = greatest(hashtags.last_used_at, EXCLUDED.last_used_at);
            RETURN NULL;
        END $$;

        CREATE TRIGGER memory_hashtags_used
            AFTER INSERT ON memory_hashtags
            FOR EACH ROW EXECUTE FUNCTION keepsake_hashtag_used();

        INSERT INTO hashtags (tag, last_used_at)
        SELECT h.tag, max(h.created_at)
        FROM memory_hashtags AS h JOIN memories AS m ON m.id = h.memory_id
        WHERE m.visibility = 'public'
        GROUP BY h.tag;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER memory_hashtags_used ON memory_hashtags;
        DROP FUNCTION keepsake_hashtag_used();
        DROP TABLE hashtags;
        DROP TRIGGER users_search_grams_update ON users;
        DROP TRIGGER users_search_grams_insert ON users;
        DROP FUNCTION keepsake_search_grams();
        DROP TRIGGER users_search_fields ON users;
        DROP FUNCTION keepsake_search_fields();
        DROP INDEX ix_users_handle_key;
        DROP TABLE user_search_grams;
        DROP FUNCTION keepsake_search_initials(text);
        DROP FUNCTION keepsake_search_fold(text);
        ALTER TABLE users
            DROP COLUMN search_initials,
            DROP COLUMN search_name,
            DROP COLUMN searchable,
            DROP COLUMN locale;
        """
    )
