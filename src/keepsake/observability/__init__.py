"""Logs, metrics and traces: structlog JSON lines, Prometheus, OpenTelemetry over OTLP."""

from keepsake.observability.logging import configure_logging
from keepsake.observability.requests import RequestContextMiddleware
from keepsake.observability.telemetry import Telemetry, worker_telemetry

__all__ = ["RequestContextMiddleware", "Telemetry", "configure_logging", "worker_telemetry"]
