"""Outgoing email: SMTP when configured, otherwise `.eml` files in the outbox folder."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import anyio.to_thread
import structlog

from keepsake.config import Settings

log = structlog.get_logger("keepsake.mail")


class Mailer(Protocol):
    async def send(self, *, to: str, subject: str, body: str) -> None: ...


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@keepsake>"
    message.set_content(body)
    return message


class OutboxMailer:
    """Development mailer: each message becomes a file a developer can open."""

    def __init__(self, folder: Path, sender: str):
        self.folder = folder
        self.sender = sender

    async def send(self, *, to: str, subject: str, body: str) -> None:
        message = _message(self.sender, to, subject, body)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4()}.eml"
        await anyio.to_thread.run_sync(path.write_bytes, message.as_bytes())
        log.info("mail.written", to=to, subject=subject, path=str(path))


class SmtpMailer:
    def __init__(self, settings: Settings):
        self.settings = settings

    def _send_blocking(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)

    async def send(self, *, to: str, subject: str, body: str) -> None:
        message = _message(self.settings.email_from, to, subject, body)
        await anyio.to_thread.run_sync(self._send_blocking, message)
        log.info("mail.sent", to=to, subject=subject)


def build_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.outbox_dir, settings.email_from)
