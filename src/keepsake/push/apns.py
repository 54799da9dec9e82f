"""Apple Push Notification service over HTTP/2 with token (ES256 JWT) authentication."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from keepsake.push.messages import PushMessage
from keepsake.push.outcome import Outcome, ProviderUnavailable

log = structlog.get_logger("keepsake.push")

# APNs refuses a provider token older than an hour and one refreshed more often than
# every 20 minutes (TooManyProviderTokenUpdates): renew between the two.
TOKEN_LIFETIME_S = 50 * 60
# Gone for good: the app was removed, or the token was never one of this app's.
GONE_REASONS = frozenset({"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"})
TOKEN_REASONS = frozenset({"ExpiredProviderToken", "InvalidProviderToken"})
# Not urgent: APNs may wait for a moment that suits the phone's battery.
PRIORITY = "5"
# A push still undelivered after a day (phone off) is dropped rather than shown late.
EXPIRY_S = 24 * 60 * 60


class ApnsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        key_id: str,
        team_id: str,
        private_key: str,
        topic: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = load_pem_private_key(private_key.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the APNs key must be the EC (P-256) .p8 key from Apple")
        self._http, self._url, self._topic = http, url.rstrip("/"), topic
        self._key, self._key_id, self._team_id = key, key_id, team_id
        self._clock = clock
        self._token: tuple[str, float] | None = None

    def _bearer(self) -> str:
        now = self._clock()
        if self._token is None or now - self._token[1] >= TOKEN_LIFETIME_S:
            claims = {"iss": self._team_id, "iat": int(now)}
            signed = jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self._key_id})
            self._token = (signed, now)
        return self._token[0]

    def _payload(self, message: PushMessage) -> dict[str, Any]:
        alert = {"body": message.body}
        if message.title:
            alert["title"] = message.title
        return {
            "aps": {"alert": alert, "sound": "default", "thread-id": message.kind},
            **message.data(),
        }

    async def send(self, token: str, message: PushMessage) -> Outcome:
        headers = {
            "authorization": f"bearer {self._bearer()}",
            "apns-topic": self._topic,
            "apns-push-type": "alert",
            "apns-priority": PRIORITY,
            "apns-expiration": str(int(self._clock()) + EXPIRY_S),
        }
        if message.collapse_id:
            headers["apns-collapse-id"] = message.collapse_id
        try:
            response = await self._http.post(
                f"{self._url}/3/device/{token}", json=self._payload(message), headers=headers
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"APNs unreachable: {exc!r}") from exc
        if response.status_code == 200:
            return Outcome.sent
        reason = _reason(response)
        if response.status_code == 410 or reason in GONE_REASONS:
            return Outcome.unregistered
        if reason in TOKEN_REASONS:
            self._token = None
            raise ProviderUnavailable(f"APNs refused the provider token: {reason}")
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(f"APNs answered {response.status_code} {reason}")
        log.error("push.apns.rejected", status=response.status_code, reason=reason)
        return Outcome.rejected


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    return str(reason)
