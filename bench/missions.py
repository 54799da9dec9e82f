"""Missions: the entry check on the memory-ready path, and the entries list under load.

Run: `.venv/bin/python bench/missions.py [--seconds 5] [--entries 1000]`. On a throw-away
embedded PostgreSQL seeded like `bench/harness.py` (`keepsake.seed`), it

1. times `missions.entries.enter_memory` in-process, counting its SQL statements: for a
   memory that carries no mission's tag (the common case: one statement), and for one
   that becomes an entry (its award written in the same transaction);
2. serves Keepsake (`keepsake serve --no-worker`, one process, PostgreSQL on its core)
   and loads `GET /v1/missions/{id}/entries` with `wrk` on the other core, beside the
   home feed measured in the same run as the baseline.

Targets 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness import seed_database, sign_in
from loadgen import Target, ensure_wrk, wrk
from serving import served_keepsake
from sqlalchemy import event, select, text

from keepsake.db import create_engine, sessionmaker
from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.memories.models import Memory, MemoryHashtag
from keepsake.migrate import upgrade
from keepsake.missions.entries import enter_memory
from keepsake.missions.models import Mission
from keepsake.security import utcnow
from keepsake.seed import SeedPlan

TAG = "benchmission"


async def _entry_check(url: str, entries: int) -> tuple[uuid.UUID, dict[str, dict[str, float]]]:
    """Make a mission, enter `entries` memories, and time both paths of the check."""
    engine = create_engine(url, pool_size=2)
    make = sessionmaker(engine)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    now = utcnow()
    mission = Mission(
        id=uuid.uuid4(),
        title="Bench",
        description="",
        hashtag=TAG,
        starts_at=now - timedelta(days=400),
        ends_at=now + timedelta(days=1),
        winners_count=3,
        entry_points=10,
        winner_points=100,
    )
    async with make() as db, db.begin():
        db.add(mission)
        # One memory of each of the first authors carries the tag: each becomes an entry.
        await db.execute(
            text(
                "INSERT INTO memory_hashtags (memory_id, tag, created_at)"
                " SELECT DISTINCT ON (author_id) id, :tag, created_at FROM memories"
                " WHERE status = 'ready' AND visibility = 'public'"
                " ORDER BY author_id, created_at LIMIT :n"
            ),
            {"tag": TAG, "n": entries},
        )
    async with make() as db:
        carries = select(MemoryHashtag.memory_id).where(MemoryHashtag.tag == TAG)
        tagged = list(await db.scalars(select(Memory).where(Memory.id.in_(carries))))
        untagged = list(
            await db.scalars(select(Memory).where(Memory.id.not_in(carries)).limit(len(tagged)))
        )
    figures: dict[str, dict[str, float]] = {}
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    for name, memories in (("no mission tag", untagged), ("becomes an entry", tagged)):
        times, counts = [], []
        for memory in memories:
            async with make() as db, db.begin():
                statements = 0
                started = time.perf_counter()
                await enter_memory(db, memory, now=utcnow())
                await db.flush()
                times.append((time.perf_counter() - started) * 1000)
                counts.append(statements)
        figures[name] = {
            "calls": len(times),
            "statements": statistics.median(counts),
            "median_ms": statistics.median(times),
            "p99_ms": statistics.quantiles(times, n=100)[98],
        }
    await engine.dispose()
    return mission.id, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run; default: 5")
    parser.add_argument("--entries", type=int, default=1000, help="default: 1000")
    parser.add_argument("--users", type=int, default=2000, help="seeded; default: 2000")
    parser.add_argument("--memories", type=int, default=10000, help="seeded; default: 10000")
    args = parser.parse_args()
    ensure_wrk()
    plan = SeedPlan(users=args.users, memories=args.memories)
    folder = Path(tempfile.mkdtemp(prefix="keepsake-bench-missions-"))
    try:
        with EmbeddedPostgres(folder).running() as url:
            upgrade(url)
            seed_database(url, folder, plan)
            mission_id, check = asyncio.run(_entry_check(url, args.entries))
            for name, figures in check.items():
                print(
                    f"entry check, {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in figures.items())
                )
            with served_keepsake(url, folder) as (base, pid):
                _, token = sign_in(url, base)
                targets = [
                    Target("GET /v1/feed/home", f"{base}/v1/feed/home", pid),
                    Target(
                        "GET /v1/missions/{id}/entries",
                        f"{base}/v1/missions/{mission_id}/entries",
                        pid,
                    ),
                ]
                for target in targets:
                    wrk(target, 2, token, folder)
                runs = {t.name: wrk(t, args.seconds, token, folder) for t in targets}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    baseline = runs["GET /v1/feed/home"].rps
    for name, run in runs.items():
        print(
            f"{name}: {run.rps:.0f} req/s ({run.rps / baseline:.2f}× home), p50 {run.p50_ms:.1f}"
            f" ms, p99 {run.p99_ms:.1f} ms, errors {run.errors}, API CPU {run.api_cpu_us:.0f}"
            f" µs/req, PostgreSQL CPU {run.pg_cpu_us:.0f} µs/req"
        )


if __name__ == "__main__":
    main()
