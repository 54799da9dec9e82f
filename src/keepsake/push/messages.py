"""What a push says: one notification, or the digest of what quiet hours held.

The wording is calm: it names people, never ranks them, and counts claps only for
their author, who is the one reading. Every sentence is whole in the catalogs, one per
way of naming people (one name, two, one and others, nobody), so no language has to
glue particles to names it cannot see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from keepsake.i18n import DEFAULT, Language
from keepsake.i18n.catalog import _, _n, translate, translate_plural
from keepsake.notifications.models import NotificationKind as Kind
from keepsake.notifications.service import Owed

DIGEST_TITLE = _("During your quiet hours")


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


# Per kind that names people: (one name, two names, a name and n others, nobody).
_NAMED: dict[Kind, tuple[str, str, tuple[str, str], str]] = {
    Kind.follow: (
        _("{name} followed you."),
        _("{first} and {second} followed you."),
        _n("{name} and {n} other followed you.", "{name} and {n} others followed you."),
        _("Someone followed you."),
    ),
    Kind.follow_request: (
        _("{name} asked to follow you."),
        _("{first} and {second} asked to follow you."),
        _n(
            "{name} and {n} other asked to follow you.",
            "{name} and {n} others asked to follow you.",
        ),
        _("Someone asked to follow you."),
    ),
    Kind.follow_approved: (
        _("{name} approved your follow request."),
        _("{first} and {second} approved your follow request."),
        _n(
            "{name} and {n} other approved your follow request.",
            "{name} and {n} others approved your follow request.",
        ),
        _("Someone approved your follow request."),
    ),
    Kind.claps: (
        _("{name} clapped for your memory."),
        _("{first} and {second} clapped for your memory."),
        _n(
            "{name} and {n} other clapped for your memory.",
            "{name} and {n} others clapped for your memory.",
        ),
        _("Someone clapped for your memory."),
    ),
}
_ALONE = {
    Kind.memory_ready: _("Your memory is ready."),
    Kind.memory_failed: _("Your memory could not be processed; open Keepsake to see why."),
    Kind.moderation: _(
        "A moderator reviewed your account; open Keepsake to see why and to appeal."
    ),
    Kind.reports_resolved: _("Thank you: we acted on reports you made."),
    Kind.mission_won: _("Your memory was chosen as a winner of the mission."),
    Kind.mission_closed: _("A mission you took part in has closed; see who was chosen."),
}
# The digest's sentence for several of one kind that names nobody.
_ALONE_MANY: dict[Kind, tuple[str, str]] = {
    Kind.memory_ready: _n("{n} of your memories is ready.", "{n} of your memories are ready."),
    Kind.memory_failed: _n(
        "{n} memory could not be processed.", "{n} memories could not be processed."
    ),
    Kind.mission_won: _n("You won {n} mission.", "You won {n} missions."),
    Kind.mission_closed: _n(
        "{n} mission you took part in has closed.", "{n} missions you took part in have closed."
    ),
}


def _sentence(item: Owed, language: Language) -> str:
    if item.kind in _ALONE:
        return translate(language, _ALONE[item.kind])
    one, two, (others_one, others_many), nobody = _NAMED[item.kind]
    names, total = item.names, item.people
    if not names:
        return translate(language, nobody)
    if total <= 1:
        return translate(language, one, name=names[0])
    if total == 2 and len(names) == 2:
        return translate(language, two, first=names[0], second=names[1])
    others = total - 1
    return translate_plural(language, others_one, others_many, others, name=names[0])


def single(item: Owed, language: Language = DEFAULT) -> PushMessage:
    return PushMessage(
        body=_sentence(item, language),
        kind=item.kind.value,
        notification_id=str(item.id),
        collapse_id=str(item.id),
    )


def _part(kind: Kind, items: list[Owed], language: Language) -> str:
    """One whole sentence of the digest for the held notifications of one kind."""
    n = len(items)
    first = items[0].names[0] if items[0].names else None
    if kind == Kind.claps:
        claps = sum(item.count or 0 for item in items)
        if n == 1:
            return translate_plural(
                language, "{n} clap on your memory.", "{n} claps on your memory.", claps
            )
        return translate_plural(
            language,
            "{n} clap on {memories} memories.",
            "{n} claps on {memories} memories.",
            claps,
            memories=n,
        )
    if kind in _ALONE:
        # Moderation news reads the same however often it came.
        if n == 1 or kind not in _ALONE_MANY:
            return translate(language, _ALONE[kind])
        return translate_plural(language, *_ALONE_MANY[kind], n)
    one, _two, _others, nobody = _NAMED[kind]
    if n == 1:
        return translate(language, one, name=first) if first else translate(language, nobody)
    return translate_plural(language, *_MANY[kind], n)


_MANY: dict[Kind, tuple[str, str]] = {
    Kind.follow: _n("{n} person followed you.", "{n} people followed you."),
    Kind.follow_request: _n("{n} person asked to follow you.", "{n} people asked to follow you."),
    Kind.follow_approved: _n(
        "{n} person approved your follow requests.", "{n} people approved your follow requests."
    ),
}


def digest(items: Sequence[Owed], language: Language = DEFAULT) -> PushMessage | None:
    """One push for everything held: "3 people followed you. 12 claps on 2 memories."."""
    by_kind = {kind: [item for item in items if item.kind == kind] for kind in Kind}
    parts = [_part(kind, found, language) for kind, found in by_kind.items() if found]
    if not parts:
        return None
    return PushMessage(
        body=" ".join(parts),
        kind="digest",
        title=translate(language, DIGEST_TITLE),
        collapse_id="digest",
    )
