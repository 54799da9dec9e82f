"""Requests/s of `GET /v1/users/{handle}` on one core, next to a bare ASGI ceiling.

Run: `.venv/bin/python bench/profile_read.py [--seconds 10]`. It starts a throw-away
embedded PostgreSQL, serves Keepsake (one uvicorn worker, pinned to CPU 0) against it,
signs up two people, and loads the profile read with `wrk` (pinned to CPU 1) as an
authenticated viewer; then serves `bench/bare_app.py` the same way. Rounds alternate
(A B A B) and the medians are printed with the ratio. Targets 127.0.0.1 only, stops
by itself. Needs `wrk` (Debian package) and `taskset` (util-linux).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import loadgen
from serving import BARE, KEEPSAKE, served, server_env

from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade

# As `taskset -c` takes it.
LOAD_CPU = str(loadgen.LOAD_CPU)


def post_json(url: str, body: dict[str, str]) -> dict[str, dict[str, str]]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback http URL built here
        result: dict[str, dict[str, str]] = json.load(response)
        return result


def viewer_token(base: str) -> str:
    """Sign mina and theo up; theo's access token, to read mina's profile with."""
    people = [
        post_json(
            f"{base}/v1/auth/signup",
            {
                "email": f"{h}@example.com",
                "handle": h,
                "display_name": h.title(),
                "password": "a quiet walk by the sea",
            },
        )
        for h in ("mina", "theo")
    ]
    return people[1]["tokens"]["access_token"]


def wrk(url: str, seconds: int, token: str | None) -> tuple[float, str, str]:
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(  # noqa: S603 - fixed programs, loopback URL
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    return (
        float(grab(r"Requests/sec:\s+([\d.]+)", output)),
        grab(r"^\s+50%\s+(\S+)", output),
        grab(r"^\s+99%\s+(\S+)", output),
    )


def grab(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("install wrk first: apt-get install -y wrk")

    folder = Path(tempfile.mkdtemp(prefix="keepsake-bench-"))
    with EmbeddedPostgres(folder).running() as url:
        upgrade(url)
        env = server_env(url, folder)
        results: dict[str, list[tuple[float, str, str]]] = {"profile": [], "bare": []}
        with served(KEEPSAKE, env, "/readyz") as (base, _pid):
            token = viewer_token(base)
        for _ in range(args.rounds):
            with served(KEEPSAKE, env, "/readyz") as (base, _pid):
                results["profile"].append(wrk(f"{base}/v1/users/mina", args.seconds, token))
            with served(BARE, env, "/") as (base, _pid):
                results["bare"].append(wrk(f"{base}/", args.seconds, None))
    shutil.rmtree(folder, ignore_errors=True)

    print(f"{'endpoint':28} {'req/s':>8} {'p50':>9} {'p99':>9}")
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(r[0] for r in runs)
        label = "GET /v1/users/{handle}" if name == "profile" else "bare ASGI (fixed JSON)"
        print(f"{label:28} {medians[name]:8.0f} {runs[-1][1]:>9} {runs[-1][2]:>9}")
    print(f"profile / bare = {medians['profile'] / medians['bare']:.2f}")


if __name__ == "__main__":
    main()
