"""Requests/s and p99 of `GET /v1/search/people` at 100,000 people on one core.

Run: `.venv/bin/python bench/search.py [--people 100000] [--seconds 10] [--rounds 2]`.
It starts a throw-away embedded PostgreSQL, writes the people straight into `users`
(three-syllable Korean names drawn from common syllables, handles `p000001`…; the
triggers of migration 0012 index them as sign-up would), signs up the searcher through
the API, follows 50 of them, and runs VACUUM ANALYZE. It then serves Keepsake (one
uvicorn worker, job worker off) pinned to CPU 0 together with PostgreSQL, and loads it
with `wrk` pinned to CPU 1, for a two-syllable Hangul query and a handle prefix. Rounds
alternate; medians are printed. Targets 127.0.0.1 only, stops by itself. Needs `wrk`
and `taskset`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profile_read import BIN, SERVER_CPU, post_json, served, wrk  # noqa: E402 - beside this script

from keepsake.embedded_pg import EmbeddedPostgres  # noqa: E402
from keepsake.migrate import upgrade  # noqa: E402

SYLLABLES = "김이박최정강조윤장임한오서신권황안송류홍민지서현준우예진수하은도연유나영성호재"
QUERIES = {"two syllables": "민지", "handle prefix": "p0123"}


def seed(url: str, base: str, people: int) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, handle, display_name)"
            " SELECT gen_random_uuid(), 'p' || n || '@example.com', 'p' || lpad(n::text, 6, '0'),"
            "  substr(%(s)s, 1 + n %% 41, 1) || substr(%(s)s, 1 + (n / 41) %% 41, 1)"
            "  || substr(%(s)s, 1 + (n / 1681) %% 41, 1)"
            " FROM generate_series(1, %(n)s) AS n",
            {"s": SYLLABLES, "n": people},
        )
    signed_up = post_json(
        f"{base}/v1/auth/signup",
        {
            "email": "searcher@example.com",
            "password": "a quiet walk by the sea",
            "handle": "searcher",
            "display_name": "Searcher",
        },
    )
    token = signed_up["tokens"]["access_token"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO follows (follower_id, followee_id, id, state)"
            " SELECT s.id, u.id, gen_random_uuid(), 'active' FROM users AS s, users AS u"
            " WHERE s.handle = 'searcher' AND u.handle LIKE 'p0000%%' LIMIT 50"
        )
        conn.execute("VACUUM ANALYZE")
    return token


def pin_postgres(folder: Path) -> None:
    """PostgreSQL shares the server's core: the figure is for both together."""
    postmaster = (folder / "postgres" / "postmaster.pid").read_text().split()[0]
    subprocess.run(  # noqa: S603 - fixed program, our own child's pid
        ["taskset", "-a", "-p", "-c", SERVER_CPU, postmaster],  # noqa: S607
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("install wrk first: apt-get install -y wrk")
    folder = Path(tempfile.mkdtemp(prefix="keepsake-search-bench-"))
    results: dict[str, list[tuple[float, str, str]]] = {name: [] for name in QUERIES}
    with EmbeddedPostgres(folder).running() as url:
        upgrade(url)
        env = {
            **os.environ,
            "KEEPSAKE_DATABASE_URL": url,
            "KEEPSAKE_LOG_LEVEL": "WARNING",
            "KEEPSAKE_DATA_DIR": str(folder),
            "KEEPSAKE_RATE_LIMIT_SEARCH_PER_ACCOUNT": str(10**9),
        }
        keepsake = [str(BIN / "keepsake"), "serve", "--no-worker"]
        with served(keepsake, env, "/readyz") as base:
            token = seed(url, base, args.people)
        pin_postgres(folder)
        for _ in range(args.rounds):
            with served(keepsake, env, "/readyz") as base:
                for name, q in QUERIES.items():
                    target = f"{base}/v1/search/people?q={urllib.parse.quote(q)}"
                    wrk(target, 2, token)
                    results[name].append(wrk(target, args.seconds, token))
    shutil.rmtree(folder, ignore_errors=True)
    for name, runs in results.items():
        for rate, p50, p99 in runs:
            print(f"{name:14} q={QUERIES[name]:6} {rate:7.0f} req/s  p50 {p50:>8}  p99 {p99:>8}")
        print(f"median {name}: {statistics.median(r[0] for r in runs):.0f} req/s")


if __name__ == "__main__":
    main()
