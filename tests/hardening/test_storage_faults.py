"""The media folder's disk full under a real `keepsake serve`: 507 `storage_full`, no
partial file. The folder is a 256 KiB tmpfs, mounted for the test (CI runs as root)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.fixtures.keepsake_cli import Keepsake, keepsake_runner

pytestmark = pytest.mark.slow

DISK_BYTES = 256 * 1024


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: the server here has its own embedded database."""


@pytest.fixture
def small_disk() -> Iterator[Keepsake]:
    with keepsake_runner() as keepsake:
        media = keepsake.data_dir / "media"
        media.mkdir(parents=True)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(media)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert mounted.returncode == 0, f"mounting a small tmpfs needs root: {mounted.stderr}"
        try:
            yield keepsake
        finally:
            keepsake.close()
            subprocess.run(["umount", "--lazy", str(media)], check=True)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_full_media_disk_answers_507_and_keeps_no_partial_file(small_disk: Keepsake) -> None:
    server = small_disk.serve()
    size = 2 * DISK_BYTES
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        body = {"email": "ana@example.com", "password": PASSWORD, "handle": "ana"}
        tokens = http.post("/v1/auth/signup", json={**body, "display_name": "Ana"}).json()
        headers = {"Authorization": f"Bearer {tokens['tokens']['access_token']}"}
        grant = http.post(
            "/v1/uploads",
            json={"purpose": "clip", "content_type": "video/mp4", "size_bytes": size},
            headers=headers,
        )
        assert grant.status_code == 201, grant.text
        before = files_under(small_disk.data_dir / "media")

        put = httpx.put(
            grant.json()["upload_url"],
            content=b"\0" * size,
            headers=grant.json()["headers"],
            timeout=30,
        )

    assert put.status_code == 507, put.text
    assert put.headers["content-type"] == "application/problem+json"
    assert put.json()["code"] == "storage_full"
    assert files_under(small_disk.data_dir / "media") == before
