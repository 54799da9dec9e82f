"""Random sequences of entries, deletions, disqualifications, retried awards and
adjustments: after every step the ledger sums to zero, every balance equals the sum of
its entries and is never negative, and each person holds what the rules say."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.memories import repository as memories
from keepsake.missions import entries
from keepsake.missions.models import Mission
from keepsake.points import service as points
from keepsake.points.models import TransferKind
from keepsake.points.schemas import AdjustmentCreate
from keepsake.security import utcnow

PEOPLE = 3
ENTRY_POINTS = 10

Step = tuple[str, int, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["enter", "delete", "disqualify", "requalify", "retry", "adjust"]),
        st.integers(0, PEOPLE - 1),
        st.integers(-15, 15).filter(bool),
    ),
    min_size=1,
    max_size=14,
)


@dataclass
class Person:
    """What the rules say one person's entry and balance are."""

    id: uuid.UUID
    balance: int = 0
    memory: uuid.UUID | None = None
    status: str | None = None
    held: int = 0
    taken: int = 0
    history: list[int] = field(default_factory=list)


async def _people(engine: AsyncEngine) -> list[Person]:
    people = [Person(uuid.uuid4()) for _ in range(PEOPLE)]
    async with engine.begin() as conn:
        for person in people:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, handle, display_name)"
                    " VALUES (:id, :email, :handle, 'P')"
                ),
                {"id": person.id, "email": f"{person.id}@x.test", "handle": person.id.hex[:20]},
            )
    return people


async def _memory(engine: AsyncEngine, person: Person, tag: str) -> uuid.UUID:
    memory_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO memories (id, author_id, status, visibility, caption, created_at)"
                " VALUES (:id, :author, 'ready', 'public', :caption, now())"
            ),
            {"id": memory_id, "author": person.id, "caption": f"#{tag}"},
        )
        await conn.execute(
            text("INSERT INTO memory_hashtags VALUES (:id, :tag, now())"),
            {"id": memory_id, "tag": tag},
        )
    return memory_id


def _take(person: Person, status: str) -> None:
    taken = min(person.held, person.balance)
    person.balance -= taken
    person.held -= taken
    person.taken += taken
    person.status = status


async def _step(
    app: FastAPI, engine: AsyncEngine, mission: Mission, who: Person, step: Step
) -> None:
    action, _, amount = step
    async with app.state.sessionmaker() as db, db.begin():
        match action:
            case "enter":
                memory_id = await _memory(engine, who, mission.hashtag)
                memory = await memories.get(db, memory_id, lock=True)
                assert memory is not None
                await entries.enter_memory(db, memory, now=utcnow())
                if who.status is None:
                    who.memory, who.status, who.held = memory_id, "entered", ENTRY_POINTS
                    who.balance += ENTRY_POINTS
                elif who.status == "withdrawn":
                    who.memory, who.status = memory_id, "entered"
                    who.balance, who.held, who.taken = (
                        who.balance + who.taken,
                        who.held + who.taken,
                        0,
                    )
            case "delete" if who.memory is not None:
                await entries.withdraw_memory(db, who.memory, now=utcnow())
                await db.execute(text("DELETE FROM memories WHERE id = :id"), {"id": who.memory})
                if who.status == "entered":
                    _take(who, "withdrawn")
                who.memory = None
            case "disqualify" if who.memory is not None:
                await entries.disqualify_memory(db, who.memory)
                if who.status == "entered":
                    _take(who, "disqualified")
            case "requalify" if who.memory is not None:
                await entries.requalify_memory(db, who.memory)
                if who.status == "disqualified":
                    who.balance, who.held, who.taken = (
                        who.balance + who.taken,
                        who.held + who.taken,
                        0,
                    )
                    who.status = "entered"
            case "retry" if who.status is not None:
                again = await points.award(
                    db,
                    kind=TransferKind.entry,
                    mission_id=mission.id,
                    user_id=who.id,
                    amount=ENTRY_POINTS,
                )
                assert not again
            case "adjust":
                body = AdjustmentCreate(handle=who.id.hex[:20], amount=amount, reason="test")
                if who.balance + amount < 0:
                    try:
                        await points.adjust(db, admin_id=who.id, body=body)
                    except points.InsufficientPoints:
                        return
                    raise AssertionError("an adjustment took a balance below zero")
                await points.adjust(db, admin_id=who.id, body=body)
                who.balance += amount


async def _check(engine: AsyncEngine, people: list[Person]) -> None:
    async with engine.connect() as conn:
        total, unsound, negative = (
            await conn.execute(
                text(
                    "SELECT (SELECT coalesce(sum(balance), 0) FROM points_accounts),"
                    " (SELECT count(*) FROM points_accounts a WHERE a.balance <>"
                    "  (SELECT coalesce(sum(amount), 0) FROM points_entries e"
                    "   WHERE e.account_id = a.id)),"
                    " (SELECT count(*) FROM points_accounts"
                    "  WHERE kind <> 'mission_budget' AND balance < 0)"
                )
            )
        ).one()
        held: dict[uuid.UUID, int] = dict(
            (
                await conn.execute(
                    text("SELECT id, balance FROM points_accounts WHERE id = ANY(:ids)"),
                    {"ids": [p.id for p in people]},
                )
            ).all()
        )
    assert (total, unsound, negative) == (0, 0, 0)
    assert {p.id: held.get(p.id, 0) for p in people} == {p.id: p.balance for p in people}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(program=steps)
async def test_ledger_invariants_hold_after_every_step(
    app: FastAPI, engine: AsyncEngine, program: list[Step]
) -> None:
    people = await _people(engine)
    now = utcnow()
    mission = Mission(
        id=uuid.uuid4(),
        title="Property",
        description="",
        hashtag="p" + uuid.uuid4().hex[:12],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        winners_count=1,
        entry_points=ENTRY_POINTS,
        winner_points=100,
    )
    async with app.state.sessionmaker() as db, db.begin():
        db.add(mission)
    for step in program:
        await _step(app, engine, mission, people[step[1]], step)
        await _check(engine, people)
