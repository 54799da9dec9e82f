"""The harness's load side: `wrk` on its own core, and the CPU each request cost.

CPU time comes from /proc/<pid>/stat: utime + stime of a process, plus cutime + cstime,
the time of its children it has reaped. A PostgreSQL backend that exits during a run is
reaped by the postmaster, so its time still shows there; summed over the postmaster and
its live children, nothing that ran is lost.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

SERVER_CPU, LOAD_CPU = 0, 1
CONNECTIONS = 32
_TICKS = os.sysconf("SC_CLK_TCK")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_LATENCY = re.compile(r"([\d.]+)(us|ms|s)")


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    server: int  # the pid whose CPU is the API's
    script: Path | None = None


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers, and connections that failed or timed out
    api_cpu_us: float
    pg_cpu_us: float


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        print("installing wrk (Debian package)…", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)  # noqa: S607


def postgres_pids(data_dir: Path) -> list[int]:
    """The postmaster serving this folder (its command line names it) and its children."""
    pgdata = str(data_dir.resolve() / "postgres")
    found: set[int] = set()
    for process in psutil.process_iter(["cmdline"]):
        if any(pgdata in part for part in process.info["cmdline"] or ()):
            found |= {process.pid, *(c.pid for c in process.children(recursive=True))}
    return sorted(found)


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue  # ended since it was listed: its parent has its time
        fields = stat.rpartition(")")[2].split()
        ticks[pid] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float:
    # A process born during the run counts from zero.
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / _TICKS


def wrk(target: Target, seconds: int, token: str, pg_dir: Path) -> Run:
    command = ["taskset", "-c", str(LOAD_CPU), "wrk", "-t1", f"-c{CONNECTIONS}"]
    # wrk drops answers slower than its 2 s default from the latencies; on a busy machine
    # those are exactly the ones the p99 must show.
    command += [f"-d{seconds}s", "--timeout", "10s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}"]
    if target.script:
        command += ["-s", str(target.script)]
    api_before = cpu_ticks([target.server])
    pg_before = cpu_ticks(postgres_pids(pg_dir))
    output = subprocess.run(  # noqa: S603 - fixed programs, loopback URL
        [*command, target.url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    api = cpu_seconds_between(api_before, cpu_ticks([target.server]))
    pg = cpu_seconds_between(pg_before, cpu_ticks(postgres_pids(pg_dir)))
    requests = int(grab(r"(\d+) requests in", output))
    statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(statuses.group(1)) if statuses else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    # No answer at all within the run (a stalled server): no cost per request to tell.
    per_request = 1e6 / requests if requests else math.nan
    return Run(
        rps=float(grab(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=latency(grab(r"^\s+50%\s+(\S+)", output)),
        p99_ms=latency(grab(r"^\s+99%\s+(\S+)", output)),
        requests=requests,
        errors=errors,
        api_cpu_us=api * per_request,
        pg_cpu_us=pg * per_request,
    )


def grab(pattern: str, output: str) -> str:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{output}")
    return found.group(1)


def latency(value: str) -> float:
    """Milliseconds from wrk's `812.00us`, `3.20ms` or `1.02s`."""
    found = _LATENCY.fullmatch(value)
    if found is None:
        raise RuntimeError(f"wrk printed a latency of {value!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def clap_script(folder: Path, memory_ids: list[str]) -> Path:
    """Clap once per request, rotating over memories so none reaches the 50-clap cap."""
    ids = ", ".join(f'"{i}"' for i in memory_ids)
    path = folder / "clap.lua"
    # A fresh Idempotency-Key per request, as an app sends one per tap; the run id keeps
    # the keys of different runs apart, so that none is a cheap replay.
    path.write_text(
        f"""local ids = {{{ids}}}
local run, i = "{uuid.uuid4().hex}", 0
wrk.method = "POST"
wrk.body = '{{"count":1}}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  wrk.headers["Idempotency-Key"] = run .. "-" .. i
  return wrk.format(nil, "/v1/memories/" .. ids[(i % #ids) + 1] .. "/claps")
end
"""
    )
    return path


def follow_script(folder: Path, handles: list[str]) -> Path:
    """Follow, then unfollow, each of `handles` in turn: the graph ends as it began."""
    names = ", ".join(f'"{h}"' for h in handles)
    path = folder / "follow.lua"
    path.write_text(
        f"""local handles, i = {{{names}}}, 0
request = function()
  i = i + 1
  local method = (i % 2 == 0) and "DELETE" or "POST"
  local handle = handles[math.floor((i - 1) / 2) % #handles + 1]
  return wrk.format(method, "/v1/users/" .. handle .. "/follow")
end
"""
    )
    return path
