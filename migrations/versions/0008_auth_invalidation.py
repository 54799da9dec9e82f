"""notify API processes when a session or an account stops being usable

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Each API process caches which access tokens are good (`keepsake.accounts.auth_cache`)
and listens on the `keepsake_auth` channel to forget them. Triggers rather than calls in
the services: every path that revokes a session or changes an account (log-out, refresh
reuse, password reset, deletion and its purge, suspension, the admin CLI, raw SQL) is
covered without remembering to notify, and PostgreSQL delivers the notification only
when that transaction commits. The payload names the row: `s:<session id>` or
`u:<user id>`; a TRUNCATE of either table sends `*` (forget everything).

The `WHEN` clauses keep the frequent updates silent: profile edits, and refresh-token
rotation, which touches `last_used_at` and pushes `expires_at` later. A later expiry
never makes a cached token wrong (the cache keeps the earlier one, so it only checks
again sooner); only an earlier one can.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # TG_ARGV[0] is the payload's prefix; the id never changes on UPDATE, so OLD serves
    # both. A TRUNCATE has no rows to name: `*` makes every process forget everything.
    op.execute(
        """
        CREATE FUNCTION keepsake_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('keepsake_auth', '*');
            ELSE
                PERFORM pg_notify('keepsake_auth', TG_ARGV[0] || OLD.id::text);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for table in ("sessions", "users"):
        op.execute(
            f"CREATE TRIGGER {table}_auth_truncated AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION keepsake_auth_notify()"
        )
    op.execute(
        """
        CREATE TRIGGER sessions_auth_changed
        AFTER UPDATE OF revoked_at, expires_at ON sessions FOR EACH ROW
        WHEN (
            OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
            OR NEW.expires_at < OLD.expires_at
        )
        EXECUTE FUNCTION keepsake_auth_notify('s:')
        """
    )
    op.execute(
        """
        CREATE TRIGGER sessions_auth_deleted
        AFTER DELETE ON sessions FOR EACH ROW
        EXECUTE FUNCTION keepsake_auth_notify('s:')
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_auth_changed
        AFTER UPDATE OF status, role ON users FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.role IS DISTINCT FROM NEW.role)
        EXECUTE FUNCTION keepsake_auth_notify('u:')
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_auth_deleted
        AFTER DELETE ON users FOR EACH ROW
        EXECUTE FUNCTION keepsake_auth_notify('u:')
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_auth_truncated ON users")
    op.execute("DROP TRIGGER sessions_auth_truncated ON sessions")
    op.execute("DROP TRIGGER users_auth_deleted ON users")
    op.execute("DROP TRIGGER users_auth_changed ON users")
    op.execute("DROP TRIGGER sessions_auth_deleted ON sessions")
    op.execute("DROP TRIGGER sessions_auth_changed ON sessions")
    op.execute("DROP FUNCTION keepsake_auth_notify()")
