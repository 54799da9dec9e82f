"""Every query of the accounts domain."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Uuid,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.auth_cache import note_ended
from keepsake.accounts.models import Identity, OneTimeToken, RefreshToken, Session, Strike, User
from keepsake.errors import Conflict
from keepsake.i18n.catalog import _
from keepsake.kinds import AccountStatus
from keepsake.pagination import Cursor, keyset_before
from keepsake.readdb import ReadQuery, Reads


class HandleTaken(Conflict):
    code = "handle_taken"


class EmailTaken(Conflict):
    code = "email_taken"


async def _insert(
    db: AsyncSession, row: object, races: Mapping[str, Callable[[], Conflict]]
) -> None:
    """Insert `row`, turning a race on one of `races`' unique constraints into its 409."""
    db.add(row)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "")
        if constraint in races:
            raise races[constraint]() from None
        raise


async def insert_user(db: AsyncSession, user: User) -> User:
    """Insert, turning a unique-index race into the matching 409."""
    races = {
        "uq_users_email": lambda: EmailTaken(_("An account with this email already exists.")),
        "uq_users_handle_lower": lambda: HandleTaken(_("This handle is taken.")),
    }
    await _insert(db, user, races)
    return user


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(User.email == email.lower()))


async def user_by_handle(db: AsyncSession, handle: str) -> User | None:
    return await db.scalar(select(User).where(func.lower(User.handle) == handle.lower()))


async def handle_exists(db: AsyncSession, handle: str) -> bool:
    found = await db.scalar(select(User.id).where(func.lower(User.handle) == handle.lower()))
    return found is not None


async def email_exists(db: AsyncSession, email: str) -> bool:
    return await db.scalar(select(User.id).where(User.email == email.lower())) is not None


def _live_session(
    user_id: uuid.UUID | BindParameter[uuid.UUID], session_id: uuid.UUID | BindParameter[uuid.UUID]
) -> tuple[ColumnElement[bool], ...]:
    """The conditions under which an access token naming this session still works."""
    return (
        User.id == user_id,
        Session.id == session_id,
        Session.revoked_at.is_(None),
        Session.expires_at > func.now(),
        User.status != AccountStatus.deleting,
    )


async def user_for_session(
    db: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> User | None:
    """The user behind a live session: one round trip on every authenticated request."""
    return await db.scalar(
        select(User)
        .join(Session, Session.user_id == User.id)
        .where(*_live_session(user_id, session_id))
    )


class SessionHolder(NamedTuple):
    user_id: uuid.UUID
    # The driver's text: `AccountStatus` is a string enum, so it compares equal to it.
    status: str
    expires_at: datetime


_HOLDER = ReadQuery.compile(
    select(User.id, User.status, Session.expires_at)
    .join(Session, Session.user_id == User.id)
    .where(
        *_live_session(bindparam("user_id", type_=Uuid()), bindparam("session_id", type_=Uuid()))
    ),
    "user_id",
    "session_id",
)


async def session_holder(
    db: Reads, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> SessionHolder | None:
    """`user_for_session` without the ORM: the holder's id, status, session expiry."""
    found = await db.rows(_HOLDER, {"user_id": user_id, "session_id": session_id})
    return SessionHolder._make(found[0]) if found else None


async def add(db: AsyncSession, *rows: Session | RefreshToken | OneTimeToken) -> None:
    db.add_all(rows)
    await db.flush()


async def claim_refresh_token(db: AsyncSession, token_hash: bytes) -> Session | None:
    """Mark an unused token used and lock its session, atomically.

    Of two requests racing with one token, the row lock lets exactly one see it unused;
    None for the other, as for an unknown or already used token.
    """
    claimed = (
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=func.now())
        .returning(RefreshToken.session_id)
        .cte("claimed")
    )
    return await db.scalar(
        select(Session)
        .where(Session.id == select(claimed.c.session_id).scalar_subquery())
        .with_for_update()
    )


async def session_of_refresh_token(db: AsyncSession, token_hash: bytes) -> Session | None:
    return await db.scalar(
        select(Session)
        .join(RefreshToken, RefreshToken.session_id == Session.id)
        .where(RefreshToken.token_hash == token_hash)
    )


async def revoke_sessions(
    db: AsyncSession, *, user_id: uuid.UUID, reason: str, session_id: uuid.UUID | None = None
) -> int:
    """Revoke one session of the user, or all of them; returns how many were live."""
    query = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if session_id is not None:
        query = query.where(Session.id == session_id)
    result = await db.execute(query.values(revoked_at=func.now(), revoked_reason=reason))
    note_ended(db, user_id=user_id, session_id=session_id)
    return int(getattr(result, "rowcount", 0))


async def live_sessions(
    db: AsyncSession, user_id: uuid.UUID, *, limit: int, after: Cursor | None
) -> list[Session]:
    query = select(Session).where(
        Session.user_id == user_id,
        Session.revoked_at.is_(None),
        Session.expires_at > func.now(),
        keyset_before(Session.created_at, Session.id, after),
    )
    query = query.order_by(Session.created_at.desc(), Session.id.desc()).limit(limit + 1)
    return list((await db.scalars(query)).all())


async def one_time_token_for_update(
    db: AsyncSession, token_hash: bytes, purpose: str
) -> tuple[OneTimeToken, User] | None:
    row = (
        await db.execute(
            select(OneTimeToken, User)
            .join(User, User.id == OneTimeToken.user_id)
            .where(OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose)
            .with_for_update(of=OneTimeToken)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def expire_unused_tokens(
    db: AsyncSession, *, user_id: uuid.UUID, purpose: str, now: datetime
) -> None:
    """A new reset link makes the older ones useless."""
    await db.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(expires_at=now)
    )


class IdentityTaken(Conflict):
    code = "identity_taken"


async def user_by_identity(db: AsyncSession, *, provider: str, subject: str) -> User | None:
    return await db.scalar(
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.provider == provider, Identity.subject == subject)
    )


async def insert_identity(db: AsyncSession, identity: Identity) -> None:
    """Insert, turning a race on (provider, subject) into a 409 the caller can retry on."""
    races = {
        "uq_identities_provider_subject": lambda: IdentityTaken(
            _("This sign-in is already linked to an account.")
        )
    }
    await _insert(db, identity, races)


async def taken_handles(db: AsyncSession, candidates: Collection[str]) -> set[str]:
    """Which of these handles (lower-cased) are in use, in one round trip."""
    lowered = [candidate.lower() for candidate in candidates]
    rows = await db.scalars(
        select(func.lower(User.handle)).where(func.lower(User.handle).in_(lowered))
    )
    return set(rows)


async def user_by_id(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await db.get(User, user_id)


async def due_for_purge(db: AsyncSession, *, requested_before: datetime, limit: int) -> list[User]:
    """Accounts whose deletion was asked for before the cutoff, locked for one sweeper.

    SKIP LOCKED lets a second worker take the next accounts instead of waiting; the row
    lock also holds off a sign-in that would cancel the deletion mid-purge.
    """
    query = (
        select(User)
        .where(
            User.status == AccountStatus.deleting,
            User.deletion_requested_at < requested_before,
            # Held while a hide or suspension of theirs may still be appealed and undone.
            ~exists().where(Strike.user_id == User.id, Strike.appealable_until > func.now()),
        )
        .order_by(User.deletion_requested_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await db.scalars(query)).all())


async def delete_user(db: AsyncSession, user_id: uuid.UUID) -> None:
    """Every row the account owns goes with it: each reference to `users` cascades."""
    await db.execute(delete(User).where(User.id == user_id))
