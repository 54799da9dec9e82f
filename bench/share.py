"""Requests/s of a memory's public share page (`GET /m/{id}`) next to its API read.

Run: `.venv/bin/python bench/share.py [--seconds 10] [--rounds 3]`. It starts a throw-
away embedded PostgreSQL, seeds it (`keepsake.seed`, --users and --memories), serves
Keepsake (`keepsake serve --no-worker`, one process) with PostgreSQL on the same core
(CPU 0) and loads the same public memory two ways with `wrk` on CPU 1: the API read
`GET /v1/memories/{id}` as a signed-in viewer, and its share page `GET /m/{id}` (HTML,
read as a signed-out stranger). Rounds interleave the two (A B A B …) with the machine's
load (`uptime`) printed before each; medians go in a table with the CPU time per request
of the API process and of PostgreSQL, and the last line is a JSON summary. Targets
127.0.0.1 only and stops by itself; needs `taskset` and `wrk`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from dataclasses import asdict
from pathlib import Path

from harness import machine, public_memories, seed_database, sign_in
from loadgen import CONNECTIONS, Run, Target, ensure_wrk, wrk
from serving import ROOT, served_keepsake

from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade
from keepsake.seed import SeedPlan, handle

API, PAGE = "GET /v1/memories/{id}", "GET /m/{id} (share page)"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per run; default: 10")
    parser.add_argument("--rounds", type=int, default=3, help="default: 3")
    parser.add_argument("--users", type=int, default=500, help="seeded; default: 500")
    parser.add_argument("--memories", type=int, default=2000, help="seeded; default: 2000")
    args = parser.parse_args()
    ensure_wrk()
    plan = SeedPlan(users=args.users, memories=args.memories)
    folder = Path(tempfile.mkdtemp(prefix="keepsake-share-bench-"))
    before = machine()
    loads: list[str] = []
    try:
        with EmbeddedPostgres(folder).running() as url:
            upgrade(url)
            seed_database(url, folder, plan)
            with served_keepsake(url, folder) as (base, pid):
                viewer, token = sign_in(url, base)
                memory = public_memories(base, token, handle(viewer), wanted=1)[0]
                targets = [
                    Target(API, f"{base}/v1/memories/{memory['id']}", pid),
                    Target(PAGE, f"{base}/m/{memory['id']}", pid),
                ]
                for target in targets:  # warm-up: connections, caches, prepared statements
                    wrk(target, 2, token, folder)
                runs: dict[str, list[Run]] = {t.name: [] for t in targets}
                for round_ in range(args.rounds):
                    loads.append(load_average())
                    print(f"round {round_ + 1}/{args.rounds}: {loads[-1]}", flush=True)
                    for target in targets:
                        runs[target.name].append(wrk(target, args.seconds, token, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    loads.append(load_average())
    print(f"after: {loads[-1]}")
    print(
        f"{'endpoint':28} {'req/s (runs)':>26} {'median':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'API µs/req':>10} {'PG µs/req':>9} {'errors':>6}"
    )
    medians = {}
    for name, rs in runs.items():
        m = {f: statistics.median(getattr(r, f) for r in rs) for f in Run.__dataclass_fields__}
        medians[name] = m
        each = " / ".join(f"{r.rps:.0f}" for r in rs)
        print(
            f"{name:28} {each:>26} {m['rps']:7.0f} {m['p50_ms']:7.1f} {m['p99_ms']:7.1f} "
            f"{m['api_cpu_us']:10.0f} {m['pg_cpu_us']:9.0f} {m['errors']:6.0f}"
        )
    ratio = medians[PAGE]["rps"] / medians[API]["rps"]
    print(f"share page / API read = {ratio:.2f}")
    summary = {
        "machine": before | {"uptime": loads},
        "settings": vars(args) | {"connections": CONNECTIONS, "root": str(ROOT)},
        "medians": medians,
        "runs": {name: [asdict(r) for r in rs] for name, rs in runs.items()},
        "page_over_api": ratio,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
