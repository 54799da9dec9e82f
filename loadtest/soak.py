"""Soak: the Locust scenario at 60 % of the measured maximum, for a long time, on one machine.

    .venv/bin/python loadtest/soak.py [--duration 600] [--max-rps N] [--fraction 0.6]

seeds a throw-away data folder (`keepsake admin seed`), starts `keepsake serve` on its
embedded defaults on 127.0.0.1 (rate limits off, as every simulated user signs in from
here), then:

1. unless `--max-rps` is given, measures the maximum: `--probe-seconds` of the scenario
   with `--probe-users` users that start their next action at once (a closed loop), and
   takes the requests per second they achieved;
2. runs the scenario at `--fraction` of it for `--duration` seconds, at a fixed arrival
   rate (`--task-rate` actions per second per user, so the number of users sets the rate);
3. prints the failures, p50/p99 per request, the achieved rate, and the resident memory
   (RSS; USS, memory no other process shares, beside it) of the API process and of all
   PostgreSQL processes at the start and the end of the soak.

It stops by itself (about probe + duration + 2 minutes of start-up and stopping) and
exits 1 when any request failed. Everything is removed afterwards; the Locust reports
stay in --out.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from run import locust_command

HERE = Path(__file__).resolve().parent
KEEPSAKE = Path(sys.executable).with_name("keepsake")
# Requests per app action in this scenario, measured (README: 50 actions/s ≈ 75 req/s):
# the arrival rate is set in actions, the maximum is measured in requests.
REQUESTS_PER_ACTION = 1.5
READY_TIMEOUT = 120.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=600, help="soak seconds; default: 600")
    parser.add_argument("--max-rps", type=float, help="the maximum, if known (skips the probe)")
    parser.add_argument("--fraction", type=float, default=0.6, help="of the maximum; 0.6")
    parser.add_argument("--probe-seconds", type=int, default=40, help="default: 40")
    parser.add_argument("--probe-users", type=int, default=40, help="default: 40")
    parser.add_argument("--task-rate", type=float, default=0.5, help="per user; default: 0.5")
    parser.add_argument("--seed-users", type=int, default=500, help="default: 500")
    parser.add_argument("--seed-memories", type=int, default=2000, help="default: 2000")
    parser.add_argument("--out", type=Path, help="report folder (default: a new results/ one)")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"keepsake serve exited ({server.returncode})")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"keepsake serve was not ready within {READY_TIMEOUT:.0f} s")


def memory(server: psutil.Process, data_dir: Path) -> dict[str, float]:
    """MiB: the API process (and its children, if any) and every PostgreSQL process."""
    pgdata = str(data_dir.resolve() / "postgres")
    postgres: list[psutil.Process] = []
    for process in psutil.process_iter(["cmdline"]):
        if any(pgdata in part for part in process.info["cmdline"] or ()):
            postgres += [process, *process.children(recursive=True)]
    api = [server, *(p for p in server.children(recursive=True) if p not in postgres)]
    figures = {}
    for name, group in (("api", api), ("postgres", postgres)):
        infos = []
        for process in group:
            try:
                infos.append(process.memory_full_info())
            except psutil.NoSuchProcess:
                continue
        figures[f"{name} rss"] = sum(i.rss for i in infos) / 2**20
        figures[f"{name} uss"] = sum(i.uss for i in infos) / 2**20
    return figures


def locust(
    url: str,
    users: int,
    task_rate: float,
    seconds: int,
    out: Path,
    seed_users: int,
    extra: list[str],
) -> Path:
    args = argparse.Namespace(
        host=url,
        users=users,
        spawn_rate=max(users / 10, 1.0),
        run_time=f"{seconds}s",
        stop_timeout=10,
        task_rate=task_rate,
        seed_users=seed_users,
    )
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / "locust"
    subprocess.run(locust_command(args, prefix, extra), check=False)  # noqa: S603 - ours
    return prefix.with_name("locust_stats.csv")


def read(stats: Path) -> list[dict[str, str]]:
    if not stats.exists():
        raise SystemExit(f"Locust wrote no statistics ({stats})")
    with stats.open(newline="") as file:
        return list(csv.DictReader(file))


def report(rows: list[dict[str, str]]) -> tuple[int, float]:
    print(f"{'request':48} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p99 ms':>7}")
    for row in rows:
        name = f"{row['Type']} {row['Name']}".strip()
        print(
            f"{name[:48]:48} {row['Request Count']:>7} {row['Failure Count']:>5} "
            f"{row['50%']:>7} {row['99%']:>7}"
        )
    total = rows[-1]
    return int(total["Failure Count"]), float(total["Requests/s"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = args.out or HERE / "results" / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with tempfile.TemporaryDirectory(prefix="keepsake-soak-") as folder:
        data_dir = Path(folder) / "var"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        seed = ["admin", "seed", "--users", str(args.seed_users)]
        seed += ["--memories", str(args.seed_memories), "--data-dir", str(data_dir)]
        subprocess.run([str(KEEPSAKE), *seed], check=True)  # noqa: S603 - our own command
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KEEPSAKE_")},
            "KEEPSAKE_RATE_LIMIT_ENABLED": "false",
            "KEEPSAKE_PUBLIC_URL": url,
        }
        serve = [str(KEEPSAKE), "serve", "--port", str(port), "--data-dir", str(data_dir)]
        out.mkdir(parents=True, exist_ok=True)
        with (out / "serve.log").open("wb") as log:
            server = subprocess.Popen(serve, stdout=log, stderr=log, env=env)  # noqa: S603
        try:
            wait_ready(url, server)
            return soak(args, url, psutil.Process(server.pid), data_dir, out)
        finally:
            server.terminate()
            server.wait(timeout=60)


def soak(
    args: argparse.Namespace, url: str, server: psutil.Process, data_dir: Path, out: Path
) -> int:
    max_rps = args.max_rps
    if max_rps is None:
        print(f"probing the maximum: {args.probe_users} users, {args.probe_seconds} s", flush=True)
        # A huge task rate: each user starts its next action as soon as one ends.
        stats = locust(
            url,
            args.probe_users,
            1000.0,
            args.probe_seconds,
            out / "probe",
            args.seed_users,
            # Counted from when every user has started: the sign-ins (slow by design,
            # password hashing) would otherwise lower the maximum.
            ["--reset-stats"],
        )
        _, max_rps = report(read(stats))
    target_rps = args.fraction * max_rps
    users = max(1, math.ceil(target_rps / (args.task_rate * REQUESTS_PER_ACTION)))
    print(
        f"maximum {max_rps:.1f} req/s; soaking at {args.fraction:.0%} = {target_rps:.1f} req/s: "
        f"{users} users × {args.task_rate} actions/s for {args.duration} s",
        flush=True,
    )
    start = memory(server, data_dir)
    started = time.monotonic()
    stats = locust(url, users, args.task_rate, args.duration, out / "soak", args.seed_users, [])
    elapsed = time.monotonic() - started
    end = memory(server, data_dir)
    failures, rps = report(read(stats))
    print(f"achieved {rps:.1f} req/s ({rps / max_rps:.0%} of the maximum) over {elapsed:.0f} s")
    for key in start:
        print(f"{key:13} start {start[key]:8.1f} MiB   end {end[key]:8.1f} MiB")
    print(f"failures: {failures}; reports in {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
