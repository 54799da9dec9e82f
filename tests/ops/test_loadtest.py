"""The Locust scenario, run briefly against a real `keepsake serve`, so that it cannot rot.

Timings are not asserted (ARCHITECTURE.md): the thresholds here are loose, only the
failure ratio is the real one, and the point is that every step of the scenario still
works against the API and that the runner gives its verdict with its reports.
"""

from __future__ import annotations

import contextlib
import csv
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.keepsake_cli import READY_TIMEOUT, keepsake_runner

# Process-level (Locust against a real `keepsake serve`): `--quick` leaves these out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "loadtest" / "run.py"
SEED_USERS = 30
LOOSE = """
max_failure_ratio = 0.001
[default]
p95_ms = 60000
p99_ms = 60000
"""
# A run's own limit: Locust's run time, plus start-up, plus a safety margin.
RUN_TIMEOUT = 180
SENT = re.compile(r"worker (\d+) sent (\d+) requests")


@dataclass(frozen=True)
class Target:
    url: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """A seeded `keepsake serve`, as the operator would load-test it."""
    with keepsake_runner() as keepsake:
        # Seeded before serve starts: the embedded PostgreSQL belongs to one process.
        seeded = keepsake.run("admin", "seed", "--users", str(SEED_USERS), "--memories", "60")
        assert seeded.returncode == 0, seeded.stderr
        port = free_port()
        env = {
            **keepsake.env,
            # Signed upload and media URLs must point at this server's real port.
            "KEEPSAKE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            # Every simulated user signs in from 127.0.0.1, in seconds.
            "KEEPSAKE_RATE_LIMIT_ENABLED": "false",
            "KEEPSAKE_LOG_LEVEL": "WARNING",
        }
        server = keepsake.serve("--port", str(port), env=env)
        yield Target(url=server.base_url)


def run_scenario(
    target: Target, out: Path, thresholds: str = LOOSE, *locust_args: str, users: int = 4
) -> subprocess.CompletedProcess[str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "thresholds.toml").write_text(thresholds)
    argv: list[str | Path] = [
        *(sys.executable, RUN, "--host", target.url, "--seed-users", str(SEED_USERS)),
        *("--users", str(users), "--spawn-rate", str(users), "--run-time", "5s"),
        *("--task-rate", "2", "--thresholds", out / "thresholds.toml", "--out", out),
    ]
    if locust_args:
        argv += ["--", *locust_args]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False, cwd=ROOT
    )


def stats(out: Path) -> dict[str, int]:
    with (out / "locust_stats.csv").open(newline="") as file:
        return {
            f"{row['Type']} {row['Name']}".strip(): int(row["Request Count"])
            for row in csv.DictReader(file)
        }


def test_scenario_runs_headless_and_gives_a_verdict_with_reports(
    target: Target, tmp_path: Path
) -> None:
    result = run_scenario(target, tmp_path / "out")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: PASS" in result.stdout
    assert (tmp_path / "out" / "report.html").stat().st_size > 0
    counts = stats(tmp_path / "out")
    assert counts["POST /v1/auth/login"] == 4
    assert counts["GET /v1/feed/home"] > 0
    assert counts["Aggregated"] > counts["POST /v1/auth/login"]


def test_a_threshold_exceeded_fails_the_run(target: Target, tmp_path: Path) -> None:
    strict = "max_failure_ratio = 0.001\n[default]\np95_ms = 0\np99_ms = 0\n"

    result = run_scenario(target, tmp_path / "out", strict, users=1)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "verdict: FAIL" in result.stdout
    assert "POST /v1/auth/login p95" in result.stdout


def test_a_master_and_two_workers_both_send_requests(target: Target, tmp_path: Path) -> None:
    port = str(free_port())
    logs = [tmp_path / f"worker-{index}.log" for index in range(2)]
    with contextlib.ExitStack() as stack:
        workers = []
        for log in logs:
            out = stack.enter_context(log.open("w"))
            worker = subprocess.Popen(
                [
                    *(sys.executable, "-m", "locust", "-f", ROOT / "loadtest" / "locustfile.py"),
                    *("--worker", "--master-host", "127.0.0.1", "--master-port", port),
                ],
                stdout=out,
                stderr=out,
            )
            stack.callback(stop, worker)
            workers.append(worker)
        result = run_scenario(
            target,
            tmp_path / "out",
            LOOSE,
            *("--master", "--expect-workers", "2", "--expect-workers-max-wait", "60"),
            *("--master-bind-host", "127.0.0.1", "--master-bind-port", port),
        )
        # The master tells its workers to quit once the run is over.
        for worker in workers:
            worker.wait(timeout=READY_TIMEOUT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: PASS" in result.stdout
    sent = {}
    for log in logs:
        found = SENT.findall(log.read_text())
        assert found, log.read_text()
        index, count = found[-1]
        sent[int(index)] = int(count)
    assert sorted(sent) == [0, 1], sent
    assert all(count > 0 for count in sent.values()), sent


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
