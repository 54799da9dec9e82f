"""Every push kind, the digest, every email, every problem's title and detail and every
failure code's detail rendered in each language, as committed.

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
from keepsake.i18n.catalog import translate, translate_plural
from keepsake.i18n.email import link_email
from keepsake.notifications.models import NotificationKind as Kind
from keepsake.notifications.service import Owed
from keepsake.push import messages
from tests.i18n.messages import Said, failures, problems
from tests.i18n.test_catalogs import EXTRACTED

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


# What the placeholders of problem and failure details hold in the snapshot.
SAMPLES: dict[str, object] = {
    "algorithm": "RS256",
    "allowed": "image/jpeg, image/png",
    "balance": 40,
    "claim": "exp",
    "content_type": "video/mp4",
    "edge": 64,
    "expected": "'follow' or 'claps'",
    "id": uuid.UUID(int=7),
    "key": "uploads/a/b",
    "limit": 80,
    "megabytes": 200,
    "megapixels": 40,
    "provider": "Kakao",
    "purpose": "clip",
    "roles": "moderator, admin",
    "seconds": 30,
    "size": 1024,
    "tag": "첫눈",
    "total": 75,
    "ge": 1,
    "gt": 0,
    "le": 50,
    "lt": 100,
    "name": "지민",
    "first": "지민",
    "second": "Theo",
    "memories": 2,
    "until": "2026-12-05 22:30",
}


def _said(language: Language, said: Said) -> str:
    return f"{said.code}: {translate(language, said.message, **SAMPLES)}"


def render_problems(language: Language) -> str:
    """Each problem code's title, each detail raised with its code, each failure's detail,
    then every other catalog message (field messages, details built by helpers)."""
    titles, details = problems()
    lines = [
        f"title {code}: {translate(language, title)}" for code, title in sorted(titles.items())
    ]
    lines += [f"detail {_said(language, said)}" for said in details]
    lines += [f"failure {_said(language, said)}" for said in failures()]
    shown = {*titles.values(), *(said.message for said in details)}
    shown |= {said.message for said in failures()}
    for message in sorted(EXTRACTED - shown, key=str):
        if isinstance(message, tuple):
            for n in (1, 3):
                text = translate_plural(language, message[0], message[1], n, **SAMPLES)
                lines.append(f"message: {text}")
        else:
            lines.append(f"message: {translate(language, message, **SAMPLES)}")
    return "\n".join(lines) + "\n"


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
@pytest.mark.parametrize("part", ["messages", "problems"])
def test_rendered_text_matches_the_snapshot(language: Language, part: str) -> None:
    path = SNAPSHOTS / (f"{language}.txt" if part == "messages" else f"{language}.problems.txt")
    text = render(language) if part == "messages" else render_problems(language)
    if os.environ.get("KEEPSAKE_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text
