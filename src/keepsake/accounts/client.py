"""Where a request comes from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Client:
    """Where a request comes from, for rate limits and the session list."""

    ip: str
    user_agent: str
