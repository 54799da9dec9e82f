"""The Scale issue's table: hot paths at two database sizes, side by side, in one run.

Run: `.venv/bin/python bench/scale.py [--quick] [--seconds 8] [--rounds 3]`. For each
size (10,000 and 1,000,000 memories; `--quick` a tenth of both) it seeds an embedded
PostgreSQL under `--data` with `keepsake admin seed`'s code (a bulk load: the large one
is 100,000 people, 1,000,000 memories and 5,000,000 claps), once (later runs reuse the
folder), with `--max-follows 2000` so that `seed_user_00000` follows 2,000 people. It
then serves Keepsake (`keepsake serve --no-worker`) and the bare ASGI app, both and
PostgreSQL pinned to CPU 0, and loads each path with `wrk` (32 connections) pinned to
CPU 1, rounds interleaved, medians printed. The home feed is read by a seeded reader
following about 20 people and by `seed_user_00000`. The last line is one JSON object
with the issue's keys; a path this script does not measure is `null` there.
Targets 127.0.0.1 only; needs `taskset` and `wrk` (installed with apt-get when missing).
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import call, public_memories, seed_database, sql, viewer_number
from loadgen import Run, Target, ensure_wrk, follow_script, wrk
from serving import ROOT, served_bare, served_keepsake
from writes import create_script, made_uploads, many_clappers_script

from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade
from keepsake.seed import SEED_PASSWORD, SeedPlan, email, handle

MAX_FOLLOWS = 2_000
# Seeded accounts clapping in the claps row, besides the reader.
CLAPPERS = 20


@dataclass(frozen=True)
class Size:
    label: str
    plan: SeedPlan


def sizes(quick: bool) -> list[Size]:
    tenth = 10 if quick else 1
    small, large = 10_000 // tenth, 1_000_000 // tenth
    # Users as in the setup at the small size; at the large one, the seed
    # goal: ten memories and fifty claps per account (100,000, 1,000,000, 5,000,000).
    return [
        Size(f"{small:,} memories", SeedPlan(5_000, small, max_follows=MAX_FOLLOWS)),
        Size(
            f"{large:,} memories",
            SeedPlan(max(5_000, large // 10), large, max_follows=MAX_FOLLOWS, claps=5 * large),
        ),
    ]


def seeded(folder: Path, url: str, plan: SeedPlan) -> float:
    """Seeds once per folder; the seconds the seeding took (then or on an earlier run)."""
    marker = folder / "seeded.json"
    if marker.exists():
        return float(json.loads(marker.read_text())["seconds"])
    upgrade(url)
    seconds = seed_database(url, folder, plan)
    marker.write_text(json.dumps({"seconds": seconds}))
    return seconds


def token_of(api: str, n: int) -> str:
    answer = call(f"{api}/v1/auth/login", {"email": email(n), "password": SEED_PASSWORD})
    token: str = answer["tokens"]["access_token"]
    return token


def busiest_tag(url: str) -> str:
    return str(sql(url, "SELECT tag FROM memory_hashtags GROUP BY 1 ORDER BY count(*) DESC")[0][0])


def build_targets(
    api: tuple[str, int], bare: tuple[str, int], url: str, folder: Path, plan: SeedPlan
) -> list[tuple[Target, str]]:
    """Each path with the token that reads it."""
    (base, pid), reader = api, viewer_number(url)
    few, many = token_of(base, reader), token_of(base, 0)
    memories = public_memories(base, few, handle(reader))
    author = memories[0]["author"]["handle"]
    strangers = [handle(k) for k in range(plan.users - 1, plan.users - 201, -1) if k != reader]
    clappers = [reader, *range(1, CLAPPERS + 1)]
    own = {handle(k) for k in clappers} | {handle(0)}
    claps = many_clappers_script(
        folder,
        [m["id"] for m in memories if m["author"]["handle"] not in own],
        [few, *(token_of(base, k) for k in clappers[1:])],
    )
    creating = create_script(folder, made_uploads(url, folder, handle(reader)))
    return [
        (Target("bare ASGI (fixed JSON)", f"{bare[0]}/", bare[1]), few),
        (Target("GET /v1/feed/home, following ~20", f"{base}/v1/feed/home", pid), few),
        (Target("GET /v1/feed/home, following 2,000", f"{base}/v1/feed/home", pid), many),
        (Target("GET /v1/memories/{id}", f"{base}/v1/memories/{memories[0]['id']}", pid), few),
        (Target("GET /v1/users/{handle}", f"{base}/v1/users/{author}", pid), few),
        (Target("GET /v1/users/{handle}/memories", f"{base}/v1/users/{author}/memories", pid), few),
        (Target("GET /v1/feed/explore", f"{base}/v1/feed/explore", pid), few),
        (
            Target(
                "GET /v1/hashtags/{tag}/memories",
                f"{base}/v1/hashtags/{busiest_tag(url)}/memories",
                pid,
            ),
            few,
        ),
        (Target("POST /v1/memories/{id}/claps", base, pid, claps), few),
        (
            Target("POST|DELETE /v1/users/{h}/follow", base, pid, follow_script(folder, strangers)),
            few,
        ),
        (Target("POST /v1/memories (upload made)", base, pid, creating), few),
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(size: Size, data: Path, seconds: int, rounds: int) -> dict[str, Any]:
    plan = size.plan
    # Named by the plan, so that a folder seeded with other numbers (or by an older
    # seeder, whose ids differ) is never taken for this one.
    folder = data / f"{plan.users}u-{plan.memories}m-{plan.claps}c-{plan.max_follows}f-v2"
    folder.mkdir(parents=True, exist_ok=True)
    with EmbeddedPostgres(folder).running() as url:
        seed_seconds = seeded(folder, url, size.plan)
        with served_keepsake(url, folder) as api, served_bare() as ceiling:
            chosen = build_targets(api, ceiling, url, folder, size.plan)
            for target, token in chosen:  # warm-up: connections, caches, code paths
                wrk(target, 2, token, folder)
            runs: dict[str, list[Run]] = {t.name: [] for t, _ in chosen}
            for round_ in range(rounds):
                print(f"{size.label}: round {round_ + 1}/{rounds}…", flush=True)
                for target, token in chosen:
                    runs[target.name].append(wrk(target, seconds, token, folder))
            rss = rss_mb(api[1])
    medians = {
        name: {
            f: statistics.median(getattr(r, f) for r in rs)
            for f in ("rps", "p50_ms", "p99_ms", "errors")
        }
        for name, rs in runs.items()
    }
    return {"medians": medians, "seed_seconds": seed_seconds, "api_rss_mb": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of both sizes")
    parser.add_argument("--seconds", type=int, default=8, help="per run; default: 8")
    parser.add_argument("--rounds", type=int, default=3, help="default: 3")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench-scale")
    args = parser.parse_args()
    ensure_wrk()
    chosen = sizes(args.quick)
    results = [
        measure(size, args.data / ("quick" if args.quick else "full"), args.seconds, args.rounds)
        for size in chosen
    ]
    small, large = (r["medians"] for r in results)
    print(f"{'path':38} " + " ".join(f"{s.label + ' req/s · p99 ms':>32}" for s in chosen))
    for name in small:
        cells = [f"{m[name]['rps']:>18.0f} · {m[name]['p99_ms']:>9.1f} ms" for m in (small, large)]
        print(f"{name:38} " + " ".join(f"{c:>32}" for c in cells))
    home, home_many = "GET /v1/feed/home, following ~20", "GET /v1/feed/home, following 2,000"
    paths = [n for n in small if not n.startswith("bare")]
    summary = {
        "feed_home_rps": large[home]["rps"],
        "claps_rps": large["POST /v1/memories/{id}/claps"]["rps"],
        "follows_rps": large["POST|DELETE /v1/users/{h}/follow"]["rps"],
        "memory_read_rps": large["GET /v1/memories/{id}"]["rps"],
        "profile_rps": large["GET /v1/users/{handle}"]["rps"],
        "person_page_rps": large["GET /v1/users/{handle}/memories"]["rps"],
        "memory_create_rps": large["POST /v1/memories (upload made)"]["rps"],
        "p99_growth": max(large[n]["p99_ms"] / small[n]["p99_ms"] for n in paths),
        "fan_in_ratio": large[home_many]["rps"] / large[home]["rps"],
        "explore_rps": large["GET /v1/feed/explore"]["rps"],
        "hashtag_rps": large["GET /v1/hashtags/{tag}/memories"]["rps"],
        "seed_seconds": results[1]["seed_seconds"],
        "api_rss_mb": results[1]["api_rss_mb"],
        "bare_rps": large["bare ASGI (fixed JSON)"]["rps"],
        "memories": [s.plan.memories for s in chosen],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
