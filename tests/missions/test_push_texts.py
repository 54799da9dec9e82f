"""What the push of a mission's news says, alone and in the quiet-hours digest."""

from __future__ import annotations

import uuid

from keepsake.notifications.models import NotificationKind as Kind
from keepsake.notifications.service import Owed
from keepsake.push import messages
from keepsake.security import utcnow


def _owed(kind: Kind) -> Owed:
    return Owed(uuid.uuid4(), kind, None, None, utcnow(), (), 0)


def test_mission_news_reads_calmly_alone_and_in_a_digest() -> None:
    won, closed = _owed(Kind.mission_won), _owed(Kind.mission_closed)
    assert messages.single(won).body == "Your memory was chosen as a winner of the mission."
    assert messages.single(closed).kind == "mission_closed"
    digest = messages.digest([won, closed, _owed(Kind.mission_closed)])
    assert digest is not None
    assert digest.body == (
        "Your memory was chosen as a winner of the mission. "
        "2 missions you took part in have closed."
    )
    korean = messages.digest([won, closed, _owed(Kind.mission_closed)], "ko")
    assert korean is not None
    assert korean.body == "회원님의 추억이 미션 우승작으로 뽑혔어요. 참여하신 미션 2개가 끝났어요."
