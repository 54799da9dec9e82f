"""Hot reads that need no transaction: SQL compiled once, run on autocommit connections.

A feed page is one SELECT, and PostgreSQL runs a single statement on one snapshot by
itself. Through the ORM session the same page also costs a BEGIN and a COMMIT round trip
and SQLAlchemy's work on every execution of a large statement (its cache key, result
processing): measured on a 20-card home page, 0.51 ms of client CPU through SQLAlchemy
against 0.18 ms for the same SQL on a plain psycopg connection. So these statements are
still written with SQLAlchemy (composed with the privacy policy's clauses), compiled to
SQL once at import, and run with psycopg on a small pool of autocommit connections.
On the pool they go in PostgreSQL's own `$1` form through a raw cursor: psycopg parses
a `%(name)s` statement for its placeholders on every run when it is longer than its
cache takes (4,096 characters: the home page's is longer), 0.1 ms a page.

A read is written once, against `Reads`: the pool (`ReadDb`) answers it outside any
transaction (feed pages, one memory, the signed-in viewer's session), and `SessionReads`
answers the same SQL inside a request's ORM transaction, where it must see that
transaction's own writes. The caller picks the connection.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson
from psycopg import AsyncConnection, AsyncRawCursor
from psycopg.rows import namedtuple_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import ClauseElement, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import ExpandedState, SQLCompiler

from keepsake.observability.tracing import StatementSpans

# `Dialect` types its construction without arguments; every dialect takes a paramstyle.
_dialect: Callable[..., Dialect] = make_url("postgresql+psycopg://").get_dialect()
_DIALECT = _dialect()
_RAW_DIALECT = _dialect(paramstyle="numeric_dollar")


@dataclass(frozen=True, slots=True)
class ReadQuery:
    """A statement's SQL and its fixed parameters; each run supplies the rest by name.

    `sql` takes them by name (`%(name)s`), for a session's connection; `raw_sql` takes
    them by position (`$1`), in `order`, for the pool's raw cursors."""

    sql: str
    fixed: dict[str, Any]
    raw_sql: str
    order: tuple[str, ...]

    @classmethod
    def compile(cls, statement: ClauseElement, *names: str) -> ReadQuery:
        """`names` are the parameters each run supplies; every other one is fixed here."""
        named = _expanded(statement, names)
        raw = _expanded(statement, names, dialect=_RAW_DIALECT)
        fixed = {
            # psycopg sends text for PostgreSQL to cast, as SQLAlchemy's enum types would.
            name: value.value if isinstance(value, enum.Enum) else value
            for name, value in named.parameters.items()
            if name not in names
        }
        if raw.positiontup is None or set(raw.positiontup) != set(named.parameters):
            raise TypeError("the two forms of a ReadQuery must take the same parameters")
        return cls(named.statement, fixed, raw.statement, tuple(raw.positiontup))

    async def all(self, db: ReadDb, **values: Any) -> list[NamedTuple]:
        params = self.fixed | values
        args = [params[name] for name in self.order]
        # `getconn`, not `connection()`: that one also enters the connection's context,
        # whose `commit` on the way out takes the connection's lock even in autocommit,
        # with nothing to commit. `putconn` still replaces a connection that a failed or
        # cancelled statement left unusable.
        conn = await db.pool.getconn()
        try:
            cursor = AsyncRawCursor(conn, row_factory=namedtuple_row)
            with db.spans.statement(self.sql) if db.spans else _UNTRACED:
                await cursor.execute(self.raw_sql, args)
                return await cursor.fetchall()
        finally:
            await db.pool.putconn(conn)


def _expanded(
    statement: ClauseElement, names: tuple[str, ...], *, dialect: Dialect = _DIALECT
) -> ExpandedState:
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError("ReadQuery takes SQL statements")
    # Expanding `IN` lists of the statement's own are constants: they expand once.
    return compiled.construct_expanded_state(dict.fromkeys(names))


ReadPool = AsyncConnectionPool[AsyncConnection[Any]]
_UNTRACED = nullcontext()


class Reads(Protocol):
    """Where a `ReadQuery` runs; rows come back as sequences of the selected columns."""

    async def rows(self, query: ReadQuery, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """`query`'s rows with `params` (the names `ReadQuery.compile` was given)."""
        ...


@dataclass(frozen=True, slots=True)
class ReadDb:
    """The autocommit pool, and the spans its statements make in traced requests."""

    pool: ReadPool
    spans: StatementSpans | None

    async def rows(self, query: ReadQuery, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        return await query.all(self, **params)


@dataclass(frozen=True, slots=True)
class SessionReads:
    """`Reads` inside the session's transaction: the same SQL on the session's connection,
    as the driver's own statement (SQLAlchemy neither compiles it again nor processes its
    rows, and its events still see it)."""

    session: AsyncSession

    async def rows(self, query: ReadQuery, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        connection = await self.session.connection()
        result = await connection.exec_driver_sql(query.sql, {**query.fixed, **params})
        return result.all()


async def _configure(conn: AsyncConnection[Any]) -> None:
    # JSON columns (a card's clips) parse in C.
    set_json_loads(orjson.loads, conn)


def read_pool(conninfo: str, *, size: int, timeout: float = 5.0) -> ReadPool:
    """Autocommit connections for `ReadQuery`; opened by the app's lifespan.

    A request waits at most `timeout` seconds for a connection, then gets `PoolTimeout`,
    answered 503: a page is not worth waiting longer for.
    """
    return AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=size,
        kwargs={
            "autocommit": True,
            # Found in pg_stat_activity; and times in UTC, as the API writes them.
            "application_name": "keepsake-reads",
            # Each statement here is prepared once per connection and planned once: left to
            # choose, PostgreSQL re-planned explore and hashtag pages on every run, and
            # planning them took twice as long as running them (1.9 ms against 0.6 ms a
            # page at 1,000,000 memories). tests/feeds/test_plans.py checks these plans.
            "options": "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan",
        },
        configure=_configure,
        timeout=timeout,
        open=False,
    )
