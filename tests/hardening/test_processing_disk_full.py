"""The media folder's disk full while a memory is processed: the rendition cannot be
stored, the memory is retried and then failed with `storage_full` (never left
processing), and no partial file stays. The memory's folder is a tmpfs filled to the
last byte, mounted for the test (CI runs as root)."""

from __future__ import annotations

import errno
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.storage import keys
from keepsake.worker import in_process_worker, job_resources
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, upload, wait_processed

SignUp = Callable[..., Any]
DISK_BYTES = 64 * 1024


def fill(folder: Path) -> Path:
    """Writes one file until the disk under `folder` has no byte left."""
    filler = folder / "filler"
    refused: OSError | None = None
    with filler.open("wb", buffering=0) as out:
        # Pages first, then single bytes for what the last page may still hold.
        for size in (4096, 1):
            while refused is None or refused.errno != errno.ENOSPC:
                try:
                    out.write(b"\0" * size)
                except OSError as error:
                    refused = error
                    break
            assert refused is not None
            assert refused.errno == errno.ENOSPC, refused
            refused = None if size == 4096 else refused
    return filler


@pytest.fixture
def full_disk_at() -> Iterator[Callable[[Path], Path]]:
    mounted: list[Path] = []

    def mount(folder: Path) -> Path:
        folder.mkdir(parents=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"mounting a small tmpfs needs root: {done.stderr}"
        mounted.append(folder)
        return fill(folder)

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


async def test_a_full_disk_during_processing_fails_the_memory_with_storage_full(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    tmp_path: Path,
    engine: AsyncEngine,
    data_dir: Path,
    app: FastAPI,
    full_disk_at: Callable[[Path], Path],
) -> None:
    mina = await sign_up("mina")
    upload_id = await upload(client, mina, write_video(tmp_path / "a.mp4"), "video/mp4")
    memory = await create_memory(client, mina, [upload_id])
    # Where the renditions go: full before any worker runs.
    folder = data_dir / "media" / keys.memory_folder(uuid.UUID(memory["id"]))
    filler = full_disk_at(folder)

    state = app.state
    async with in_process_worker(job_resources(state.settings, state.sessionmaker, state.storage)):
        failed = await wait_processed(client, mina, memory["id"])

    assert failed["status"] == "failed"
    assert failed["failure"]["code"] == "storage_full"
    assert failed["failure"]["detail"]
    assert list(folder.rglob("*")) == [filler]
    async with engine.connect() as conn:
        attempts = await conn.scalar(
            text("SELECT attempts FROM memories WHERE id = :id"), {"id": memory["id"]}
        )
    assert attempts == state.settings.processing_max_attempts
