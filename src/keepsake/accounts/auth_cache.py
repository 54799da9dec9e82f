"""A per-process cache of good access tokens, kept honest by PostgreSQL notifications.

Checking that an access token's session is still live costs a database round trip on
every authenticated request. The cache skips it, and the JWT decode too, for a token
already seen. Revocation stays immediate: triggers (migration 0008) notify the
`keepsake_auth` channel whenever a session ends or an account's status or role changes,
and every process's listener forgets the tokens concerned. The cache is trusted only
while its listener is connected; otherwise every request takes the database path.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import psycopg
import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from keepsake.db import libpq_url

CHANNEL = "keepsake_auth"
# In a session's `info`: what its transaction ends, for this process to forget on commit.
_ENDED = "keepsake_auth_ended"
# Shown in pg_stat_activity, so an operator (or a test) can find the listener.
LISTENER_NAME = "keepsake-auth-listener"
STARTUP_WAIT_S = 2.0
FIRST_RETRY_S = 0.5
LAST_RETRY_S = 30.0

log = structlog.get_logger("keepsake.accounts")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a request comes from, without loading the user."""

    id: uuid.UUID
    session_id: uuid.UUID


class AuthCache:
    """Access token → (viewer, valid until), for tokens of live sessions of active accounts."""

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[Viewer, float]] = {}
        # Every process hears every invalidation of the fleet: these indexes make each
        # one cost its own few entries, not a scan of the whole cache.
        self._tokens_of_session: dict[uuid.UUID, set[str]] = {}
        self._sessions_of_user: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.active = False
        # Bumped by every invalidation; see `put`.
        self.epoch = 0
        self.notifications_applied = 0
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> Viewer | None:
        if not self.active:
            return None
        entry = self._entries.get(token)
        if entry is None:
            return None
        viewer, valid_until = entry
        if self._clock() >= valid_until:
            self._drop(token)
            return None
        return viewer

    def put(self, token: str, viewer: Viewer, *, valid_until: float, epoch: int) -> None:
        """Remember a token checked against the database when the epoch was `epoch`.

        An invalidation since then may concern what that read saw, its notification
        already applied to an empty slot: storing now would resurrect a revoked token.
        """
        if not self.active or epoch != self.epoch or valid_until <= self._clock():
            return
        if token not in self._entries and len(self._entries) >= self.max_entries:
            # Dicts keep insertion order: the first key is the oldest entry.
            self._drop(next(iter(self._entries)))
        self._entries[token] = (viewer, valid_until)
        self._tokens_of_session.setdefault(viewer.session_id, set()).add(token)
        self._sessions_of_user.setdefault(viewer.id, set()).add(viewer.session_id)

    def forget_session(self, session_id: uuid.UUID) -> None:
        self.epoch += 1
        self._drop_session(session_id)

    def forget_user(self, user_id: uuid.UUID) -> None:
        self.epoch += 1
        for session_id in list(self._sessions_of_user.get(user_id, ())):
            self._drop_session(session_id)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._tokens_of_session.clear()
        self._sessions_of_user.clear()

    def _drop_session(self, session_id: uuid.UUID) -> None:
        for token in list(self._tokens_of_session.get(session_id, ())):
            self._drop(token)

    def _drop(self, token: str) -> None:
        viewer, _ = self._entries.pop(token)
        tokens = self._tokens_of_session[viewer.session_id]
        tokens.discard(token)
        if tokens:
            return
        del self._tokens_of_session[viewer.session_id]
        sessions = self._sessions_of_user[viewer.id]
        sessions.discard(viewer.session_id)
        if not sessions:
            del self._sessions_of_user[viewer.id]

    def apply(self, payload: str) -> None:
        """Act on one notification: `s:<session id>`, `u:<user id>`, else forget all."""
        kind, _, ident = payload.partition(":")
        try:
            target: uuid.UUID | None = uuid.UUID(ident)
        except ValueError:
            target = None
        if kind == "s" and target is not None:
            self.forget_session(target)
        elif kind == "u" and target is not None:
            self.forget_user(target)
        else:
            self.clear()
        self.notifications_applied += 1
        self._announce()

    def activate(self) -> None:
        # What changed while nobody listened is unknown: start from nothing.
        self.clear()
        self.active = True
        self._announce()

    def deactivate(self) -> None:
        self.active = False
        self.clear()
        self._announce()

    async def wait_until(self, predicate: Callable[[AuthCache], bool]) -> None:
        """Return once `predicate(cache)` holds, re-checked after each listener event
        (connected, notified, disconnected)."""
        while not predicate(self):
            await self._changed.wait()

    def _announce(self) -> None:
        # Waiters hold the event being set; later ones wait on the fresh one.
        self._changed.set()
        self._changed = asyncio.Event()


def note_ended(db: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
    """This transaction ends the user's session (or all of them when `session_id` is None).

    The triggers' notification reaches every process, this one too, but a moment after
    the commit; a client that logs out and at once reuses its token meets this process
    first, which must already refuse it (see `forget_on_commit`).
    """
    db.info.setdefault(_ENDED, []).append((user_id, session_id))


def forget_on_commit(cache: AuthCache, factory: async_sessionmaker[AsyncSession]) -> None:
    """Forget what a transaction of `factory` ended as soon as it commits."""

    def committed(session: Session) -> None:
        for user_id, session_id in session.info.pop(_ENDED, ()):
            if session_id is None:
                cache.forget_user(user_id)
            else:
                cache.forget_session(session_id)

    def rolled_back(session: Session) -> None:
        session.info.pop(_ENDED, None)

    # `db.sessionmaker` gives each factory a Session class of its own.
    session_class = factory.kw["sync_session_class"]
    event.listen(session_class, "after_commit", committed)
    event.listen(session_class, "after_rollback", rolled_back)


async def listen(cache: AuthCache, database_url: str) -> None:
    """Keep `cache` in step with the database until cancelled, reconnecting on failure."""
    retry_in = FIRST_RETRY_S
    try:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    libpq_url(database_url),
                    autocommit=True,
                    application_name=LISTENER_NAME,
                    connect_timeout=10,
                    # Over TCP, a database gone without closing the connection (a
                    # failover) would leave the cache trusted while deaf; keepalives
                    # notice within about 25 s of silence.
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    cache.activate()
                    retry_in = FIRST_RETRY_S
                    async for notify in conn.notifies():
                        cache.apply(notify.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("auth_cache.disconnected", error=repr(exc), retry_in_s=retry_in)
            cache.deactivate()
            await asyncio.sleep(retry_in)
            retry_in = min(retry_in * 2, LAST_RETRY_S)
    finally:
        cache.deactivate()


@asynccontextmanager
async def listening(cache: AuthCache, database_url: str) -> AsyncIterator[None]:
    """Run the cache's listener in the background while the block runs."""
    task = asyncio.create_task(listen(cache, database_url), name="auth-cache-listener")
    try:
        # Serve once it listens (normally within milliseconds), so that the first requests
        # are cached too; a database that does not answer delays the start this much.
        with suppress(TimeoutError):
            async with asyncio.timeout(STARTUP_WAIT_S):
                await cache.wait_until(lambda c: c.active)
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
