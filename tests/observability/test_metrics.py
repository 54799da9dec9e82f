"""Prometheus metrics: requests by route, jobs by task and outcome, queue depth, the
database pool, media processing, and the worker's own `/metrics`."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake import jobs
from keepsake.config import Settings
from keepsake.health import metrics_app
from keepsake.main import create_app
from keepsake.observability import worker_telemetry
from keepsake.security import utcnow
from tests.conftest import new_member, running
from tests.fixtures.media_factory import write_photo
from tests.fixtures.memory_helpers import create_memory, upload
from tests.observability.test_tracing import A_GOOD_AND_A_BAD_JOB, run_jobs

TASK = "memories:delete_media"


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """The values of the samples called `name`, by their label sets."""
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text, name).get(frozenset(labels.items()))


async def scrape(app: FastAPI) -> str:
    """What Prometheus reads from the metrics listener of `app` (its lifespan started)."""
    transport = httpx.ASGITransport(app=metrics_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics.test") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_a_request_shows_up_in_the_route_histogram(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app) as client:
        mina = await new_member(client, "mina")
        for handle in ("mina", "nobody", "nobody"):
            await client.get(f"/v1/users/{handle}", headers=mina.headers)
        await client.get("/v1/no/such/route")
        text = await scrape(app)

    count = "keepsake_http_request_duration_seconds_count"
    route = "/v1/users/{handle}"
    assert value(text, count, method="GET", route=route, status="200") == 1
    assert value(text, count, method="GET", route=route, status="404") == 2
    bucket = "keepsake_http_request_duration_seconds_bucket"
    assert value(text, bucket, method="GET", route=route, status="404", le="+Inf") == 2
    total = "keepsake_http_request_duration_seconds_sum"
    assert (value(text, total, method="GET", route=route, status="200") or 0) > 0
    # Paths nobody routes are one series, whatever a scanner tries.
    assert value(text, count, method="GET", route="unmatched", status="404") == 1
    assert all(dict(labels)["route"] != "/v1/no/such/route" for labels in samples(text, count))


async def test_jobs_are_timed_by_task_and_outcome(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app):
        await run_jobs(app, *A_GOOD_AND_A_BAD_JOB, A_GOOD_AND_A_BAD_JOB[0])
        text = await scrape(app)

    count = "keepsake_job_duration_seconds_count"
    assert value(text, count, task=TASK, status="succeeded") == 2
    assert value(text, count, task=TASK, status="failed") == 1
    assert value(text, count, task=TASK, status="aborted") is None


async def test_queue_depth_counts_waiting_jobs_by_queue(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app):
        empty = await scrape(app)
        later = utcnow() + timedelta(hours=1)
        async with app.state.sessionmaker() as db, db.begin():
            for queue in ("default", "default", "mail"):
                await jobs.defer(db, TASK, queue=queue, scheduled_at=later, keys=[], prefix=None)
        waiting = await scrape(app)

    depth = "keepsake_job_queue_depth"
    assert samples(empty, depth) == {
        frozenset({("queue", "default"), ("status", "todo")}): 0,
        frozenset({("queue", "default"), ("status", "doing")}): 0,
    }
    assert value(waiting, depth, queue="default", status="todo") == 2
    assert value(waiting, depth, queue="default", status="doing") == 0
    assert value(waiting, depth, queue="mail", status="todo") == 1


async def test_queue_depth_is_left_out_when_the_database_does_not_answer(
    make_settings: Callable[..., Settings],
) -> None:
    url = "postgresql://postgres@/keepsake?host=/nonexistent-socket-dir&connect_timeout=2"
    app = create_app(make_settings(database_url=SecretStr(url)))
    async with running(app):
        text = await scrape(app)

    assert samples(text, "keepsake_job_queue_depth") == {}
    assert value(text, "keepsake_db_pool_checked_out") == 0


async def test_pool_gauges_follow_the_engine(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(database_pool_size=3))
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        idle = await scrape(app)
        async with app.state.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
            busy = await scrape(app)

    assert value(idle, "keepsake_db_pool_size") == 3
    assert value(idle, "keepsake_db_pool_checked_out") == 0
    assert (value(idle, "keepsake_db_pool_idle") or 0) >= 1
    assert value(busy, "keepsake_db_pool_checked_out") == 1


async def test_read_pool_gauges_follow_the_feeds_pool(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(database_read_pool_size=3))
    async with running(app):
        async with app.state.read_db.pool.connection():
            busy = await scrape(app)
        idle = await scrape(app)

    assert value(busy, "keepsake_db_read_pool_checked_out") == 1
    assert value(idle, "keepsake_db_read_pool_checked_out") == 0
    assert (value(idle, "keepsake_db_read_pool_idle") or 0) >= 1
    assert value(idle, "keepsake_db_read_pool_waiting") == 0


async def test_the_session_cache_reports_whether_it_is_trusted(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    async with running(app):
        listening = await scrape(app)
    off = create_app(make_settings(auth_cache_enabled=False))
    async with running(off):
        disabled = await scrape(off)

    assert value(listening, "keepsake_auth_cache_active") == 1
    assert value(listening, "keepsake_auth_cache_entries") == 0
    assert value(listening, "keepsake_auth_cache_invalidations_total") is not None
    assert value(disabled, "keepsake_auth_cache_active") == 0


async def test_media_processing_is_timed(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    async with running(app) as client:
        mina = await new_member(client, "mina")
        photo = write_photo(tmp_path / "photo.jpg")
        await create_memory(client, mina, [await upload(client, mina, photo, "image/jpeg")])
        await run_jobs(app)
        text = await scrape(app)

    assert value(text, "keepsake_media_processing_seconds_count") == 1
    assert (value(text, "keepsake_media_processing_seconds_sum") or 0) > 0
    count = "keepsake_job_duration_seconds_count"
    assert value(text, count, task="memories:process_memory", status="succeeded") == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_a_worker_process_serves_its_own_metrics(
    settings: Settings, engine: AsyncEngine
) -> None:
    port = free_port()
    worker_settings = settings.model_copy(update={"worker_metrics_port": port})
    telemetry = worker_telemetry(worker_settings, engine)
    try:
        telemetry.metrics.job_seconds.labels(TASK, "succeeded").observe(0.2)
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await telemetry.shutdown()
    text = response.text

    assert response.status_code == 200
    count = "keepsake_job_duration_seconds_count"
    assert value(text, count, task=TASK, status="succeeded") == 1
    assert value(text, "keepsake_db_pool_size") is not None
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/metrics")
