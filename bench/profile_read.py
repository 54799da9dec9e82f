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
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_CPU, LOAD_CPU = "0", "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


@contextmanager
def served(argv: list[str], env: dict[str, str], ready_path: str) -> Iterator[str]:
    port = free_port()
    command = ["taskset", "-c", SERVER_CPU, *argv, "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - fixed programs
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + ready_path)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def post_json(url: str, body: dict[str, str]) -> dict[str, dict[str, str]]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        result: dict[str, dict[str, str]] = json.load(response)
        return result


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
        env = {
            **os.environ,
            "KEEPSAKE_DATABASE_URL": url,
            "KEEPSAKE_LOG_LEVEL": "WARNING",
            "KEEPSAKE_DATA_DIR": str(folder),
        }
        keepsake = [str(BIN / "keepsake"), "serve"]
        bare = [
            str(BIN / "uvicorn"),
            "--app-dir",
            str(ROOT / "bench"),
            "bare_app:app",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        results: dict[str, list[tuple[float, str, str]]] = {"profile": [], "bare": []}
        with served(keepsake, env, "/readyz") as base:
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
        token = people[1]["tokens"]["access_token"]
        for _ in range(args.rounds):
            with served(keepsake, env, "/readyz") as base:
                results["profile"].append(wrk(f"{base}/v1/users/mina", args.seconds, token))
            with served(bare, env, "/") as base:
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
