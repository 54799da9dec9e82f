"""Upload → ready time of a 3-clip memory on embedded defaults (`keepsake serve`).

Run: `.venv/bin/python bench/upload_ready.py [--seconds 10]`. It writes three phone-like
clips with PyAV (a 1280x720 H.264 + AAC clip, a 1920x1080 HEVC `.mov` with a 90°
display rotation, a silent 720p clip), starts `keepsake serve` on a fresh data folder
(embedded PostgreSQL, local storage, in-process worker), then times, as an app would:
create uploads, PUT the bytes, create the memory, poll until `ready`. Prints each phase.
Targets 127.0.0.1 only and stops the server at the end. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.media_factory import write_video  # noqa: E402 - after the path is set

BIN = Path(sys.executable).parent


def call(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> Any:
    payload = data if data is not None else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=payload, method=method)  # noqa: S310 - loopback
    for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        raw = response.read()
        return json.loads(raw) if raw else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each clip")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keepsake-upload-bench-"))
    clips = [
        (
            write_video(work / "a.mp4", size=(1280, 720), seconds=args.seconds, audio="aac"),
            "video/mp4",
        ),
        (
            write_video(
                work / "b.mov",
                size=(1920, 1080),
                seconds=args.seconds,
                codec="libx265",
                rotation=90,
                container_format="mov",
            ),
            "video/quicktime",
        ),
        (write_video(work / "c.mp4", size=(1280, 720), seconds=args.seconds), "video/mp4"),
    ]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "KEEPSAKE_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(  # noqa: S603 - our own console script
        [str(BIN / "keepsake"), "serve", "--port", str(port), "--data-dir", str(work / "var")],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                call("GET", f"{base}/readyz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        auth = call(
            "POST",
            f"{base}/v1/auth/signup",
            {
                "email": "b@example.com",
                "handle": "bench",
                "display_name": "Bench",
                "password": "a quiet walk by the sea",
            },
        )
        headers = {"Authorization": f"Bearer {auth['tokens']['access_token']}"}
        started = time.monotonic()
        ids = []
        for path, content_type in clips:
            data = path.read_bytes()
            target = call(
                "POST",
                f"{base}/v1/uploads",
                {"purpose": "clip", "content_type": content_type, "size_bytes": len(data)},
                headers,
            )
            call(
                "PUT",
                target["upload_url"].replace("http://127.0.0.1:8000", base),
                headers=target["headers"],
                data=data,
            )
            ids.append(target["id"])
        uploaded = time.monotonic()
        memory = call(
            "POST",
            f"{base}/v1/memories",
            {"clips": [{"upload_id": i} for i in ids], "visibility": "followers"},
            headers,
        )
        while memory["status"] == "processing":
            time.sleep(0.2)
            memory = call("GET", f"{base}/v1/memories/{memory['id']}", headers=headers)
        done = time.monotonic()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    total_s = sum(c["duration_s"] for c in memory["clips"])
    print(f"clips: 3 x {args.seconds:.0f} s ({total_s:.1f} s of video), status {memory['status']}")
    print(
        f"upload (3 files, {sum(p.stat().st_size for p, _ in clips) / 1e6:.1f} MB): "
        f"{uploaded - started:.2f} s"
    )
    print(f"create → ready: {done - uploaded:.2f} s")
    print(f"upload → ready: {done - started:.2f} s  ({(done - started) / total_s:.2f} s per s)")


if __name__ == "__main__":
    main()
