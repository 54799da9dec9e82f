"""What the push clients need from `Settings` (`KEEPSAKE_APNS_*`, `KEEPSAKE_FCM_*`).

A provider missing any of its credentials is switched off."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import SecretStr

from keepsake.config import Settings

APNS_URL = "https://api.push.apple.com"
FCM_URL = "https://fcm.googleapis.com"
GOOGLE_OAUTH_URL = "https://oauth2.googleapis.com/token"
# Claps wait this long before their push, so a memory's first minutes of claps go out
# as one push ("3 people clapped for your memory") rather than one push per clap.
CLAPS_GATHER = timedelta(minutes=5)
PUSH_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PushConfig:
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    # Kept out of repr, so a logged config never shows a key.
    apns_private_key: str | None = field(default=None, repr=False)
    apns_topic: str | None = None
    apns_url: str = APNS_URL
    fcm_project_id: str | None = None
    fcm_service_account: str | None = field(default=None, repr=False)
    fcm_url: str = FCM_URL
    fcm_token_url: str = GOOGLE_OAUTH_URL
    claps_gather: timedelta = CLAPS_GATHER
    timeout_s: float = PUSH_TIMEOUT_S


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def push_config(settings: Settings) -> PushConfig:
    """The push part of `settings`, secrets unwrapped for the clients."""
    return PushConfig(
        apns_key_id=settings.apns_key_id,
        apns_team_id=settings.apns_team_id,
        apns_private_key=_secret(settings.apns_private_key),
        apns_topic=settings.apns_topic,
        apns_url=settings.apns_url,
        fcm_project_id=settings.fcm_project_id,
        fcm_service_account=_secret(settings.fcm_service_account),
        fcm_url=settings.fcm_url,
        fcm_token_url=settings.fcm_token_url,
        claps_gather=settings.push_claps_gather,
        timeout_s=settings.push_timeout_s,
    )
