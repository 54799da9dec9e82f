"""Memories survive the processes that handle them: real servers, killed and restarted."""

from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.media import probe
from tests.conftest import PASSWORD
from tests.fixtures.keepsake_cli import Keepsake, Server, wait_for
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import local_path

# Process-level (real servers and workers, killed and restarted): `--quick` leaves these out.
pytestmark = pytest.mark.slow

# Short enough that the test waits seconds, not the production defaults' minutes.
QUICK_RECOVERY = {"KEEPSAKE_STALLED_JOB_TIMEOUT": "PT3S", "KEEPSAKE_RECONCILE_INTERVAL": "PT1S"}
PROCESSED_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """720p with sound, long enough that its transcode takes seconds (3.7 s of CPU, 5–7 s
    on a busy two-core machine): a kill -9 soon after the job starts lands inside it."""
    path = tmp_path_factory.mktemp("clips") / "walk.mp4"
    return write_video(path, size=(1280, 720), seconds=20, audio="aac")


class App:
    """What the phone app does over HTTP: sign up, upload a clip, create a memory, poll."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.headers: dict[str, str] = {}

    def use(self, server: Server) -> None:
        self.http.base_url = httpx.URL(server.base_url)

    def sign_up(self, handle: str) -> None:
        body = {
            "email": f"{handle}@example.com",
            "password": PASSWORD,
            "handle": handle,
            "display_name": handle.title(),
        }
        response = self.http.post("/v1/auth/signup", json=body)
        assert response.status_code == 201, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['tokens']['access_token']}"}

    def create_memory(self, clip: Path) -> str:
        data = clip.read_bytes()
        body = {"purpose": "clip", "content_type": "video/mp4", "size_bytes": len(data)}
        target = self.http.post("/v1/uploads", json=body, headers=self.headers)
        assert target.status_code == 201, target.text
        url, headers = target.json()["upload_url"], target.json()["headers"]
        # The URL names KEEPSAKE_PUBLIC_URL; the server under test listens on a free port.
        sent = self.http.put(local_path(url), content=data, headers=headers)
        assert sent.is_success, sent.text
        body = {"clips": [{"upload_id": target.json()["id"]}], "visibility": "followers"}
        created = self.http.post("/v1/memories", json=body, headers=self.headers)
        assert created.status_code == 202, created.text
        memory_id: str = created.json()["id"]
        return memory_id

    def memory(self, memory_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/memories/{memory_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        memory: dict[str, Any] = response.json()
        return memory

    def wait_processed(self, memory_id: str) -> dict[str, Any]:
        def processed() -> dict[str, Any] | None:
            memory = self.memory(memory_id)
            return None if memory["status"] == "processing" else memory

        return wait_for(processed, timeout=PROCESSED_TIMEOUT, what="the memory to be processed")

    def fetch(self, url: str, dest: Path) -> Path:
        response = self.http.get(local_path(url))
        assert response.status_code == 200
        dest.write_bytes(response.content)
        return dest


@pytest.fixture
def app() -> Iterator[App]:
    with httpx.Client(timeout=30) as http:
        yield App(http)


def job_status(db: psycopg.Connection[Any]) -> str | None:
    row = db.execute(
        "SELECT status FROM procrastinate_jobs WHERE task_name = 'memories:process_memory'"
    ).fetchone()
    return None if row is None else str(row[0])


def processing_state(db: psycopg.Connection[Any], memory_id: str) -> tuple[str, int, int]:
    """The memory's status, its processing attempts, and how many clips are rendered."""
    row = db.execute(
        "SELECT m.status, m.attempts, count(c.video_key) FROM memories m"
        " JOIN clips c ON c.memory_id = m.id WHERE m.id = %s GROUP BY m.id",
        (memory_id,),
    ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2])


def assert_rendered(app: App, memory: dict[str, Any], folder: Path, seconds: float) -> None:
    assert memory["status"] == "ready", memory
    [clip] = memory["clips"]
    video = probe(app.fetch(clip["video_url"], folder / "rendition.mp4"))
    assert video.video_codec == "h264"
    assert video.duration_s == pytest.approx(seconds, abs=0.2)


def test_kill_9_during_a_transcode_then_restart_finishes_the_memory(
    keepsake: Keepsake, app: App, long_clip: Path, tmp_path: Path
) -> None:
    env = {**keepsake.env, **QUICK_RECOVERY}
    server = keepsake.serve(env=env)
    app.use(server)
    app.sign_up("mina")
    memory_id = app.create_memory(long_clip)
    with psycopg.connect(EmbeddedPostgres(keepsake.data_dir).url(), autocommit=True) as db:
        # The job's first step commits the attempt; downloading and probing the clip take
        # milliseconds, and then the transcode runs for seconds.
        wait_for(
            lambda: job_status(db) == "doing" and processing_state(db, memory_id)[1] == 1,
            timeout=30,
            what="the processing to start",
        )

        server.stop(signal.SIGKILL)
        killed_at = time.monotonic()

        # The kill landed before the clip was rendered: there is work left to resume.
        assert processing_state(db, memory_id) == ("processing", 1, 0)
        assert job_status(db) == "doing", "the dead worker's job is still marked running"
        restarted = keepsake.serve(env=env)
        # No request of ours may trigger the processing: only reading, as the app would.
        app.use(restarted)
        memory = app.wait_processed(memory_id)
        recovered_s = time.monotonic() - killed_at

        assert_rendered(app, memory, tmp_path, seconds=20.0)
        assert processing_state(db, memory_id) == ("ready", 2, 1)
        assert job_status(db) is None, "a successful job is deleted"
        assert "job.stalled.retried" in restarted.output()
    assert restarted.stop() == 0
    print(f"kill -9 → ready after restart: {recovered_s:.1f} s")


@pytest.fixture
def external_database() -> Iterator[str]:
    """A PostgreSQL of the test's own, reached by URL as production reaches RDS."""
    with (
        tempfile.TemporaryDirectory(prefix="keepsake-external-pg-") as folder,
        EmbeddedPostgres(Path(folder)).running() as url,
    ):
        yield url


def test_keepsake_worker_processes_what_serve_accepts_and_finishes_it_on_sigterm(
    keepsake: Keepsake, app: App, external_database: str, long_clip: Path, tmp_path: Path
) -> None:
    env = {**keepsake.env, "KEEPSAKE_DATABASE_URL": external_database}
    migrated = keepsake.migrate(env=env)
    assert migrated.returncode == 0, migrated.stderr
    server = keepsake.serve(env={**env, "KEEPSAKE_WORKER_IN_PROCESS": "false"})
    assert "the job worker is off here" in server.output()
    app.use(server)
    app.sign_up("mina")
    memory_id = app.create_memory(long_clip)
    with psycopg.connect(external_database, autocommit=True) as db:
        # An in-process worker would have taken the job within a fraction of a second.
        time.sleep(2)
        assert job_status(db) == "todo"

        # A grace period longer than the transcode, even on a busy machine.
        worker = keepsake.worker(env={**env, "KEEPSAKE_WORKER_SHUTDOWN_TIMEOUT": "PT50S"})
        wait_for(lambda: processing_state(db, memory_id)[1] == 1, timeout=30, what="the processing")
        # As Kubernetes stops a pod in a rolling deploy: the running job is finished first.
        assert worker.stop(signal.SIGTERM) == 0

        assert processing_state(db, memory_id) == ("ready", 1, 1)
    assert "worker stopped" in worker.output()
    assert_rendered(app, app.memory(memory_id), tmp_path, seconds=20.0)
    assert server.stop() == 0
