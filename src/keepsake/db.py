"""The database engine, the per-request session, and the declarative base."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import DateTime, Enum, MetaData, func
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from keepsake.errors import AppError

# Stable constraint names, so Alembic migrations can refer to them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


def enum_type(cls: type[enum.StrEnum], name: str) -> Enum:
    """A PostgreSQL enum storing the members' values (what the API shows)."""
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


def sqlalchemy_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and pin the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    raise ValueError("only PostgreSQL URLs are supported")


def libpq_url(url: str) -> str:
    """The same database as a URL psycopg connects to directly, without SQLAlchemy."""
    return "postgresql://" + sqlalchemy_url(url).removeprefix("postgresql+psycopg://")


def create_engine(url: str, *, pool_size: int) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every request. A connection broken by a
        # failover fails one request, and SQLAlchemy then discards the whole pool.
        pool_recycle=1800,
        # Times come back in UTC whatever the server's default, as the API writes them.
        connect_args={"options": "-c TimeZone=UTC"},
        # A failing statement's error would otherwise carry its parameters (password
        # hashes, emails, tokens) into the logs.
        hide_parameters=True,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # A Session class of its own: listeners on it (`auth_cache.forget_on_commit`) then
    # belong to this factory, not to every app in the process.
    own = type("KeepsakeSession", (Session,), {})
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, sync_session_class=own
    )


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the route returns, rolled back on error."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session:
        try:
            yield session
        except AppError as exc:
            await (session.commit() if exc.commit else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]
