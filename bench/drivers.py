"""Compare the two async PostgreSQL drivers through SQLAlchemy on Keepsake's query shapes.

Run: `.venv/bin/python bench/drivers.py` (needs the `bench` dependency group). It starts
a throw-away embedded PostgreSQL, seeds users, and times the same SQLAlchemy Core queries
through `postgresql+psycopg` and `postgresql+asyncpg`, interleaved, printing queries/s and
the ratio. Not a test: its figures justify the driver choice.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from keepsake.accounts.models import User
from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade

USERS = 2_000
QUERIES = 3_000
ROUNDS = 3


async def seed(engine: AsyncEngine) -> None:
    rows = [
        {
            "id": uuid.uuid4(),
            "email": f"u{n}@example.com",
            "handle": f"user{n}",
            "display_name": f"User {n}",
        }
        for n in range(USERS)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(User), rows)


async def run(engine: AsyncEngine) -> float:
    """Queries per second for a profile lookup by handle, the API's commonest read."""
    query = select(User).where(func.lower(User.handle) == func.lower("user42"))
    started = time.perf_counter()
    async with engine.connect() as conn:
        for _ in range(QUERIES):
            (await conn.execute(query)).one()
    return QUERIES / (time.perf_counter() - started)


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="keepsake-bench-"))
    postgres = EmbeddedPostgres(folder)
    with postgres.running() as url:
        upgrade(url)
        path = url.removeprefix("postgresql://")
        engines = {
            "psycopg": create_async_engine(f"postgresql+psycopg://{path}"),
            "asyncpg": create_async_engine(f"postgresql+asyncpg://{path}"),
        }
        await seed(engines["psycopg"])
        results: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(ROUNDS):
            for name, engine in engines.items():
                results[name].append(await run(engine))
        for engine in engines.values():
            await engine.dispose()
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, value in medians.items():
        print(f"{name:8} {value:8.0f} queries/s (median of {ROUNDS} rounds of {QUERIES})")
    print(f"asyncpg / psycopg = {medians['asyncpg'] / medians['psycopg']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
