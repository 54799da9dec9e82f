"""The APNs and FCM clients against local providers, and pushes end to end."""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings
from keepsake.push.apns import ApnsClient
from keepsake.push.fcm import FcmClient
from keepsake.push.messages import PushMessage
from keepsake.push.outcome import Outcome, ProviderUnavailable
from keepsake.worker import in_process_worker, job_resources
from tests.fixtures.polling import eventually
from tests.fixtures.push_servers import (
    APNS_KEY_ID,
    APNS_TEAM,
    APNS_TOPIC,
    Providers,
    providers,
)
from tests.fixtures.tls_servers import Tls, make_tls
from tests.graph.test_graph import follow
from tests.notifications.test_notifications import clap, insert_memory
from tests.push.test_devices import IPHONE, PIXEL, devices, register

SignUp = Callable[..., Any]
Json = dict[str, Any]
MESSAGE = PushMessage(
    body="Theo followed you.", kind="follow", notification_id="n-1", collapse_id="n-1"
)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def fakes(tls: Tls, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Providers]:
    # The server's own gateway trusts the test CA the way it trusts any: SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    async with providers(tls) as running:
        yield running


@pytest.fixture
async def http(tls: Tls, fakes: Providers) -> AsyncIterator[httpx.AsyncClient]:
    # Closed before the fakes stop (it depends on them): a server waits for its clients'
    # TLS goodbyes when it shuts down.
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    async with httpx.AsyncClient(http2=True, verify=context) as client:
        yield client


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def apns(http: httpx.AsyncClient, fakes: Providers, clock: Callable[[], float]) -> ApnsClient:
    return ApnsClient(
        http,
        url=fakes.apns_url,
        key_id=APNS_KEY_ID,
        team_id=APNS_TEAM,
        private_key=fakes.apns.private_pem,
        topic=APNS_TOPIC,
        clock=clock,
    )


def fcm(http: httpx.AsyncClient, fakes: Providers, clock: Callable[[], float]) -> FcmClient:
    return FcmClient(
        http,
        url=fakes.fcm.base_url,
        token_url=fakes.fcm.token_url,
        service_account=fakes.fcm.service_account(),
        clock=clock,
    )


async def test_apns_push_is_signed_and_shaped_as_apple_requires(
    http: httpx.AsyncClient, fakes: Providers
) -> None:
    assert await apns(http, fakes, time.time).send(IPHONE, MESSAGE) is Outcome.sent
    [got] = fakes.apns.delivered
    assert got.http_version == "2"
    assert got.path == f"/3/device/{IPHONE}"
    assert got.headers["apns-topic"] == APNS_TOPIC
    assert got.headers["apns-push-type"] == "alert"
    assert got.headers["apns-collapse-id"] == "n-1"
    assert int(got.headers["apns-expiration"]) > time.time()
    assert got.body == {
        "aps": {"alert": {"body": "Theo followed you."}, "sound": "default", "thread-id": "follow"},
        "kind": "follow",
        "notification_id": "n-1",
    }
    header = jwt.get_unverified_header(fakes.apns.provider_tokens[0])
    assert (header["alg"], header["kid"]) == ("ES256", APNS_KEY_ID)


async def test_apns_token_is_reused_then_renewed_within_the_hour(
    http: httpx.AsyncClient, fakes: Providers
) -> None:
    clock = Clock(time.time() - 55 * 60)
    client = apns(http, fakes, clock)
    await client.send(IPHONE, MESSAGE)
    clock.now += 20 * 60  # APNs throttles refreshes more often than every 20 minutes
    await client.send(IPHONE, MESSAGE)
    # 55 minutes after the first, past our 50-minute renewal and before APNs' hour.
    clock.now = time.time()
    await client.send(IPHONE, MESSAGE)
    first, second, third = fakes.apns.provider_tokens
    assert first == second != third
    assert len(fakes.apns.delivered) == 3


async def test_apns_gone_tokens_and_outages(http: httpx.AsyncClient, fakes: Providers) -> None:
    client = apns(http, fakes, time.time)
    fakes.apns.unregistered.add("aa" * 32)
    fakes.apns.bad_tokens.add("bb" * 32)
    assert await client.send("aa" * 32, MESSAGE) is Outcome.unregistered
    assert await client.send("bb" * 32, MESSAGE) is Outcome.unregistered

    fakes.apns.outages.append(503)
    with pytest.raises(ProviderUnavailable):
        await client.send(IPHONE, MESSAGE)
    assert await client.send(IPHONE, MESSAGE) is Outcome.sent


async def test_apns_refusing_an_expired_token_gets_a_fresh_one(
    http: httpx.AsyncClient, fakes: Providers
) -> None:
    # A clock that ran slow signs a token APNs already considers too old.
    clock = Clock(time.time() - 61 * 60)
    client = apns(http, fakes, clock)
    with pytest.raises(ProviderUnavailable):
        await client.send(IPHONE, MESSAGE)
    clock.now = time.time()
    assert await client.send(IPHONE, MESSAGE) is Outcome.sent


async def test_fcm_push_uses_a_cached_service_account_token(
    http: httpx.AsyncClient, fakes: Providers
) -> None:
    client = fcm(http, fakes, time.time)
    assert await client.send(PIXEL, MESSAGE) is Outcome.sent
    assert await client.send(PIXEL, MESSAGE) is Outcome.sent
    assert len(fakes.fcm.access_tokens) == 1
    got = fakes.fcm.delivered[0]
    assert got.http_version == "2"
    assert got.path == "/v1/projects/keepsake-test/messages:send"
    assert got.headers["authorization"] == f"Bearer {fakes.fcm.access_tokens[0]}"
    assert got.body["message"] == {
        "token": PIXEL,
        "notification": {"body": "Theo followed you."},
        "data": {"kind": "follow", "notification_id": "n-1"},
        "android": {"priority": "normal", "collapse_key": "n-1", "notification": {"tag": "n-1"}},
    }


async def test_fcm_token_is_renewed_before_it_expires(
    http: httpx.AsyncClient, fakes: Providers
) -> None:
    fakes.fcm.expires_in = 120
    # In the past: Google refuses an assertion issued in the future.
    clock = Clock(time.time() - 100)
    client = fcm(http, fakes, clock)
    await client.send(PIXEL, MESSAGE)
    clock.now += 30
    await client.send(PIXEL, MESSAGE)
    assert len(fakes.fcm.access_tokens) == 1
    clock.now += 31  # within a minute of the expiry
    await client.send(PIXEL, MESSAGE)
    assert len(fakes.fcm.access_tokens) == 2


async def test_fcm_gone_tokens_and_a_revoked_access_token(
    http: httpx.AsyncClient, fakes: Providers
) -> None:
    client = fcm(http, fakes, time.time)
    fakes.fcm.unregistered.add("gone-token")
    fakes.fcm.invalid.add("not-a-token")
    assert await client.send("gone-token", MESSAGE) is Outcome.unregistered
    assert await client.send("not-a-token", MESSAGE) is Outcome.unregistered

    fakes.fcm.revoke_tokens()
    with pytest.raises(ProviderUnavailable):
        await client.send(PIXEL, MESSAGE)
    assert await client.send(PIXEL, MESSAGE) is Outcome.sent


async def _count_is(rows: Awaitable[list[Any]], n: int) -> bool:
    return len(await rows) == n


@asynccontextmanager
async def pushing(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The job worker with these settings (the fakes' URLs and keys)."""
    state = app.state
    async with in_process_worker(job_resources(settings, state.sessionmaker, state.storage)):
        yield


@pytest.fixture
def push_settings(app: FastAPI, fakes: Providers) -> Settings:
    return fakes.settings(app.state.settings)


async def test_a_follow_reaches_every_device_of_the_followee(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sign_up: SignUp,
    fakes: Providers,
    push_settings: Settings,
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await register(client, mina, "ios", IPHONE)
    await register(client, mina, "android", PIXEL)
    await register(client, theo, "ios", "cd" * 32)
    await follow(client, theo, "mina")
    async with pushing(app, push_settings):
        await eventually(lambda: len(fakes.pushes()) == 2)
    assert fakes.pushes() == ["Theo followed you."] * 2
    assert fakes.apns.delivered[0].path == f"/3/device/{IPHONE}"
    assert fakes.fcm.delivered[0].body["message"]["token"] == PIXEL
    async with engine.connect() as conn:
        owed = await conn.scalar(text("SELECT count(*) FROM notifications WHERE pushed_at IS NULL"))
    assert owed == 0


async def test_a_token_the_provider_disowns_removes_the_device(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sign_up: SignUp,
    fakes: Providers,
    push_settings: Settings,
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await register(client, mina, "ios", IPHONE)
    await register(client, mina, "android", PIXEL)
    await register(client, mina, "ios", "ee" * 32)
    fakes.apns.unregistered.add(IPHONE)
    fakes.fcm.unregistered.add(PIXEL)
    await follow(client, theo, "mina")
    async with pushing(app, push_settings):
        await eventually(lambda: len(fakes.pushes()) == 1)
        await eventually(lambda: _count_is(devices(engine), 1))
    assert await devices(engine) == [("mina", "ios", "ee" * 32)]


async def test_a_memorys_claps_push_once_per_batch(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sign_up: SignUp,
    fakes: Providers,
    push_settings: Settings,
) -> None:
    mina = await sign_up("mina")
    clappers = [await sign_up(name) for name in ("ada", "theo", "lena")]
    await register(client, mina, "ios", IPHONE)
    memory = await insert_memory(engine, mina)
    for member in clappers:
        await clap(client, member, memory, 2)
    async with pushing(app, push_settings):
        await eventually(lambda: len(fakes.pushes()) == 1)
        # More claps while the batch is unread join it quietly.
        await clap(client, clappers[0], memory, 5)
        await follow(client, clappers[1], "mina")
        await eventually(lambda: len(fakes.pushes()) == 2)
    assert fakes.pushes() == ["Lena and 2 others clapped for your memory.", "Theo followed you."]


async def test_a_provider_outage_is_retried_for_that_device_only(
    app: FastAPI,
    client: httpx.AsyncClient,
    sign_up: SignUp,
    fakes: Providers,
    push_settings: Settings,
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await register(client, mina, "ios", IPHONE)
    await register(client, mina, "android", PIXEL)
    fakes.apns.outages.append(503)
    await follow(client, theo, "mina")
    async with pushing(app, push_settings):
        await eventually(lambda: len(fakes.fcm.delivered) == 1)
        # APNs answered 503 once; the retry (3 s later) reaches the iPhone, and Android
        # is not sent the push a second time.
        await eventually(lambda: len(fakes.apns.delivered) == 1, seconds=20)
    assert fakes.pushes() == ["Theo followed you."] * 2
