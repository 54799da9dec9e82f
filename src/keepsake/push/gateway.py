"""One place that sends a push to a device, whichever provider serves its platform.

A gateway outlives the jobs that use it: APNs wants its connections kept open (it
treats connections opened per push as abuse) and throttles provider-token refreshes,
and Google's OAuth tokens are good for an hour. So each process keeps one gateway per
push configuration — one HTTP/2 connection pool and the providers' token caches — made
on first use.
"""

from __future__ import annotations

import asyncio

import httpx
import structlog

from keepsake.push.apns import ApnsClient
from keepsake.push.config import PushConfig
from keepsake.push.fcm import FcmClient
from keepsake.push.messages import PushMessage
from keepsake.push.models import Platform
from keepsake.push.outcome import Outcome

log = structlog.get_logger("keepsake.push")


class Gateway:
    def __init__(self, config: PushConfig) -> None:
        self.http = httpx.AsyncClient(http2=True, timeout=config.timeout_s)
        self.apns: ApnsClient | None = None
        self.fcm: FcmClient | None = None
        key_id, team_id, key, topic = (
            config.apns_key_id,
            config.apns_team_id,
            config.apns_private_key,
            config.apns_topic,
        )
        # A provider missing any credential stays off: its devices' pushes are skipped.
        if key_id and team_id and key and topic:
            self.apns = ApnsClient(
                self.http,
                url=config.apns_url,
                key_id=key_id,
                team_id=team_id,
                private_key=key,
                topic=topic,
            )
        if config.fcm_service_account:
            self.fcm = FcmClient(
                self.http,
                url=config.fcm_url,
                token_url=config.fcm_token_url,
                service_account=config.fcm_service_account,
                project_id=config.fcm_project_id,
            )

    async def send(self, platform: Platform, token: str, message: PushMessage) -> Outcome:
        client = self.apns if platform == Platform.ios else self.fcm
        if client is None:
            log.info("push.skipped", platform=platform.value, reason="provider not configured")
            return Outcome.skipped
        return await client.send(token, message)

    async def aclose(self) -> None:
        await self.http.aclose()


_gateways: dict[PushConfig, tuple[asyncio.AbstractEventLoop, Gateway]] = {}


def gateway(config: PushConfig) -> Gateway:
    """This process's gateway for `config`, on the running event loop."""
    loop = asyncio.get_running_loop()
    found = _gateways.get(config)
    if found is None or found[0] is not loop:
        found = (loop, Gateway(config))
        _gateways[config] = found
    return found[1]


async def close_gateways() -> None:
    """Close every gateway's connections (a process or a test run ending)."""
    while _gateways:
        _, (_, made) = _gateways.popitem()
        await made.aclose()
