"""Secrets the program must read again (the clinicians' TOTP secrets), sealed at rest with AES-256-GCM.

A sealed value is text: ``rl1:<key id>:<base64url of nonce, ciphertext and tag>``. The key id is derived
from the key (16 hex digits of a SHA-256 of it, which reveal nothing of the key), so several keys can be
configured at once: the current one seals, every configured one opens, and a stored value names the key it
needs. That is what makes rotation possible without a pause: set a new key, keep the old one as previous,
re-seal everything (``rueckenlotse keys rotate``), then drop the old key.

The associated data binds a value to its place (``accounts.totp_secret/<account id>``) and to its key id:
copied into another account's row, or with its key id changed, it no longer opens. A value that cannot be
opened is a ``SealingError`` with a clear message, never a traceback and never the stored text taken as
the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import StoreError

if TYPE_CHECKING:
    from ..settings import Settings

VERSION = "rl1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_LENGTH = 16
SETTING = "RUECKENLOTSE_DATA_KEY"
PREVIOUS_SETTING = "RUECKENLOTSE_DATA_KEY_PREVIOUS"


class SealingError(StoreError):
    """A data key that is not one, no key at all, or a stored value that cannot be opened."""


def parse_key(text: str, source: str) -> bytes:
    """A configured key: 32 bytes in base64, URL-safe or standard alphabet, padding optional.

    ``source`` names where it came from (a setting or a file) for the message; never the key itself.
    """
    try:
        key = _decode("".join(text.split()))
    except (binascii.Error, ValueError):
        raise SealingError("data_key_invalid", source=source) from None
    if len(key) != KEY_BYTES:
        raise SealingError("data_key_invalid", source=source)
    return key


def _decode(written: str) -> bytes:
    """Base64 in either alphabet, padding optional; anything else is an error (binascii.Error), where
    ``urlsafe_b64decode`` would silently skip it."""
    standard = written.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def key_id(key: bytes) -> str:
    """The name a sealed value gives its key: a hash of it (a different purpose prefix than anything else)."""
    return hashlib.sha256(b"rueckenlotse data key id\0" + key).hexdigest()[:KEY_ID_LENGTH]


def is_sealed(stored: str) -> bool:
    return stored.startswith(VERSION + ":")


def key_id_of(stored: str) -> str | None:
    """The key id a sealed value names; None for a value that is not sealed."""
    if not is_sealed(stored):
        return None
    parts = stored.split(":")
    return parts[1] if len(parts) == 3 else None


def _associated(kid: str, place: str) -> bytes:
    return f"{VERSION}:{kid}:{place}".encode()


class Sealer:
    """Seals with the current key; opens with the current or any previous one."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self.current_id = key_id(current)
        # The current key first; a previous key equal to it (or to another) counts once.
        self._ciphers: dict[str, AESGCM] = {}
        for key in (current, *previous):
            self._ciphers.setdefault(key_id(key), AESGCM(key))

    @classmethod
    def from_text(cls, current: tuple[str, str], previous: Sequence[tuple[str, str]] = ()) -> Sealer:
        """From keys as written, each with where it came from: ``(key, source)``."""
        return cls(parse_key(*current), [parse_key(*key) for key in previous])

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id this sealer opens, the current one first."""
        return tuple(self._ciphers)

    def seal(self, plain: str, place: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(
            nonce, plain.encode(), _associated(self.current_id, place)
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{VERSION}:{self.current_id}:{body}"

    def open(self, stored: str, place: str) -> str:
        """The plain value; SealingError when it is not sealed, its key is not configured, or it was changed
        (or belongs to another place)."""
        kid = key_id_of(stored)
        if kid is None:
            raise SealingError("sealed_value_damaged", place=place)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SealingError("sealed_key_unknown", place=place, key_id=kid)
        body = stored.split(":")[2]
        try:
            raw = _decode(body)
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(kid, place))
            return plain.decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise SealingError("sealed_value_damaged", place=place) from None

    def is_current(self, stored: str) -> bool:
        return key_id_of(stored) == self.current_id


def sealer_for(settings: Settings, *, create: bool = True) -> Sealer:
    """The sealer of these settings: ``RUECKENLOTSE_DATA_KEY`` (else ``data_dir/data_key``, made on first use
    unless ``create`` is False) seals; ``RUECKENLOTSE_DATA_KEY_PREVIOUS`` only opens.

    Without ``create`` and without any key: SealingError. ``keys rotate`` uses that, so that it never seals
    under a key of its own that the servers do not have.
    """
    if settings.data_key is not None:
        source = SETTING
    else:
        source = str(settings.data_key_file())
    try:
        current = settings.effective_data_key(create=create)
    except ValueError:  # the key file holds too few characters to be a key
        raise SealingError("data_key_invalid", source=source) from None
    if current is None:
        raise SealingError("data_key_missing", path=source)
    previous = [(key, PREVIOUS_SETTING) for key in settings.previous_data_keys()]
    return Sealer.from_text((current, source), previous)
