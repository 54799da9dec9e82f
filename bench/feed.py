"""Requests/s of `GET /v1/feed/home?limit=20` on one core, next to a bare ASGI ceiling.

Run: `.venv/bin/python bench/feed.py [--seconds 10] [--rounds 2]`. It starts a
throw-away embedded PostgreSQL and seeds it: a reader following 20 authors (through the
API), one real memory through the upload and media pipeline, then 200 ready memories
written straight into the tables whose clips point at that memory's rendition and poster,
so every card signs real media URLs; and 2,000 other people with 50,000 memories the
reader does not follow, so PostgreSQL plans the feed as it would on a real database,
then VACUUM ANALYZE as autovacuum would. It then serves Keepsake (one uvicorn worker,
pinned to CPU 0, job worker off) and loads the home feed with `wrk` (pinned to CPU 1, as
is PostgreSQL) as the reader; then serves `bench/bare_app.py` the same way. Rounds
alternate (A B A B), each after a short warm-up, and the medians are printed with the
ratio. `--py-spy PATH` also records a flame graph of Keepsake during one extra round.
`--path` loads another read as the same reader instead, on the same data: a person's
page (`/v1/users/author00/memories?limit=10`, ten memories each) or a profile
(`/v1/users/author00`).
Targets 127.0.0.1 only, stops by itself. Installs `wrk` (Debian) if missing; needs
`taskset`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profile_read import LOAD_CPU, wrk  # noqa: E402 - beside this script
from serving import BARE, KEEPSAKE, served, server_env  # noqa: E402 - after bench/ and the repository are on sys.path
from tests.fixtures.media_factory import write_video  # noqa: E402 - after bench/ and the repository are on sys.path

from keepsake.embedded_pg import EmbeddedPostgres  # noqa: E402 - after bench/ and the repository are on sys.path
from keepsake.memories.hashtags import parse_hashtags  # noqa: E402 - after bench/ and the repository are on sys.path
from keepsake.migrate import upgrade  # noqa: E402 - after bench/ and the repository are on sys.path

AUTHORS, MEMORIES_EACH, PAGE = 20, 10, 20
OTHERS, OTHER_MEMORIES_EACH = 2000, 25
PASSWORD = "a quiet walk by the sea"  # noqa: S105 - throw-away bench accounts
CAPTIONS = ("Low tide #sea", "Tea, rain, a book", "#walk before work", "Dusk #sea #walk")


def call(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=json.dumps(body).encode() if body is not None else None, method=method
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        raw = response.read()
        return json.loads(raw) if raw else None


def put_bytes(url: str, data: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=60):  # noqa: S310 - loopback only
        pass


def sign_up(base: str, handle: str) -> dict[str, Any]:
    body = {
        "email": f"{handle}@example.com",
        "handle": handle,
        "display_name": handle.title(),
        "password": PASSWORD,
    }
    result: dict[str, Any] = call("POST", f"{base}/v1/auth/signup", body)
    return result


def real_memory(base: str, token: str, folder: Path) -> str:
    """One memory through upload, create and the media pipeline; its id once ready."""
    clip = write_video(folder / "clip.mp4", seconds=1.0)
    data = clip.read_bytes()
    body = {"purpose": "clip", "content_type": "video/mp4", "size_bytes": len(data)}
    target = call("POST", f"{base}/v1/uploads", body, token)
    # The server signs upload URLs for its configured public URL; this one has its own port.
    put_bytes(target["upload_url"].replace("http://127.0.0.1:8000", base), data, target["headers"])
    memory = call(
        "POST",
        f"{base}/v1/memories",
        {"clips": [{"upload_id": target["id"]}], "visibility": "public", "caption": "#sea"},
        token,
    )
    deadline = time.monotonic() + 120
    while memory["status"] == "processing" and time.monotonic() < deadline:
        time.sleep(0.2)
        memory = call("GET", f"{base}/v1/memories/{memory['id']}", token=token)
    if memory["status"] != "ready":
        raise RuntimeError(f"the seed memory did not become ready: {memory}")
    memory_id: str = memory["id"]
    return memory_id


def seed(url: str, base: str, folder: Path) -> str:
    """The reader's access token, after seeding people, follows, memories and claps."""
    reader = sign_up(base, "reader")
    token: str = reader["tokens"]["access_token"]
    authors = [sign_up(base, f"author{n:02}") for n in range(AUTHORS)]
    for author in authors:
        call("POST", f"{base}/v1/users/{author['user']['handle']}/follow", token=token)
    source = real_memory(base, authors[0]["tokens"]["access_token"], folder)
    with psycopg.connect(url, autocommit=True) as conn:
        keys = conn.execute(
            "SELECT source_key, video_key, poster_key FROM clips WHERE memory_id = %s", (source,)
        ).fetchone()
        assert keys is not None
        now = datetime.now(UTC)
        n = 0
        for author in authors:
            for _ in range(MEMORIES_EACH):
                n += 1
                insert_memory(conn, author["user"]["id"], reader["user"]["id"], n, now, keys)
        background(conn, keys)
        # As autovacuum leaves a table that has settled: statistics and visibility map.
        conn.execute("VACUUM ANALYZE")
    return token


def background(conn: psycopg.Connection[Any], keys: tuple[str, str, str]) -> None:
    """Everybody else: people the reader does not follow, posting for weeks.

    A feed's cost must not grow with them, and its plans must be the ones a real
    database gets (on a few hundred rows PostgreSQL rightly scans whole tables instead).
    """
    conn.execute(
        "INSERT INTO users (id, email, handle, display_name)"
        " SELECT gen_random_uuid(), 'other' || n || '@example.com', 'other' || n, 'Other ' || n"
        " FROM generate_series(1, %s) AS n",
        (OTHERS,),
    )
    conn.execute(
        "INSERT INTO memories (id, author_id, status, visibility, caption, duration_s,"
        " created_at)"
        " SELECT gen_random_uuid(), u.id, 'ready', 'public', '#sea', 2.0,"
        " now() - n * interval '1 minute'"
        " FROM generate_series(1, %s) AS n"
        " JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM users"
        " WHERE handle LIKE 'other%%') AS u ON u.k = 1 + n %% %s",
        (OTHERS * OTHER_MEMORIES_EACH, OTHERS),
    )
    conn.execute(
        "CREATE TEMP TABLE other_memories AS SELECT m.id, m.created_at FROM memories AS m"
        " JOIN users AS u ON u.id = m.author_id WHERE u.handle LIKE 'other%'"
    )
    conn.execute(
        "INSERT INTO clips (id, memory_id, position, upload_id, source_key,"
        " source_content_type, duration_s, width, height, video_key, poster_key)"
        " SELECT gen_random_uuid(), m.id, p, gen_random_uuid(), %s, 'video/mp4', 1.0, 720,"
        " 1280, %s, %s FROM other_memories AS m CROSS JOIN generate_series(0, 1) AS p",
        keys,
    )
    conn.execute("INSERT INTO memory_hashtags SELECT id, 'sea', created_at FROM other_memories")


def insert_memory(
    conn: psycopg.Connection[Any],
    author_id: str,
    reader_id: str,
    n: int,
    now: datetime,
    keys: tuple[str, str, str],
) -> None:
    memory_id = uuid.uuid4()
    created_at = now - timedelta(minutes=7 * n)
    caption = CAPTIONS[n % len(CAPTIONS)]
    clips = 1 + n % 3
    conn.execute(
        "INSERT INTO memories (id, author_id, status, visibility, caption, duration_s,"
        " created_at) VALUES (%s, %s, 'ready', %s, %s, %s, %s)",
        (memory_id, author_id, ("public", "followers")[n % 2], caption, 1.0 * clips, created_at),
    )
    for position in range(clips):
        conn.execute(
            "INSERT INTO clips (id, memory_id, position, upload_id, source_key,"
            " source_content_type, duration_s, width, height, video_key, poster_key)"
            " VALUES (%s, %s, %s, %s, %s, 'video/mp4', 1.0, 720, 1280, %s, %s)",
            (uuid.uuid4(), memory_id, position, uuid.uuid4(), *keys),
        )
    for tag in parse_hashtags(caption):
        conn.execute(
            "INSERT INTO memory_hashtags VALUES (%s, %s, %s)", (memory_id, tag, created_at)
        )
    if n % 4 == 0:
        conn.execute(
            "INSERT INTO claps (memory_id, user_id, count) VALUES (%s, %s, %s)",
            (memory_id, reader_id, 1 + n % 50),
        )


def pin_postgres(folder: Path) -> psutil.Process:
    """PostgreSQL shares the load generator's core; its backends inherit the affinity."""
    postmaster = int((folder / "postgres" / "postmaster.pid").read_text().split()[0])
    subprocess.run(  # noqa: S603 - fixed program, our own child's pid
        ["taskset", "-a", "-p", "-c", LOAD_CPU, str(postmaster)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return psutil.Process(postmaster)


HOME = f"/v1/feed/home?limit={PAGE}"


def check_page(base: str, path: str, token: str) -> None:
    page = call("GET", f"{base}{path}", token=token)
    if path == HOME and (len(page["items"]) != PAGE or page["next_cursor"] is None):
        raise RuntimeError(f"the home feed is not a full page: {page}")


@dataclass(frozen=True)
class Round:
    rate: float
    p50: str
    p99: str
    # CPU time per request: robust where wall-clock rates are not (a shared machine).
    api_ms: float
    postgres_ms: float


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def load(
    url: str, seconds: int, token: str | None, server: psutil.Process, postgres: psutil.Process
) -> Round:
    """One `wrk` run, with the CPU the server and PostgreSQL's backends spent on it."""
    api_before = cpu_seconds([server])[server.pid]
    pg_before = cpu_seconds(postgres.children())
    rate, p50, p99 = wrk(url, seconds, token)
    api_spent = cpu_seconds([server])[server.pid] - api_before
    pg_after = cpu_seconds(postgres.children())
    pg_spent = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items())
    served = rate * seconds
    return Round(rate, p50, p99, 1000 * api_spent / served, 1000 * pg_spent / served)


def profile(py_spy: str, pid: int, url: str, seconds: int, token: str, out: Path) -> None:
    """A flame graph of the server's (`pid`) on-CPU time under load."""
    recorder = subprocess.Popen(  # noqa: S603 - the given py-spy, our own child's pid
        [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-o", str(out)]
    )
    wrk(url, seconds, token)
    recorder.wait(timeout=seconds + 60)
    print(f"flame graph: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--py-spy", help="path of py-spy: also profile one round")
    parser.add_argument("--path", default=HOME, help="the read to load (default: home feed)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)  # noqa: S607

    folder = Path(tempfile.mkdtemp(prefix="keepsake-feed-bench-"))
    results: dict[str, list[Round]] = {"home": [], "bare": []}
    with EmbeddedPostgres(folder).running() as url:
        upgrade(url)
        postgres = pin_postgres(folder)
        env = server_env(url, folder, rate_limit_signup_per_ip="1000")
        with served(KEEPSAKE, env, "/readyz") as (base, _pid):
            token = seed(url, base, folder)
        quiet = [*KEEPSAKE, "--no-worker"]
        for _ in range(args.rounds):
            with served(quiet, env, "/readyz") as (base, pid):
                home = f"{base}{args.path}"
                check_page(base, args.path, token)
                wrk(home, 2, token)
                server = psutil.Process(pid)
                results["home"].append(load(home, args.seconds, token, server, postgres))
            with served(BARE, env, "/") as (base, pid):
                wrk(f"{base}/", 2, None)
                server = psutil.Process(pid)
                results["bare"].append(load(f"{base}/", args.seconds, None, server, postgres))
        if args.py_spy:
            with served(quiet, env, "/readyz") as (base, pid):
                home = f"{base}{args.path}"
                wrk(home, 2, token)
                profile(args.py_spy, pid, home, args.seconds, token, ROOT / "feed-profile.svg")
    shutil.rmtree(folder, ignore_errors=True)
    report(results, args.path)


def report(results: dict[str, list[Round]], path: str) -> None:
    labels = {"home": f"GET {path}", "bare": "bare ASGI (fixed JSON)"}
    header = f"{'round':6} {'endpoint':32} {'req/s':>7} {'p50':>9} {'p99':>9}"
    print(f"{header} {'API CPU/req':>12} {'PG CPU/req':>11}")
    for n, pair in enumerate(zip(results["home"], results["bare"], strict=True), start=1):
        for name, r in zip(labels, pair, strict=True):
            line = f"{n:<6} {labels[name]:32} {r.rate:7.0f} {r.p50:>9} {r.p99:>9}"
            print(f"{line} {r.api_ms:9.3f} ms {r.postgres_ms:8.3f} ms")
    rates = {name: statistics.median(r.rate for r in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(r.api_ms for r in runs) for name, runs in results.items()}
    for name in labels:
        ceiling = 1000 / cpu[name]
        print(
            f"median {labels[name]:32} {rates[name]:7.0f} req/s; "
            f"{cpu[name]:.3f} ms API CPU per request = {ceiling:.0f} req/s per core"
        )
    print(
        f"home / bare = {rates['home'] / rates['bare']:.2f} (req/s), "
        f"{cpu['bare'] / cpu['home']:.2f} (API CPU per request)"
    )


if __name__ == "__main__":
    main()
