"""All configuration, read once from `KEEPSAKE_*` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only signing key. `Settings` refuses it outside development so a
# forgotten variable can never ship a guessable key.
DEV_JWT_KEY = "keepsake-development-signing-key-do-not-use-in-production"
DEV_STORAGE_KEY = "keepsake-development-storage-key-do-not-use-in-production"

PasswordHashProfile = Literal["rfc9106_low_memory", "cheapest"]


class Settings(BaseSettings):
    """Every setting of the server; a test builds its own instance."""

    model_config = SettingsConfigDict(env_prefix="KEEPSAKE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; when unset, `keepsake serve` starts an embedded PostgreSQL.",
    )
    database_pool_size: int = 10
    # A feed page holds a connection for about a millisecond (with the network), so a few
    # serve thousands of pages a second; more only crowd PostgreSQL (measured: 10 against 4
    # cost 15 % more PostgreSQL CPU per page at the same load).
    database_read_pool_size: int = 4
    public_url: str = "http://127.0.0.1:8000"
    trust_forwarded_for: bool = False

    jwt_keys: dict[str, SecretStr] = Field(default_factory=lambda: {"dev": SecretStr(DEV_JWT_KEY)})
    jwt_active_kid: str = "dev"
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=60)
    email_token_ttl: timedelta = timedelta(hours=24)
    password_reset_ttl: timedelta = timedelta(hours=1)

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    email_from: str = "Keepsake <no-reply@keepsake.invalid>"

    apple_client_ids: list[str] = Field(default_factory=list)
    apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    apple_issuer: str = "https://appleid.apple.com"
    google_client_ids: list[str] = Field(default_factory=list)
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    google_issuers: list[str] = Field(
        default_factory=lambda: ["https://accounts.google.com", "accounts.google.com"]
    )
    # Kakao's native app key and REST API key both appear as ID tokens' audience.
    kakao_client_ids: list[str] = Field(default_factory=list)
    kakao_jwks_url: str = "https://kauth.kakao.com/.well-known/jwks.json"
    kakao_issuer: str = "https://kauth.kakao.com"
    jwks_cache_ttl: timedelta = timedelta(hours=1)
    auth_cache_enabled: bool = Field(
        default=True,
        description="Remember checked access tokens per process, forgotten on PostgreSQL "
        "notifications; off: every request checks its session in the database.",
    )
    auth_cache_max_entries: int = Field(
        default=100_000, ge=1, description="Access tokens remembered per process."
    )

    password_hash_profile: PasswordHashProfile = Field(
        default="rfc9106_low_memory",
        description="argon2id cost of new password hashes; `cheapest` is for test suites only.",
    )

    rate_limit_enabled: bool = True
    rate_limit_signup_per_ip: int = 10
    rate_limit_login_per_ip: int = 30
    rate_limit_login_per_account: int = 100
    rate_limit_login_per_account_ip: int = 10
    rate_limit_refresh_per_ip: int = 60
    rate_limit_password_per_ip: int = 10
    rate_limit_password_per_account: int = 5
    rate_limit_window: timedelta = timedelta(minutes=15)
    # Writes per account and hour (`keepsake.write_limits`): far above what a person does.
    rate_limit_write_window: timedelta = timedelta(hours=1)
    rate_limit_uploads_per_hour: int = 300
    rate_limit_memories_per_hour: int = 60
    rate_limit_claps_per_hour: int = 1000
    rate_limit_follows_per_hour: int = 200
    rate_limit_reports_per_hour: int = 30
    rate_limit_blocks_per_hour: int = 100
    rate_limit_profile_edits_per_hour: int = 60
    rate_limit_devices_per_hour: int = 20
    rate_limit_appeals_per_hour: int = 20
    rate_limit_search_per_account: int = Field(
        default=600, ge=1, description="People and hashtag searches per account per window."
    )

    worker_in_process: bool = Field(
        default=True, description="Run the job worker inside `keepsake serve` (off in production)."
    )
    worker_concurrency: int = 1
    reconcile_interval: timedelta = timedelta(seconds=60)
    stalled_job_timeout: timedelta = timedelta(seconds=30)
    worker_shutdown_timeout: timedelta = timedelta(seconds=20)
    processing_max_attempts: int = 4
    processing_retry_wait_s: int = 5
    processing_deadline: timedelta = timedelta(minutes=20)

    storage_backend: Literal["local", "s3"] = "local"
    storage_signing_key: SecretStr = Field(
        default=SecretStr(DEV_STORAGE_KEY),
        description="HMAC key of the local backend's signed upload and media URLs.",
    )
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_endpoint_url: str | None = Field(
        default=None, description="Only for S3-compatible servers other than AWS (tests, MinIO)."
    )
    cloudfront_domain: str | None = None
    cloudfront_key_pair_id: str | None = None
    cloudfront_private_key: SecretStr | None = Field(
        default=None, description="PEM of the CloudFront key pair that signs media URLs."
    )

    max_json_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body outside uploads; larger ones answer 413 while read.",
    )
    upload_ttl: timedelta = timedelta(hours=1)
    max_open_uploads: int = Field(
        default=30, ge=1, description="Uploads a person may hold granted and not yet used."
    )
    max_clip_bytes: int = 200 * 1024 * 1024
    max_avatar_bytes: int = 10 * 1024 * 1024
    max_music_bytes: int = 30 * 1024 * 1024
    max_clips: int = 10
    max_memory_seconds: float = 240.0
    max_caption_chars: int = 2000
    # On the 5-minute signing grid (`storage.base`), a URL then lives 5–10 minutes: apps
    # re-read the memory for fresh ones, and lost access ends with the URL soon after.
    media_url_ttl: timedelta = timedelta(minutes=5)
    account_deletion_grace: timedelta = timedelta(days=30)

    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_private_key: SecretStr | None = Field(default=None, description="The `.p8` key (PEM).")
    apns_topic: str | None = Field(default=None, description="The iOS app's bundle id.")
    apns_url: str = "https://api.push.apple.com"
    fcm_project_id: str | None = Field(
        default=None, description="Defaults to the service account's `project_id`."
    )
    fcm_service_account: SecretStr | None = Field(
        default=None, description="The Firebase service account's JSON key."
    )
    fcm_url: str = "https://fcm.googleapis.com"
    fcm_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
    push_claps_gather: timedelta = Field(
        default=timedelta(minutes=5),
        description="Claps wait this long so a memory's first claps go out as one push.",
    )
    push_timeout_s: float = 10.0

    console_session_ttl: timedelta = Field(
        default=timedelta(hours=8),
        description="Lifetime of an operator console sign-in (its cookie).",
    )

    # --- App links (share and email-link pages open in the installed apps) ---
    ios_app_ids: list[str] = Field(
        default_factory=list,
        description="`TEAMID.bundle.id` of the iOS apps that open this server's links.",
    )
    android_package: str | None = None
    android_cert_sha256: list[str] = Field(
        default_factory=list,
        description="SHA-256 fingerprints (`AB:CD:…`) of the Android app's signing certificates.",
    )

    log_level: str = "INFO"
    log_json: bool = True

    # --- Observability and shutdown (traces, worker metrics, draining) ---
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description=(
            "Base URL of an OTLP/HTTP receiver, such as the Datadog agent's "
            "`http://$(HOST_IP):4318`; spans go to `<url>/v1/traces`. Unset: no tracing."
        ),
    )
    otel_service_name: str = "keepsake"
    otel_service_version: str | None = Field(
        default=None, description="Defaults to the installed package's version; set the image tag."
    )
    otel_environment: str | None = Field(
        default=None,
        description="Traces' `deployment.environment` (Datadog's `env`, e.g. staging); "
        "defaults to `environment`.",
    )
    otel_sample_ratio: float = Field(
        default=1.0, ge=0.0, le=1.0, description="Share of new traces kept (ParentBased)."
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description=(
            "Port of `keepsake serve`'s Prometheus `/metrics`, a listener apart from the "
            "API's (0: any free port); unset: not served. The API's port never serves it."
        ),
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the `/metrics` listener binds; `0.0.0.0` in a pod, for the scraper.",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        description="Port of `keepsake worker`'s Prometheus `/metrics`; unset: not served.",
    )
    http_shutdown_timeout: timedelta = Field(
        default=timedelta(seconds=20),
        description="After SIGTERM, how long `keepsake serve` lets in-flight requests finish.",
    )
    header_timeout: timedelta = Field(
        default=timedelta(seconds=10),
        description="How long a request's line and headers may take to arrive; then 408.",
    )
    body_timeout: timedelta = Field(
        default=timedelta(seconds=10),
        description=(
            "The window over which a request body's pace is measured: one that brings "
            "less than body_min_rate bytes a second ends the request with 408."
        ),
    )
    body_min_rate: int = Field(
        default=1024, ge=1, description="The slowest a request body may arrive, in bytes/s."
    )
    max_connections: int = Field(
        default=500,
        ge=1,
        description="Open HTTP connections per `keepsake serve`; one more is answered 503.",
    )
    shutdown_timeout: timedelta = Field(
        default=timedelta(seconds=20),
        description=(
            "After SIGTERM, the longest `keepsake serve` takes to exit, whatever the "
            "database's state: then it exits with status 1, and jobs cut short go back to "
            "the queue (stalled_job_timeout)."
        ),
    )

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Settings:
        if self.jwt_active_kid not in self.jwt_keys:
            raise ValueError("jwt_active_kid must name one of jwt_keys")
        if self.environment != "development":
            if any(key.get_secret_value() == DEV_JWT_KEY for key in self.jwt_keys.values()):
                raise ValueError("the development JWT key is refused outside development")
            if any(len(key.get_secret_value()) < 32 for key in self.jwt_keys.values()):
                raise ValueError("JWT keys must be at least 32 characters")
            if self.storage_signing_key.get_secret_value() == DEV_STORAGE_KEY:
                raise ValueError(
                    "the development storage signing key is refused outside development"
                )
        return self

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"
