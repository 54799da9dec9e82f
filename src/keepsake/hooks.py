"""A call a lower layer makes into one above it, connected by the entry point that holds both.

A domain imports only what sits beneath it (pyproject.toml's "Keepsake's layers"). Where
one of its own steps must hand over to a flow or a domain above it (a memory leaving
processing, an account's purge, a memory read as the feeds show it), it declares a `Hook`
typed with the call it makes, and `keepsake.wiring.connect` connects it when the app or
the worker is built. A hook never connected fails loudly rather than silently skipping
the other domains' part.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class NotConnected(RuntimeError):
    pass


class Hook(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._target: T | None = None

    def connect(self, target: T) -> None:
        self._target = target

    @property
    def target(self) -> T:
        if self._target is None:
            raise NotConnected(f"the hook {self.name} is not connected (keepsake.wiring)")
        return self._target
