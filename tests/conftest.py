"""Tests run the real app against a real (embedded) PostgreSQL, one cluster per worker."""

from __future__ import annotations

import email
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from keepsake.config import Settings
from keepsake.db import sqlalchemy_url
from keepsake.embedded_pg import EmbeddedPostgres
from keepsake.main import create_app
from keepsake.migrate import upgrade
from keepsake.models import metadata
from keepsake.worker import in_process_worker, job_resources
from keepsake.write_limits import Write
from tests.fixtures.keepsake_cli import Keepsake, keepsake_runner
from tests.fixtures.polling import eventually

PASSWORD = "a quiet walk by the sea"
TEST_JWT_KEY = "test-signing-key-" + "x" * 32

# Durability does not matter for throw-away test clusters; speed does.
FAST_POSTGRES = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    # Not under pytest's basetemp: pytest resets that folder to mode 0700, which would
    # lock the `embedded_postgres` system user out of a cluster still running.
    folder = Path(tempfile.mkdtemp(prefix="keepsake-test-pg-"))
    postgres = EmbeddedPostgres(folder, server_options=FAST_POSTGRES)
    try:
        with postgres.running() as url:
            upgrade(url)
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def make_settings(database_url: str, data_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": SecretStr(database_url),
            "data_dir": data_dir,
            "jwt_keys": {"test": SecretStr(TEST_JWT_KEY)},
            "jwt_active_kid": "test",
            "storage_signing_key": SecretStr("test-storage-key-" + "s" * 32),
            "log_json": False,
            "log_level": "WARNING",
            # argon2 at production cost spends ~40 s of CPU per run on sign-ups and log-ins.
            "password_hash_profile": "cheapest",
            "rate_limit_signup_per_ip": 1000,
            "rate_limit_login_per_ip": 1000,
            "rate_limit_login_per_account": 1000,
            "rate_limit_login_per_account_ip": 1000,
            "rate_limit_refresh_per_ip": 1000,
            "rate_limit_password_per_ip": 1000,
            "rate_limit_password_per_account": 1000,
            **{f"rate_limit_{kind.value}_per_hour": 100_000 for kind in Write},
            # Tests start a worker only where they need one (`worker` fixture), so each
            # test decides which settings process its jobs.
            "worker_in_process": False,
            "reconcile_interval": timedelta(seconds=0.5),
            "stalled_job_timeout": timedelta(seconds=3),
            "processing_retry_wait_s": 0,
            "processing_max_attempts": 3,
        }
        return Settings(**{**values, **overrides})

    return make


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started, and a client that calls it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://keepsake.test") as c:
            yield c


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(sqlalchemy_url(database_url))
    yield eng
    await eng.dispose()


@pytest.fixture(autouse=True)
async def _clean_database(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    # The job queue's tables too: a test's jobs must not run in the next test.
    tables = ", ".join([t.name for t in metadata.sorted_tables] + ["procrastinate_jobs"])
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def worker(app: FastAPI) -> AsyncIterator[None]:
    """The job worker, running beside the session's app for one test."""
    state = app.state
    async with in_process_worker(job_resources(state.settings, state.sessionmaker, state.storage)):
        yield


@pytest.fixture
def keepsake() -> Iterator[Keepsake]:
    """The `keepsake` command on a fresh data folder, for process-level tests."""
    with keepsake_runner() as runner:
        yield runner


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keepsake.test") as c:
        yield c


@dataclass
class Member:
    """A signed-up user and what a test needs to act as them."""

    id: str
    handle: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


_serial = itertools.count()


async def new_member(client: httpx.AsyncClient, handle: str, **fields: Any) -> Member:
    """Sign `handle` up through `client` (this session's app or another), with `PASSWORD`."""
    body = {
        "email": f"{handle}@example.com",
        "password": PASSWORD,
        "handle": handle,
        "display_name": handle.title(),
        **fields,
    }
    response = await client.post("/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return Member(
        id=data["user"]["id"],
        handle=data["user"]["handle"],
        email=body["email"],
        access_token=data["tokens"]["access_token"],
        refresh_token=data["tokens"]["refresh_token"],
    )


@pytest.fixture
def sign_up(client: httpx.AsyncClient) -> Callable[..., Any]:
    async def sign_up_member(handle: str | None = None, **fields: Any) -> Member:
        return await new_member(client, handle or f"member{next(_serial)}", **fields)

    return sign_up_member


async def reset_token(
    client: httpx.AsyncClient, outbox: Path, to: str, *, asked_as: str | None = None
) -> str:
    """Ask for a password reset as the apps do (as `asked_as`, else `to`) and wait for the
    email a job sends (the `worker` fixture must run): the token of that new email."""
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    response = await client.post("/v1/auth/password/forgot", json={"email": asked_as or to})
    assert response.status_code == 202, response.text

    def sent() -> str | None:
        new = set(outbox.glob("*.eml")) - before if outbox.exists() else set()
        for path in new:
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] == to and "Reset" in message["Subject"]:
                return emailed_token(outbox, to, "Reset your Keepsake password")
        return None

    return await eventually(sent, seconds=60, what=f"a reset email to {to}")


def emailed_token(outbox: Path, to: str, subject_contains: str) -> str:
    """The token of the newest matching `.eml` written by the outbox mailer."""
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to and subject_contains in message["Subject"]:
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            for line in body.decode().splitlines():
                if line.startswith("Token: "):
                    return line.removeprefix("Token: ")
    raise AssertionError(f"no email to {to} about {subject_contains!r}")
