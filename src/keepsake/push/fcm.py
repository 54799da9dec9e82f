"""Firebase Cloud Messaging HTTP v1, authorised by a service account's OAuth2 token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import structlog

from keepsake.push.messages import PushMessage
from keepsake.push.outcome import Outcome, ProviderUnavailable

log = structlog.get_logger("keepsake.push")

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600
# Renew a little before Google's expiry, so a token never dies in flight.
EXPIRY_MARGIN_S = 60
# The field a 400 names when the registration token itself is what is wrong.
DEVICE_FIELD = "message.token"


class FcmClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        token_url: str,
        service_account: str,
        project_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        account = json.loads(service_account)
        self._http, self._token_url, self._clock = http, token_url, clock
        self._email: str = account["client_email"]
        self._key: str = account["private_key"]
        self._key_id: str | None = account.get("private_key_id")
        project = project_id or account["project_id"]
        self._send_url = f"{url.rstrip('/')}/v1/projects/{project}/messages:send"
        self._token: tuple[str, float] | None = None
        # Concurrent sends share one token request rather than each making their own.
        self._refreshing = asyncio.Lock()

    async def _access_token(self) -> str:
        async with self._refreshing:
            now = self._clock()
            if self._token is not None and now < self._token[1] - EXPIRY_MARGIN_S:
                return self._token[0]
            claims = {
                "iss": self._email,
                "scope": SCOPE,
                "aud": self._token_url,
                "iat": int(now),
                "exp": int(now) + ASSERTION_LIFETIME_S,
            }
            headers = {"kid": self._key_id} if self._key_id else None
            assertion = jwt.encode(claims, self._key, algorithm="RS256", headers=headers)
            try:
                response = await self._http.post(
                    self._token_url, data={"grant_type": GRANT_TYPE, "assertion": assertion}
                )
            except httpx.HTTPError as exc:
                raise ProviderUnavailable(f"Google OAuth unreachable: {exc!r}") from exc
            if response.status_code != 200:
                raise ProviderUnavailable(f"Google OAuth answered {response.status_code}")
            body = response.json()
            self._token = (body["access_token"], now + float(body["expires_in"]))
            return self._token[0]

    def _payload(self, token: str, message: PushMessage) -> dict[str, Any]:
        notification = {"body": message.body}
        if message.title:
            notification["title"] = message.title
        android: dict[str, Any] = {"priority": "normal"}
        if message.collapse_id:
            android["collapse_key"] = message.collapse_id
            android["notification"] = {"tag": message.collapse_id}
        return {
            "message": {
                "token": token,
                "notification": notification,
                "data": message.data(),
                "android": android,
            }
        }

    async def send(self, token: str, message: PushMessage) -> Outcome:
        bearer = await self._access_token()
        try:
            response = await self._http.post(
                self._send_url,
                json=self._payload(token, message),
                headers={"authorization": f"Bearer {bearer}"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"FCM unreachable: {exc!r}") from exc
        if response.status_code == 200:
            return Outcome.sent
        error = _error(response)
        if _token_is_dead(response.status_code, error):
            return Outcome.unregistered
        if response.status_code == 401:
            self._token = None
            raise ProviderUnavailable("FCM refused the access token")
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(f"FCM answered {response.status_code}")
        log.error("push.fcm.rejected", status=response.status_code, error=error.get("message"))
        return Outcome.rejected


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _token_is_dead(status: int, error: dict[str, Any]) -> bool:
    """404 UNREGISTERED (app removed), or 400 INVALID_ARGUMENT that names the token."""
    details = [d for d in error.get("details", []) if isinstance(d, dict)]
    codes = {d.get("errorCode") for d in details}
    if status == 404 and (error.get("status") == "NOT_FOUND" or "UNREGISTERED" in codes):
        return True
    if status == 400 and error.get("status") == "INVALID_ARGUMENT":
        fields = {
            violation.get("field")
            for d in details
            for violation in d.get("fieldViolations", [])
            if isinstance(violation, dict)
        }
        return DEVICE_FIELD in fields or "registration token" in str(error.get("message", ""))
    return False
