"""Requests/s and p99 of `GET /v1/search/people` at 100,000 people on one core.

Run: `.venv/bin/python bench/search.py [--people 100000] [--seconds 10] [--rounds 2]`.
It starts a throw-away embedded PostgreSQL, writes the people straight into `users`
(three-syllable Korean names drawn from common syllables, handles `p000001`…; the
triggers of migration 0012 index them as sign-up would), signs up the searcher through
the API, follows 50 of them, and runs VACUUM ANALYZE. It then serves Keepsake (one
uvicorn worker, job worker off) pinned to CPU 0 together with PostgreSQL, and loads it
with `wrk` pinned to CPU 1, for a two-syllable Hangul query and a handle prefix. Rounds
alternate; medians are printed. Beside each figure: the machine's load average (the
machine may be shared) and the CPU time server and PostgreSQL spent per request, which
says what one quiet core would serve. Targets 127.0.0.1 only, stops by itself. Needs
`wrk` and `taskset`.
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

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profile_read import (  # noqa: E402 - beside this script
    BIN,
    LOAD_CPU,
    SERVER_CPU,
    grab,
    post_json,
    served,
)

from keepsake.embedded_pg import EmbeddedPostgres  # noqa: E402
from keepsake.migrate import upgrade  # noqa: E402

SYLLABLES = "김이박최정강조윤장임한오서신권황안송류홍민지서현준우예진수하은도연유나영성호재"
QUERIES = {"two syllables": "민지", "handle prefix": "p0123"}
SEARCHER = {"email": "searcher@example.com", "password": "a quiet walk by the sea"}


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes and their children (PostgreSQL's backends)."""
    total = 0.0
    for pid in pids:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def load(url: str, seconds: int, token: str, pids: list[int]) -> tuple[float, str, float]:
    """(requests/s, p99, CPU ms per request) of `wrk` on `url`; any answer but 200 fails."""
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency"]
    before = cpu_seconds(pids)
    output = subprocess.run(  # noqa: S603 - fixed programs, loopback URL
        [*command, "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spent = cpu_seconds(pids) - before
    if "Non-2xx" in output:
        raise RuntimeError(f"answers other than 200:\n{output}")
    requests = int(grab(r"(\d+) requests in", output))
    rate = float(grab(r"Requests/sec:\s+([\d.]+)", output))
    return rate, grab(r"^\s+99%\s+(\S+)", output), spent * 1000 / requests


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


def pin_postgres(folder: Path) -> int:
    """PostgreSQL shares the server's core: the figure is for both together."""
    postmaster = (folder / "postgres" / "postmaster.pid").read_text().split()[0]
    subprocess.run(  # noqa: S603 - fixed program, our own child's pid
        ["taskset", "-a", "-p", "-c", SERVER_CPU, postmaster],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return int(postmaster)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("install wrk first: apt-get install -y wrk")
    folder = Path(tempfile.mkdtemp(prefix="keepsake-search-bench-"))
    results: dict[str, list[tuple[float, str, float]]] = {name: [] for name in QUERIES}
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
            seed(url, base, args.people)
        postgres = pin_postgres(folder)
        for _ in range(args.rounds):
            with served(keepsake, env, "/readyz") as base:
                # Signed in afresh each round: access tokens outlive a round, not a run.
                token = post_json(f"{base}/v1/auth/login", SEARCHER)["tokens"]["access_token"]
                server = [p.pid for p in psutil.Process().children() if p.name() == "keepsake"]
                for name, q in QUERIES.items():
                    target = f"{base}/v1/search/people?q={urllib.parse.quote(q)}"
                    load(target, 2, token, [*server, postgres])
                    results[name].append(load(target, args.seconds, token, [*server, postgres]))
                    print(f"{name:14} {results[name][-1]}  load {os.getloadavg()[0]:.1f}")
    shutil.rmtree(folder, ignore_errors=True)
    for name, runs in results.items():
        for rate, p99, cpu_ms in runs:
            print(
                f"{name:14} q={QUERIES[name]:6} {rate:7.0f} req/s  p99 {p99:>8}"
                f"  CPU {cpu_ms:.2f} ms/request (server + PostgreSQL)"
            )
        print(
            f"median {name}: {statistics.median(r[0] for r in runs):.0f} req/s,"
            f" {statistics.median(r[2] for r in runs):.2f} ms CPU/request"
        )


if __name__ == "__main__":
    main()
