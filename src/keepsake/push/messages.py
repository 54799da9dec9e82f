"""What a push says: one notification, or the digest of what quiet hours held.

The wording is calm: it names people, never ranks them, and counts claps only for
their author, who is the one reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from keepsake.notifications.models import NotificationKind as Kind
from keepsake.notifications.service import Owed

DIGEST_TITLE = "During your quiet hours"


@dataclass(frozen=True)
class PushMessage:
    body: str
    kind: str
    title: str | None = None
    notification_id: str | None = None
    # A newer push with the same id replaces the older one on the lock screen.
    collapse_id: str | None = None

    def as_args(self) -> dict[str, str | None]:
        """As a job's JSON arguments."""
        return asdict(self)

    @classmethod
    def from_args(cls, args: dict[str, str | None]) -> PushMessage:
        body, kind = args["body"], args["kind"]
        return cls(
            body=body or "",
            kind=kind or "",
            title=args.get("title"),
            notification_id=args.get("notification_id"),
            collapse_id=args.get("collapse_id"),
        )

    def data(self) -> dict[str, str]:
        """What the app gets beside the text, to open the right screen."""
        fields = {"kind": self.kind, "notification_id": self.notification_id}
        return {key: value for key, value in fields.items() if value is not None}


def _people(names: Sequence[str], total: int) -> str:
    if total <= 1 or not names:
        return names[0] if names else "Someone"
    if total == 2 and len(names) == 2:
        return f"{names[0]} and {names[1]}"
    others = total - 1
    return f"{names[0]} and {others} other{'s' if others > 1 else ''}"


def _sentence(item: Owed) -> str:
    who = _people(item.names, item.people)
    match item.kind:
        case Kind.follow:
            return f"{who} followed you."
        case Kind.follow_request:
            return f"{who} asked to follow you."
        case Kind.follow_approved:
            return f"{who} approved your follow request."
        case Kind.claps:
            return f"{who} clapped for your memory."
        case Kind.memory_ready:
            return "Your memory is ready."
        case Kind.memory_failed:
            return "Your memory could not be processed; open Keepsake to see why."
        case Kind.mission_won:
            return "Your memory was chosen as a winner of the mission."
        case Kind.mission_closed:
            return "A mission you took part in has closed; see who was chosen."


def single(item: Owed) -> PushMessage:
    return PushMessage(
        body=_sentence(item),
        kind=item.kind.value,
        notification_id=str(item.id),
        collapse_id=str(item.id),
    )


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _part(kind: Kind, items: list[Owed]) -> str:
    n = len(items)
    first = items[0].names[0] if items[0].names else "Someone"
    match kind:
        case Kind.follow:
            return f"{first} followed you" if n == 1 else f"{n} people followed you"
        case Kind.follow_request:
            return f"{first} asked to follow you" if n == 1 else f"{n} people asked to follow you"
        case Kind.follow_approved:
            if n == 1:
                return f"{first} approved your follow request"
            return f"{n} people approved your follow requests"
        case Kind.claps:
            claps = sum(item.count or 0 for item in items)
            where = "your memory" if n == 1 else f"{n} memories"
            return f"{claps} {_plural(claps, 'clap', 'claps')} on {where}"
        case Kind.memory_ready:
            return "your memory is ready" if n == 1 else f"{n} of your memories are ready"
        case Kind.memory_failed:
            if n == 1:
                return "a memory could not be processed"
            return f"{n} memories could not be processed"
        case Kind.mission_won:
            return "your memory was chosen in a mission" if n == 1 else f"you won {n} missions"
        case Kind.mission_closed:
            return "a mission you took part in closed" if n == 1 else f"{n} missions closed"


def digest(items: Sequence[Owed]) -> PushMessage | None:
    """One push for everything held: "3 people followed you, 12 claps on 2 memories."."""
    by_kind = {kind: [item for item in items if item.kind == kind] for kind in Kind}
    parts = [_part(kind, found) for kind, found in by_kind.items() if found]
    if not parts:
        return None
    text = ", ".join(parts)
    return PushMessage(
        body=text[0].upper() + text[1:] + ".",
        kind="digest",
        title=DIGEST_TITLE,
        collapse_id="digest",
    )
