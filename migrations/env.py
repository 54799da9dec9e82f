"""Alembic environment: the URL comes from the caller (`keepsake migrate`, tests)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from keepsake.db import sqlalchemy_url
from keepsake.models import metadata

url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("run migrations through `keepsake migrate`, which sets the database URL")

engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
