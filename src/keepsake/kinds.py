"""The kinds every layer speaks of: an account's status, a memory's status and visibility.

They sit at the bottom, beneath the domains and the privacy policy, so the policy and any
domain can decide on them without importing the domain whose table stores them.
"""

from __future__ import annotations

import enum


class AccountStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"
    deleting = "deleting"


class Visibility(enum.StrEnum):
    only_me = "only_me"
    close_friends = "close_friends"
    followers = "followers"
    public = "public"


class MemoryStatus(enum.StrEnum):
    processing = "processing"
    ready = "ready"
    failed = "failed"
