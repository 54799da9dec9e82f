"""Requests/s and p99 of `GET /v1/search/people` at 100,000 people on one core.

Run: `.venv/bin/python bench/search.py [--people 100000] [--seconds 10] [--rounds 2]
[--against REF] [--folder DIR]`.
It starts an embedded PostgreSQL, writes the people straight into `users` (three-syllable
Korean names drawn from common syllables, handles `p000001`…; the triggers of migration
0012 index them as sign-up would), signs up the searcher through the API, follows 50 of
them, and runs VACUUM ANALYZE. It then serves Keepsake (one uvicorn worker, job worker
off) pinned to CPU 0 together with PostgreSQL, and loads it with `wrk` pinned to CPU 1,
for a two-syllable Hangul query and a handle prefix. Rounds alternate; medians are
printed. Beside each figure: the machine's load average (the machine may be shared) and
the CPU time the API process and PostgreSQL each spent per request, which says what one
quiet core would serve and varies far less than requests/s on a busy machine.

`--against REF` serves the `src/` of git revision REF as well (through PYTHONPATH, same
database), interleaved with this tree's round by round: an A/B comparison. `--folder DIR`
keeps the database there and reuses it on the next run (no seeding). Targets 127.0.0.1
only, stops by itself. Needs `wrk` and `taskset`.
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

from loadgen import Run, Target, ensure_wrk, wrk  # noqa: E402 - beside this script
from profile_read import post_json  # noqa: E402 - after bench/ and the repository are on sys.path
from serving import KEEPSAKE, pin_postgres, served, server_env  # noqa: E402 - after bench/ and the repository are on sys.path

from keepsake.embedded_pg import EmbeddedPostgres  # noqa: E402 - after bench/ and the repository are on sys.path
from keepsake.migrate import upgrade  # noqa: E402 - after bench/ and the repository are on sys.path

SYLLABLES = "김이박최정강조윤장임한오서신권황안송류홍민지서현준우예진수하은도연유나영성호재"
QUERIES = {"two syllables": "민지", "handle prefix": "p0123"}
SEARCHER = {"email": "searcher@example.com", "password": "a quiet walk by the sea"}
SEEDED = "seeded"  # a file in --folder once its database holds the people


def seed(url: str, base: str, people: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, handle, display_name)"
            " SELECT gen_random_uuid(), 'p' || n || '@example.com', 'p' || lpad(n::text, 6, '0'),"
            "  substr(%(s)s, 1 + n %% 41, 1) || substr(%(s)s, 1 + (n / 41) %% 41, 1)"
            "  || substr(%(s)s, 1 + (n / 1681) %% 41, 1)"
            " FROM generate_series(1, %(n)s) AS n",
            {"s": SYLLABLES, "n": people},
        )
    post_json(
        f"{base}/v1/auth/signup", {**SEARCHER, "handle": "searcher", "display_name": "Searcher"}
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO follows (follower_id, followee_id, id, state)"
            " SELECT s.id, u.id, gen_random_uuid(), 'active' FROM users AS s, users AS u"
            " WHERE s.handle = 'searcher' AND u.handle LIKE 'p0000%%' LIMIT 50"
        )
        conn.execute("VACUUM ANALYZE")


def exported(ref: str, into: Path) -> Path:
    """`src/` (and the migrations it finds beside it) of git revision `ref`, under `into`."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir()
    archive = subprocess.run(  # noqa: S603 - fixed program, a revision the caller named
        ["git", "archive", ref, "src", "migrations"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    # Fixed program; the folder is our own.
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)  # noqa: S603, S607
    return into / "src"


def show(label: str, name: str, run: Run) -> str:
    return (
        f"{label:8} {name:14} {run.rps:6.0f} req/s  p99 {run.p99_ms:6.1f} ms"
        f"  API {run.api_cpu_us:5.0f} µs  PG {run.pg_cpu_us:5.0f} µs per request"
        f"  errors {run.errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--against", help="a git revision to compare with, round by round")
    parser.add_argument("--folder", type=Path, help="keep the database here, reuse it")
    args = parser.parse_args()
    ensure_wrk()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="keepsake-search-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    variants = {"this": os.environ.get("PYTHONPATH", "")}
    if args.against:
        variants[args.against] = str(exported(args.against, folder / "against"))
    results: dict[tuple[str, str], list[Run]] = {}
    with EmbeddedPostgres(folder).running() as url:
        upgrade(url)
        env = server_env(url, folder, rate_limit_search_per_account=str(10**9))
        keepsake = [*KEEPSAKE, "--no-worker"]
        if not (folder / SEEDED).exists():
            with served(keepsake, env, "/readyz") as (base, _pid):
                seed(url, base, args.people)
            (folder / SEEDED).touch()
        pin_postgres(folder)
        for _ in range(args.rounds):
            for label, path in variants.items():
                with served(keepsake, {**env, "PYTHONPATH": path}, "/readyz") as (base, server):
                    # Signed in afresh each round: access tokens outlive a round, not a run.
                    token = post_json(f"{base}/v1/auth/login", SEARCHER)["tokens"]["access_token"]
                    for name, q in QUERIES.items():
                        url_q = f"{base}/v1/search/people?q={urllib.parse.quote(q)}"
                        target = Target(name, url_q, server)
                        wrk(target, 2, token, folder)
                        run = wrk(target, args.seconds, token, folder)
                        results.setdefault((label, name), []).append(run)
                        print(f"{show(label, name, run)}  load {os.getloadavg()[0]:.1f}")
    if not args.folder:
        shutil.rmtree(folder, ignore_errors=True)
    for (label, name), runs in results.items():
        print(
            f"median {label:8} {name:14} q={QUERIES[name]:6}"
            f" {statistics.median(r.rps for r in runs):6.0f} req/s"
            f"  p99 {statistics.median(r.p99_ms for r in runs):6.1f} ms"
            f"  API {statistics.median(r.api_cpu_us for r in runs):5.0f} µs"
            f"  PG {statistics.median(r.pg_cpu_us for r in runs):5.0f} µs per request"
        )


if __name__ == "__main__":
    main()
