"""Quiet hours: windows across midnight and daylight-saving nights, and the one digest after.

The rules are pure functions of an explicit `now`; the end-to-end test runs the real
job worker with the push tasks' clock set to a spring-forward night in Berlin and reads
what the local APNs received.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.notifications.models import NotificationKind as Kind
from keepsake.notifications.service import Owed
from keepsake.push import messages
from keepsake.push import tasks as push_tasks
from keepsake.push.quiet import first_instant, quiet_until
from keepsake.worker import in_process_worker, job_resources
from tests.fixtures.polling import eventually
from tests.fixtures.push_servers import Providers, providers
from tests.fixtures.tls_servers import Tls, make_tls
from tests.graph.test_graph import follow
from tests.notifications.test_notifications import clap, insert_memory
from tests.profiles.test_profiles import patch_me

SignUp = Callable[..., Any]
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = (time(22), time(7))


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0
) -> datetime:
    """The instant the zone's clocks show this time (`fold=1`: its second showing)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold).astimezone(UTC)


def berlin_night(now: datetime, window: tuple[time, time] = NIGHT) -> datetime | None:
    return quiet_until(now, "Europe/Berlin", *window)


def test_an_ordinary_night_crosses_midnight() -> None:
    end = local(BERLIN, 2027, 1, 15, 7, 0)
    assert berlin_night(local(BERLIN, 2027, 1, 14, 21, 59)) is None
    for moment in ((2027, 1, 14, 22, 0), (2027, 1, 14, 23, 30), (2027, 1, 15, 3, 0)):
        assert berlin_night(local(BERLIN, *moment)) == end
    assert berlin_night(local(BERLIN, 2027, 1, 15, 6, 59)) == end
    assert berlin_night(local(BERLIN, 2027, 1, 15, 7, 0)) is None
    assert end == utc(2027, 1, 15, 6, 0)


def test_a_window_within_one_day() -> None:
    window = (time(13), time(15))
    assert berlin_night(local(BERLIN, 2027, 6, 1, 14, 0), window) == utc(2027, 6, 1, 13, 0)
    assert berlin_night(local(BERLIN, 2027, 6, 1, 12, 59), window) is None
    assert berlin_night(local(BERLIN, 2027, 6, 1, 15, 0), window) is None


def test_the_spring_forward_night_ends_at_seven_new_time() -> None:
    # 2027-03-28: Berlin's clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
    end = utc(2027, 3, 28, 5, 0)  # 07:00 CEST, eight real hours after 22:00 CET
    assert berlin_night(local(BERLIN, 2027, 3, 27, 22, 0)) == end
    assert berlin_night(utc(2027, 3, 28, 0, 59)) == end  # 01:59 CET
    assert berlin_night(utc(2027, 3, 28, 1, 0)) == end  # 03:00 CEST
    assert berlin_night(utc(2027, 3, 28, 5, 0)) is None


def test_the_fall_back_night_ends_at_seven_new_time() -> None:
    # 2027-10-31: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
    end = utc(2027, 10, 31, 6, 0)  # 07:00 CET, ten real hours after 22:00 CEST
    assert berlin_night(local(BERLIN, 2027, 10, 31, 2, 30, fold=0)) == end
    assert berlin_night(local(BERLIN, 2027, 10, 31, 2, 30, fold=1)) == end
    assert berlin_night(utc(2027, 10, 30, 20, 0)) == end
    assert berlin_night(utc(2027, 10, 30, 19, 59)) is None


def test_an_end_the_clocks_skip_comes_when_they_jump() -> None:
    window = (time(22), time(2, 30))
    jump = utc(2027, 3, 28, 1, 0)
    assert first_instant(date(2027, 3, 28), time(2, 30), BERLIN) == jump
    assert berlin_night(utc(2027, 3, 28, 0, 30), window) == jump
    assert berlin_night(jump, window) is None


def test_an_end_the_clocks_show_twice_counts_at_its_first_showing() -> None:
    window = (time(22), time(2, 30))
    first = local(BERLIN, 2027, 10, 31, 2, 30, fold=0)
    assert first == utc(2027, 10, 31, 0, 30)
    assert berlin_night(utc(2027, 10, 31, 0, 0), window) == first
    # 02:10 again, an hour later: the night's window is over, not open a second time.
    assert berlin_night(local(BERLIN, 2027, 10, 31, 2, 10, fold=1), window) is None


def test_a_start_the_clocks_skip_begins_when_they_jump() -> None:
    window = (time(2, 30), time(7))
    assert berlin_night(utc(2027, 3, 28, 0, 59), window) is None
    assert berlin_night(utc(2027, 3, 28, 1, 0), window) == utc(2027, 3, 28, 5, 0)


def test_new_york_spring_forward() -> None:
    # 2027-03-14: 02:00 EST becomes 03:00 EDT.
    assert quiet_until(utc(2027, 3, 14, 6, 0), "America/New_York", *NIGHT) == local(
        NEW_YORK, 2027, 3, 14, 7, 0
    )
    assert local(NEW_YORK, 2027, 3, 14, 7, 0) == utc(2027, 3, 14, 11, 0)


@pytest.mark.parametrize(
    ("day", "window"),
    [
        (datetime(2027, 3, 27, 12, tzinfo=UTC), NIGHT),
        (datetime(2027, 3, 27, 12, tzinfo=UTC), (time(22), time(2, 30))),
        (datetime(2027, 10, 30, 12, tzinfo=UTC), NIGHT),
        (datetime(2027, 10, 30, 12, tzinfo=UTC), (time(22), time(2, 30))),
        (datetime(2027, 10, 30, 12, tzinfo=UTC), (time(2, 15), time(2, 45))),
    ],
)
def test_a_changing_night_holds_one_unbroken_window(
    day: datetime, window: tuple[time, time]
) -> None:
    """Minute by minute through the night: one stretch of quiet, one end, so one digest."""
    quiet = [
        (minute, berlin_night(day + timedelta(minutes=minute), window)) for minute in range(24 * 60)
    ]
    held = [minute for minute, end in quiet if end is not None]
    assert held == list(range(held[0], held[-1] + 1))
    ends = {end for _, end in quiet if end is not None}
    assert len(ends) == 1
    [end] = ends
    assert day + timedelta(minutes=held[-1]) < end <= day + timedelta(minutes=held[-1] + 1)


def test_no_quiet_hours_and_unknown_zones() -> None:
    now = utc(2027, 1, 15, 3, 0)
    assert quiet_until(now, "Europe/Berlin", None, None) is None
    assert quiet_until(now, "Nowhere/Atlantis", *NIGHT) == utc(2027, 1, 15, 7, 0)


def owed(kind: Kind, *names: str, count: int | None = None) -> Owed:
    return Owed(
        id=uuid.uuid4(),
        kind=kind,
        memory_id=None,
        count=count,
        created_at=utc(2027, 1, 1, 0, 0),
        names=names[:2],
        people=len(names),
    )


def test_the_digest_sums_up_calmly() -> None:
    held = [
        owed(Kind.follow, "Theo"),
        owed(Kind.claps, "Ada", "Lena", count=5),
        owed(Kind.follow, "Ada"),
        owed(Kind.claps, "Theo", count=7),
        owed(Kind.follow, "Lena"),
    ]
    message = messages.digest(held)
    assert message is not None
    assert message.body == "3 people followed you. 12 claps on 2 memories."
    assert message.title == "During your quiet hours"
    assert message.data() == {"kind": "digest"}

    one_each = messages.digest(
        [
            owed(Kind.follow_request, "Theo"),
            owed(Kind.claps, "Ada", count=1),
            owed(Kind.memory_ready),
        ]
    )
    assert one_each is not None
    assert one_each.body == (
        "Theo asked to follow you. 1 clap on your memory. Your memory is ready."
    )
    assert messages.digest([]) is None


def test_single_pushes_name_people_without_numbers() -> None:
    cases = {
        ("Ada",): "Ada clapped for your memory.",
        ("Ada", "Theo"): "Ada and Theo clapped for your memory.",
        ("Ada", "Theo", "Lena"): "Ada and 2 others clapped for your memory.",
    }
    for names, body in cases.items():
        assert messages.single(owed(Kind.claps, *names, count=9)).body == body
    assert messages.single(owed(Kind.follow_approved, "Mina")).body == (
        "Mina approved your follow request."
    )


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def fakes(tls: Tls, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Providers]:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    async with providers(tls) as running:
        yield running


async def jobs_of(engine: AsyncEngine, task: str) -> list[tuple[str, datetime | None]]:
    """(status, scheduled_at) of the task's jobs still in the queue."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT status, scheduled_at FROM procrastinate_jobs WHERE task_name = :task"),
            {"task": task},
        )
    return [(row[0], row[1]) for row in rows]


async def none_left(engine: AsyncEngine, task: str) -> bool:
    return not await jobs_of(engine, task)


async def test_one_digest_after_a_spring_forward_night(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sign_up: SignUp,
    fakes: Providers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mina = await sign_up("mina")
    theo, ada, lena = await sign_up("theo"), await sign_up("ada"), await sign_up("lena")
    noor = await sign_up("noor")
    response = await patch_me(
        client, mina, timezone="Europe/Berlin", quiet_hours={"start": "22:00", "end": "07:00"}
    )
    assert response.status_code == 200, response.text
    device = {"platform": "ios", "token": "ab" * 32}
    assert (await client.post("/v1/devices", json=device, headers=mina.headers)).is_success
    first, second = await insert_memory(engine, mina), await insert_memory(engine, mina)
    await follow(client, theo, "mina")
    await follow(client, ada, "mina")
    await clap(client, ada, first, 5)
    await clap(client, theo, second, 4)

    now = [utc(2027, 3, 28, 0, 30)]  # 01:30 CET, half an hour before the clocks jump
    monkeypatch.setattr(push_tasks, "utcnow", lambda: now[0])
    state = app.state
    settings = fakes.settings(state.settings)
    async with in_process_worker(job_resources(settings, state.sessionmaker, state.storage)):
        await eventually(lambda: none_left(engine, "push:deliver"))
        # Everything held until 07:00 CEST: 05:00 UTC, not the 06:00 of a naive clock.
        assert await jobs_of(engine, "push:digest") == [("todo", utc(2027, 3, 28, 5, 0))]

        now[0] = utc(2027, 3, 28, 2, 15)  # 04:15 CEST: still quiet, still held
        await follow(client, lena, "mina")
        await eventually(lambda: none_left(engine, "push:deliver"))
        assert len(await jobs_of(engine, "push:digest")) == 1
        assert fakes.pushes() == []

        # The window ends. A follow landing just before the digest runs joins the digest
        # rather than going out on its own: one push at the window's end, never two.
        now[0] = utc(2027, 3, 28, 5, 0, 30)
        await follow(client, noor, "mina")
        await eventually(lambda: none_left(engine, "push:deliver"))
        assert fakes.pushes() == []
        # The queue's own clock reaches the digest's time.
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE procrastinate_jobs SET scheduled_at = now()"
                    " WHERE task_name = 'push:digest'"
                )
            )
        await eventually(lambda: len(fakes.pushes()) == 1)
        await eventually(lambda: none_left(engine, "push:send"))

    assert fakes.pushes() == ["4 people followed you. 9 claps on 2 memories."]
    [digest] = fakes.apns.delivered
    assert digest.body["aps"]["alert"]["title"] == "During your quiet hours"
    assert digest.headers["apns-collapse-id"] == "digest"
    async with engine.connect() as conn:
        owed_now = await conn.scalar(
            text("SELECT count(*) FROM notifications WHERE pushed_at IS NULL")
        )
    assert owed_now == 0
    assert await jobs_of(engine, "push:digest") == []
