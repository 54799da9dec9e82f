"""Keepsake's hot endpoints side by side with a bare ASGI ceiling, in one run.

Run: `.venv/bin/python bench/harness.py [--seconds 5] [--rounds 2]`. It starts a throw-
away embedded PostgreSQL, seeds it (`keepsake.seed`: --users accounts, --memories
memories), serves Keepsake (`keepsake serve --no-worker`, one process) and
`bench/bare_app.py` (uvicorn, fixed JSON: the ceiling), both and PostgreSQL pinned to
CPU 0, and loads each target with `wrk` pinned to CPU 1: the bare app, the home feed, a
memory read, its share page (`/m/{id}`), a profile read, a clap (count 1 with an
Idempotency-Key, rotating over hundreds of memories so the 50-clap cap is never reached)
and a follow (follow and unfollow alternating over a rotating set of accounts). Rounds
are interleaved (every target once per round), medians are printed with the ratio to the
ceiling and the CPU time per request of the API process and of all PostgreSQL processes
(utime + stime from /proc before and after each run). Raw figures go to
bench/results.json. Targets 127.0.0.1 only and stops by itself; needs `taskset` and
`wrk` (installed with apt-get when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import tempfile
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

from loadgen import CONNECTIONS, Run, Target, clap_script, ensure_wrk, follow_script, wrk
from serving import ROOT, served_bare, served_keepsake
from sqlalchemy import text

from keepsake.config import Settings
from keepsake.db import create_engine
from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade
from keepsake.seed import SEED_PASSWORD, SeedPlan, email, handle, seed
from keepsake.storage import build_storage


def call(url: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def sql(url: str, query: str) -> list[tuple[Any, ...]]:
    async def fetch() -> list[tuple[Any, ...]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return [tuple(row) for row in await conn.execute(text(query))]
        finally:
            await engine.dispose()

    return asyncio.run(fetch())


def seed_database(url: str, folder: Path, plan: SeedPlan) -> float:
    """Seeds and vacuums; the seconds the seeding took."""

    async def run() -> float:
        engine = create_engine(url, pool_size=1)
        try:
            storage = build_storage(Settings(data_dir=folder))
            result = await seed(engine, storage, plan, lambda line: print(line, flush=True))
            # Now rather than by autovacuum in the middle of a round, where its CPU would
            # count as the requests'.
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        finally:
            await engine.dispose()
        print(f"seeded in {result.seconds:.0f} s: {result.inserted}", flush=True)
        return result.seconds

    return asyncio.run(run())


def viewer_number(url: str) -> int:
    """A seeded account following a typical number of people, so its home feed is full."""
    rows = sql(
        url,
        "SELECT u.handle FROM users u JOIN follows f ON f.follower_id = u.id "
        "WHERE NOT u.is_private GROUP BY u.handle HAVING count(*) BETWEEN 15 AND 60 "
        "ORDER BY u.handle LIMIT 1",
    )
    return int(rows[0][0].rpartition("_")[2])


def sign_in(db_url: str, api: str) -> tuple[int, str]:
    n = viewer_number(db_url)
    answer = call(f"{api}/v1/auth/login", {"email": email(n), "password": SEED_PASSWORD})
    return n, answer["tokens"]["access_token"]


def public_memories(api: str, token: str, viewer: str, wanted: int = 500) -> list[dict[str, Any]]:
    """Memories of others from the explore feed: the viewer may read and clap them all."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while len(found) < wanted:
        page = call(f"{api}/v1/feed/explore?limit=100{cursor}", token=token)
        found += [m for m in page["items"] if m["author"]["handle"] != viewer]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    return found


def build_targets(
    api: tuple[str, int],
    bare: tuple[str, int],
    viewer: int,
    token: str,
    plan: SeedPlan,
    folder: Path,
) -> list[Target]:
    (base, pid), me = api, handle(viewer)
    memories = public_memories(base, token, me)
    # The least followed accounts: following them is a plain edge, no celebrity's fan-out.
    strangers = [handle(k) for k in range(plan.users - 1, max(-1, plan.users - 201), -1)]
    strangers = [h for h in strangers if h != me]
    return [
        Target("bare ASGI (fixed JSON)", f"{bare[0]}/", bare[1]),
        Target("GET /v1/feed/home", f"{base}/v1/feed/home", pid),
        Target("GET /v1/memories/{id}", f"{base}/v1/memories/{memories[0]['id']}", pid),
        # The same memory's public share page: HTML, read as a signed-out stranger.
        Target("GET /m/{id} (share page)", f"{base}/m/{memories[0]['id']}", pid),
        Target("GET /v1/users/{handle}", f"{base}/v1/users/{memories[0]['author']['handle']}", pid),
        Target(
            "POST /v1/memories/{id}/claps",
            base,
            pid,
            clap_script(folder, [m["id"] for m in memories]),
        ),
        Target("POST|DELETE /v1/users/{h}/follow", base, pid, follow_script(folder, strangers)),
    ]


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    return {
        "cpu": model.group(1) if model else platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_1m": os.getloadavg()[0],
    }


def report(runs: dict[str, list[Run]]) -> dict[str, dict[str, float]]:
    medians = {
        name: {
            field: statistics.median(getattr(r, field) for r in rs)
            for field in Run.__dataclass_fields__
        }
        for name, rs in runs.items()
    }
    ceiling = next(iter(medians.values()))["rps"]
    print(
        f"{'endpoint':34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'÷ bare':>7} "
        f"{'API µs/req':>10} {'PG µs/req':>9} {'errors':>7}"
    )
    for name, m in medians.items():
        m["ratio"] = m["rps"] / ceiling
        print(
            f"{name:34} {m['rps']:7.0f} {m['p50_ms']:7.1f} {m['p99_ms']:7.1f} {m['ratio']:7.2f} "
            f"{m['api_cpu_us']:10.0f} {m['pg_cpu_us']:9.0f} {m['errors']:7.0f}"
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="per run; default: 5")
    parser.add_argument("--rounds", type=int, default=2, help="default: 2")
    parser.add_argument("--users", type=int, default=2000, help="seeded; default: 2000")
    parser.add_argument("--memories", type=int, default=10000, help="seeded; default: 10000")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    ensure_wrk()
    plan = SeedPlan(users=args.users, memories=args.memories)
    folder = Path(tempfile.mkdtemp(prefix="keepsake-harness-"))
    before = machine()
    try:
        with EmbeddedPostgres(folder).running() as url:
            upgrade(url)
            seed_database(url, folder, plan)
            with served_keepsake(url, folder) as api, served_bare() as ceiling:
                viewer, token = sign_in(url, api[0])
                targets = build_targets(api, ceiling, viewer, token, plan, folder)
                for target in targets:  # warm-up: connections, caches, code paths
                    wrk(target, 2, token, folder)
                runs: dict[str, list[Run]] = {t.name: [] for t in targets}
                for round_ in range(args.rounds):
                    print(f"round {round_ + 1}/{args.rounds}…", flush=True)
                    for target in targets:
                        runs[target.name].append(wrk(target, args.seconds, token, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    medians = report(runs)
    args.out.write_text(
        json.dumps(
            {
                "machine": before | {"load_average_1m_after": os.getloadavg()[0]},
                "settings": vars(args) | {"out": str(args.out), "connections": CONNECTIONS},
                "medians": medians,
                "runs": {name: [asdict(r) for r in rs] for name, rs in runs.items()},
            },
            indent=2,
        )
    )
    print(f"ceiling: bare ASGI on one core; results in {args.out}")


if __name__ == "__main__":
    main()
