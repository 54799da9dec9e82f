"""What became of one push to one device."""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    sent = "sent"
    # The provider says the token is dead: the device is forgotten.
    unregistered = "unregistered"
    # Refused for a reason retrying cannot fix (logged for the operator).
    rejected = "rejected"
    # This platform's provider is not configured here.
    skipped = "skipped"


class ProviderUnavailable(Exception):
    """A failure worth retrying: the network, throttling, the provider's own errors."""
