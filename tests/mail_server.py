"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every mail it receives, for the tests.

The app sends through smtplib exactly as it would to a provider's server; the tests then read the mails
(and the links in them) from here. No mock: a mail that the app cannot send does not arrive.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller

from .serving import free_port

LINK = re.compile(r"https?://\S+")


@dataclass
class Inbox:
    """What the server received, in order."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The mails to ``address`` once there are ``count`` of them (the app sends after its answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) to {address} expected, {len(self.to(address))} arrived")


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return cast(str, cast(EmailMessage, part).get_content())


def link_in(message: EmailMessage) -> str:
    found = LINK.search(body_of(message))
    assert found is not None, body_of(message)
    return found.group(0)


@contextmanager
def mail_server() -> Iterator[Inbox]:
    inbox = Inbox("127.0.0.1", free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def mail_env(inbox: Inbox) -> dict[str, str]:
    """The settings that send the app's mails to this server (plain SMTP on the loopback)."""
    return {
        "RUECKENLOTSE_SMTP_HOST": inbox.host,
        "RUECKENLOTSE_SMTP_PORT": str(inbox.port),
        "RUECKENLOTSE_SMTP_STARTTLS": "false",
        "RUECKENLOTSE_SMTP_FROM": "Rückenlotse <noreply@rueckenlotse.test>",
    }
