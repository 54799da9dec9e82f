"""The job queue's schema (procrastinate), in the same database as everything else.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Fresh databases get procrastinate's full schema for the version pinned in uv.lock.
When procrastinate is upgraded, its release notes name SQL migration files; each
becomes a new Alembic revision that runs that file.
"""

from __future__ import annotations

import psycopg
from alembic import op
from procrastinate.schema import SchemaManager

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Straight to psycopg without parameters: the schema's `%` signs are not placeholders.
    connection = op.get_bind().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
            LOOP EXECUTE format('DROP TABLE %I CASCADE', item.tablename); END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP EXECUTE format('DROP FUNCTION %s CASCADE', item.signature); END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
                          AND t.typtype IN ('e', 'c')
            LOOP EXECUTE format('DROP TYPE %I CASCADE', item.typname); END LOOP;
        END $$;
        """
    )
