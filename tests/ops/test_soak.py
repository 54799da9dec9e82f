"""loadtest/soak.py, run briefly at a tiny rate so that it cannot rot (the real soak is
ten minutes and not in CI; timings are not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# Process-level (seeds, serves and loads a real `keepsake serve`): `--quick` leaves it out.
pytestmark = pytest.mark.slow

SOAK = Path(__file__).resolve().parents[2] / "loadtest" / "soak.py"
MEMORY = re.compile(r"^(api|postgres) (rss|uss) +start +([\d.]+) MiB +end +([\d.]+) MiB$", re.M)


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """The soak runs its own data folder: replaces conftest's cleanup of the shared one."""


def test_a_short_soak_reports_failures_latencies_and_memory(tmp_path: Path) -> None:
    # --max-rps skips the probe; 5 req/s at 60 % is two users at 1.5 actions per second.
    command = [sys.executable, str(SOAK), "--duration", "15", "--max-rps", "5"]
    command += ["--task-rate", "1.5", "--seed-users", "10", "--seed-memories", "20"]
    command += ["--out", str(tmp_path / "soak")]

    result = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "soaking at 60% = 3.0 req/s: 2 users" in result.stdout
    assert re.search(r"^GET /v1/feed/home +\d+ +0 ", result.stdout, re.M), result.stdout
    assert "failures: 0;" in result.stdout
    figures = {(m[1], m[2]): (float(m[3]), float(m[4])) for m in MEMORY.finditer(result.stdout)}
    assert set(figures) == {(p, k) for p in ("api", "postgres") for k in ("rss", "uss")}
    assert all(start > 0 and end > 0 for start, end in figures.values())
    assert (tmp_path / "soak" / "soak" / "locust_stats.csv").exists()
