"""The intake's answers between steps: signed, in a hidden form field, never in the URL or on the server.

Every step posts the answers so far back; the signature (the app's secret key) makes sure they are the ones
this app wrote. The knowledge version is part of the payload, so answers written for an older
questionnaire are refused instead of being misread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from ...questionnaire import effective_answers

FIELD = "state"
MAX_LENGTH = 32_000  # a full interview is about 3 KB; anything far larger was not written by us
_SALT = "rueckenlotse.intake.v1"


class BadState(Exception):
    """The hidden state is missing, too large, tampered with, or from another knowledge version."""


@dataclass(frozen=True)
class IntakeState:
    answers: Mapping[str, Any] = field(default_factory=dict)
    # Emergency warning signs already shown on an emergency page: they are not shown again.
    warned: frozenset[str] = frozenset()
    # The intake code of the practice whose link (/p/<code>) started this intake, if any.
    practice_code: str | None = None
    # Random per intake started from a practice link: sending its result twice is recognised as one send.
    nonce: str | None = None


@dataclass(frozen=True)
class StateCodec:
    secret: str
    knowledge_version: str

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=_SALT)

    def dumps(self, state: IntakeState) -> str:
        payload: dict[str, Any] = {
            "v": self.knowledge_version,
            "a": dict(state.answers),
            "w": sorted(state.warned),
        }
        if state.practice_code is not None:
            payload["p"] = state.practice_code
        if state.nonce is not None:
            payload["n"] = state.nonce
        text = self._serializer().dumps(payload)
        return text if isinstance(text, str) else text.decode("ascii")

    def loads(self, token: object) -> IntakeState:
        if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
            raise BadState
        try:
            payload = self._serializer().loads(token)
        except BadSignature:
            raise BadState from None
        return self._validated(payload)

    def _validated(self, payload: object) -> IntakeState:
        if not isinstance(payload, dict) or payload.get("v") != self.knowledge_version:
            raise BadState
        answers, warned = payload.get("a"), payload.get("w")
        if not isinstance(answers, dict) or not isinstance(warned, list):
            raise BadState
        if not all(isinstance(flag, str) for flag in warned):
            raise BadState
        practice_code = payload.get("p")  # absent in states written before practice links existed
        if practice_code is not None and not (
            isinstance(practice_code, str) and 0 < len(practice_code) <= 64
        ):
            raise BadState
        nonce = payload.get("n")
        if nonce is not None and not (isinstance(nonce, str) and 0 < len(nonce) <= 64):
            raise BadState
        try:
            effective_answers(answers)  # rejects answer fields the questionnaire does not know
        except ValueError:
            raise BadState from None
        return IntakeState(answers, frozenset(warned), practice_code, nonce)
