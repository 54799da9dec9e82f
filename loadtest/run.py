"""Run the Keepsake load test headless, then give a verdict against loadtest/thresholds.toml.

    .venv/bin/python loadtest/run.py --host http://127.0.0.1:8000 --users 50 \\
        --spawn-rate 10 --run-time 60s --seed-users 10000

runs `locust -f loadtest/locustfile.py --headless` for a fixed duration at a fixed
arrival rate (users × --task-rate app actions per second), writes `stats.csv`,
`failures.csv` and `report.html` into --out (by default a new folder under
loadtest/results/), then checks the failure ratio and each request's p95 and p99
against the thresholds, prints a table and a `verdict:` line, and exits 1 when a
threshold is exceeded (2 when Locust produced no statistics at all). Arguments after
`--` go to Locust as they are, e.g. `-- --master --expect-workers 4`.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Row:
    """One line of Locust's stats CSV: a request type and name, or the aggregate."""

    kind: str
    name: str
    requests: int
    failures: int
    p95_ms: float
    p99_ms: float

    @property
    def key(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Check:
    what: str
    value: float
    limit: float

    @property
    def ok(self) -> bool:
        return self.value <= self.limit


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="http://127.0.0.1:8000", help="default: %(default)s")
    parser.add_argument("--users", type=int, default=20, help="simulated users; default: 20")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second")
    parser.add_argument("--run-time", default="60s", help="Locust duration; default: 60s")
    parser.add_argument(
        "--task-rate", type=float, default=0.5, help="actions per second per user; default: 0.5"
    )
    parser.add_argument(
        "--seed-users", type=int, default=1000, help="accounts seeded on the target"
    )
    parser.add_argument(
        "--stop-timeout",
        type=int,
        default=10,
        help="seconds an action under way may take to finish at the end; default: 10",
    )
    parser.add_argument("--thresholds", type=Path, default=HERE / "thresholds.toml")
    parser.add_argument("--out", type=Path, help="report folder (default: a new results/ one)")
    split = argv.index("--") if "--" in argv else len(argv)
    return parser.parse_args(argv[:split]), argv[split + 1 :]


def locust_command(args: argparse.Namespace, prefix: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        args.host,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        args.run_time,
        # Without it, whatever is in flight when time is up (a sign-in on a slow machine,
        # a wait for a memory to be ready) is cut off and never counted.
        "--stop-timeout",
        str(args.stop_timeout),
        "--task-rate",
        str(args.task_rate),
        "--seed-users",
        str(args.seed_users),
        "--csv",
        str(prefix),
        "--html",
        str(prefix.parent / "report.html"),
        "--only-summary",
        *extra,
    ]


def read_stats(path: Path) -> list[Row]:
    with path.open(newline="") as file:
        return [
            Row(
                kind=line["Type"],
                name=line["Name"],
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                # Locust writes "N/A" for a percentile of an entry with no requests.
                p95_ms=float(line["95%"]) if line["95%"] != "N/A" else 0.0,
                p99_ms=float(line["99%"]) if line["99%"] != "N/A" else 0.0,
            )
            for line in csv.DictReader(file)
        ]


def limits_for(row: Row, thresholds: dict[str, Any]) -> dict[str, float]:
    """The most specific limits: this request, then its class (its type), then default."""
    limits: dict[str, float] = dict(thresholds.get("default", {}))
    limits.update(thresholds.get("classes", {}).get(row.kind, {}))
    limits.update(thresholds.get("requests", {}).get(row.key, {}))
    return limits


def check(rows: list[Row], thresholds: dict[str, Any]) -> list[tuple[Row, list[Check]]]:
    results = []
    for row in rows:
        if row.name == "Aggregated":
            ratio = row.failures / row.requests if row.requests else 1.0
            limit = float(thresholds["max_failure_ratio"])
            results.append((row, [Check("failure ratio", ratio, limit)]))
            continue
        limits = limits_for(row, thresholds)
        checks = [
            Check(f"p{p}", value, limits[f"p{p}_ms"])
            for p, value in ((95, row.p95_ms), (99, row.p99_ms))
            if f"p{p}_ms" in limits
        ]
        results.append((row, checks))
    return results


def print_table(results: list[tuple[Row, list[Check]]]) -> None:
    print(f"{'request':46} {'count':>7} {'fail':>5} {'p95 ms':>14} {'p99 ms':>14}  ok")
    for row, checks in results:
        by_name = {c.what: c for c in checks}

        def cell(what: str, value: float, by_name: dict[str, Check] = by_name) -> str:
            found = by_name.get(what)
            return f"{value:.0f} ≤ {found.limit:.0f}" if found else f"{value:.0f}"

        verdict = "yes" if all(c.ok for c in checks) else "NO"
        print(
            f"{row.key.strip()[:46]:46} {row.requests:>7} {row.failures:>5} "
            f"{cell('p95', row.p95_ms):>14} {cell('p99', row.p99_ms):>14}  {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(sys.argv[1:] if argv is None else argv)
    thresholds = tomllib.loads(args.thresholds.read_text())
    out = args.out or HERE / "results" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / "locust"
    command = locust_command(args, prefix, extra)
    print("running:", " ".join(command), flush=True)
    # Locust's own exit code only says whether any request failed; the verdict is ours.
    subprocess.run(command, check=False)  # noqa: S603 - our interpreter and arguments
    stats = prefix.with_name("locust_stats.csv")
    if not stats.exists():
        print(f"verdict: ERROR: Locust wrote no statistics ({stats})", flush=True)
        return 2
    results = check(read_stats(stats), thresholds)
    print_table(results)
    exceeded = [
        f"{row.key.strip()} {c.what}" for row, checks in results for c in checks if not c.ok
    ]
    print(f"reports: {out}/report.html, {stats}")
    if exceeded:
        print(f"verdict: FAIL ({len(exceeded)} exceeded: {', '.join(exceeded)})", flush=True)
        return 1
    print(f"verdict: PASS ({sum(len(c) for _, c in results)} thresholds met)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
