"""Requests/s and server CPU per request with tracing off and on (exporting to a local
OTLP sink), and with the production log level on top.

Run: `.venv/bin/python bench/tracing_overhead.py [--seconds 5] [--rounds 2]`. It starts a
throw-away embedded PostgreSQL, signs up two people, then serves Keepsake (one uvicorn
worker, pinned to CPU 0) in three configurations, loading each endpoint with `wrk` on
CPU 1, where this process's OTLP sink also runs. Configurations alternate within each
round; the medians are printed with their ratio to "off". The server's CPU time per
request is the steadier figure on a shared machine: other processes slow the requests
down, but do not add to the server's own CPU time. Needs `wrk` and `taskset`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
from profile_read import LOAD_CPU, viewer_token, wrk  # beside this script
from serving import KEEPSAKE, served, server_env

from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.migrate import upgrade


@contextmanager
def otlp_sink() -> Iterator[str]:
    """Accepts OTLP/HTTP exports and drops them, as a fast collector would."""

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="per run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("install wrk first: apt-get install -y wrk")
    # The sink's export handling shares wrk's core, not the server's.
    os.sched_setaffinity(0, {int(LOAD_CPU)})

    folder = Path(tempfile.mkdtemp(prefix="keepsake-bench-"))
    with EmbeddedPostgres(folder).running() as url, otlp_sink() as sink:
        upgrade(url)
        base_env = server_env(url, folder, worker_in_process="false")
        traced = {**base_env, "KEEPSAKE_OTEL_EXPORTER_OTLP_ENDPOINT": sink}
        configs = {
            "off": base_env,
            "on": traced,
            "on + INFO logs": {**traced, "KEEPSAKE_LOG_LEVEL": "INFO"},
        }
        with served(KEEPSAKE, configs["off"], "/readyz") as (base, _pid):
            token = viewer_token(base)
        endpoints = {
            "GET /healthz (a probe: not traced)": ("/healthz", None),
            "GET /v1/me without a token (401)": ("/v1/me", None),
            "GET /v1/users/{handle}": ("/v1/users/mina", token),
        }
        rates: dict[tuple[str, str], list[float]] = {}
        cpu_us: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for config, env in configs.items():
                with served(KEEPSAKE, env, "/readyz") as (base, pid):
                    server = psutil.Process(pid)
                    for label, (path, auth) in endpoints.items():
                        before = server.cpu_times()
                        rps = wrk(f"{base}{path}", args.seconds, auth)[0]
                        after = server.cpu_times()
                        used = after.user + after.system - before.user - before.system
                        rates.setdefault((label, config), []).append(rps)
                        cpu_us.setdefault((label, config), []).append(
                            1e6 * used / (rps * args.seconds)
                        )
    shutil.rmtree(folder, ignore_errors=True)
    table("requests/s", rates, list(endpoints), list(configs), "{:9.0f}")
    table("server CPU µs per request", cpu_us, list(endpoints), list(configs), "{:9.0f}")


def table(
    title: str,
    figures: dict[tuple[str, str], list[float]],
    endpoints: list[str],
    configs: list[str],
    cell: str,
) -> None:
    print(f"\n{title:36} " + " ".join(f"{c:>16}" for c in configs))
    for label in endpoints:
        off = statistics.median(figures[(label, "off")])
        cells = []
        for config in configs:
            median = statistics.median(figures[(label, config)])
            cells.append(f"{cell.format(median)} ({median / off:4.2f})")
        print(f"{label:36} " + " ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
