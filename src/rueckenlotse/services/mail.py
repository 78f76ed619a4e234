"""E-mail: the mails the app sends (password reset, address verification, "you already have an account"),
rendered from templates in German and English, and sent through the configured SMTP server.

A template (``mail_templates/<kind>.<lang>.txt``) starts with a ``Subject:`` line, then an empty line, then
the body in plain text: what every mail program shows alike, and nothing a filter mistakes for a lure.

Sending blocks (a network round trip): the web pages call ``send`` off the event loop, after the answer
(a background task), so how long it takes never tells whether an address has an account. A mail that
cannot be sent is logged without the address and is never an error page: the person can ask again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..settings import Settings

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("mail_templates")
KINDS = frozenset({"reset", "verify", "account_exists", "reminder", "check_reminder"})
LANGS = ("de", "en")
TIMEOUT_SECONDS = 15


class MailNotAvailable(RuntimeError):
    """No mail server (or no public address for the links) is configured."""


@cache
def _environment() -> Environment:
    # The mails are plain text (.txt: nothing to escape); an HTML template, should one be added, is escaped.
    # A missing value is a bug, not an empty line.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(kind: str, lang: str, to: str, sender: str, **values: object) -> EmailMessage:
    """The mail of this kind in this language (German for any language without its own template)."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail {kind!r}")
    text = _environment().get_template(f"{kind}.{lang if lang in LANGS else 'de'}.txt").render(**values)
    head, _, body = text.partition("\n\n")
    if not head.startswith("Subject: "):
        raise ValueError(f"mail template {kind}.{lang} has no Subject line")
    message = EmailMessage()
    message["Subject"] = head.removeprefix("Subject: ").strip()
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a mail nobody reads
    message.set_content(body.lstrip("\n"))
    return message


class Mailer:
    """Sends mails through the SMTP server of the settings (``RUECKENLOTSE_SMTP_*``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def available(self) -> bool:
        return self._settings.mail_available

    def link(self, path: str) -> str:
        """An absolute link for a mail: the configured public address, never a request's Host header."""
        base = self._settings.public_url
        if not base:
            raise MailNotAvailable()
        return base.rstrip("/") + path

    def compose(self, kind: str, lang: str, to: str, **values: object) -> EmailMessage:
        return compose(kind, lang, to, self._settings.smtp_from, **values)

    def send(self, message: EmailMessage) -> bool:
        """Send it; False (and a log line without the address) when the server is unreachable or refuses."""
        settings = self._settings
        if not self.available or settings.smtp_host is None:
            raise MailNotAvailable()
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_user and settings.smtp_password is not None:
                    smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as e:
            log.warning("mail not sent (%s): %s", message["Subject"], type(e).__name__)
            return False
        return True
