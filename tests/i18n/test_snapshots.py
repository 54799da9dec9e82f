"""Every push kind, the digest and every email rendered in each language, as committed.

Read `snapshots/*.txt` as a native speaker would; regenerate them after a wording change
with `KEEPSAKE_UPDATE_SNAPSHOTS=1 python3 dev.py test tests/i18n`.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keepsake.accounts.links import CONFIRM_SUBJECT
from keepsake.i18n import SUPPORTED, Language
from keepsake.i18n.catalog import translate
from keepsake.i18n.email import link_email
from keepsake.notifications.models import NotificationKind as Kind
from keepsake.notifications.service import Owed
from keepsake.push import messages

SNAPSHOTS = Path(__file__).parent / "snapshots"
AT = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)


def _owed(kind: Kind, *names: str, people: int | None = None, count: int | None = None) -> Owed:
    return Owed(
        id=uuid.UUID(int=1),
        kind=kind,
        memory_id=None,
        count=count,
        created_at=AT,
        names=names,
        people=len(names) if people is None else people,
    )


@dataclass(frozen=True)
class _Person:
    display_name: str
    timezone: str
    locale: Language


EMAILS = {
    "verify": (CONFIRM_SUBJECT, "Hello {name}, please confirm your email address:"),
    "verify again": (CONFIRM_SUBJECT, "Please confirm your email address:"),
    "reset": (
        "Reset your Keepsake password",
        "Someone asked to reset your password. If it was you, use this link:",
    ),
}


def render(language: Language) -> str:
    lines = []
    for kind in Kind:
        for names, people in (((), 0), (("지민",), 1), (("지민", "Theo"), 2), (("Theo",), 4)):
            message = messages.single(_owed(kind, *names, people=people, count=3), language)
            lines.append(f"push {kind.value} ({people} people): {message.body}")
    one_each = [_owed(kind, "지민", count=1) for kind in Kind]
    many = [_owed(kind, "지민", count=5) for kind in Kind for _ in range(3)]
    for name, held in (("one of each", one_each), ("three of each", many)):
        digest = messages.digest(held, language)
        assert digest is not None
        lines.append(f"digest {name}: [{digest.title}] {digest.body}")
    person = _Person("지민", "Asia/Seoul" if language == "ko" else "Europe/London", language)
    for name, (subject, text) in EMAILS.items():
        title, body = link_email(
            person,
            subject=subject,
            text=text,
            link="https://keepsake.example/x",
            token="TOKEN",
            expires_at=AT,
        )
        lines.append(f"email {name}: Subject: {title}\n{body}")
    lines.append(translate(language, messages.DIGEST_TITLE))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("language", SUPPORTED)
def test_rendered_text_matches_the_snapshot(language: Language) -> None:
    path = SNAPSHOTS / f"{language}.txt"
    text = render(language)
    if os.environ.get("KEEPSAKE_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text
