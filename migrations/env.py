"""Alembic environment: the URL comes from the caller (`keepsake migrate`, tests)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool, text

from keepsake.db import sqlalchemy_url
from keepsake.models import metadata

# Any constant shared by every Keepsake process: several pods starting at once against
# one database then migrate one after the other instead of racing.
MIGRATION_LOCK = 7_340_032_001

url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("run migrations through `keepsake migrate`, which sets the database URL")


def include_object(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
    # The job queue's tables belong to procrastinate's own schema (migration 0003).
    return not (type_ == "table" and name is not None and name.startswith("procrastinate"))


engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()
engine.dispose()
