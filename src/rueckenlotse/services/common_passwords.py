"""Is a password one of those people choose first? The shipped list (``common_passwords.txt``, made by
scripts/common_passwords.py from well-known habits, no copied leak list) plus rules for what no list can
hold in full: runs of digits or letters ("1234567890", "abcdefghij", "9876543210"), a short piece repeated
("123123123123", "abababababab"), dates ("01.01.1990") and a common stem with digits and punctuation
after it ("Passwort123!", "Sommer2024").
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

_TRAILING = re.compile(r"[\d\W_]+$")
# Letters written as digits or signs ("p4ssw0rt"), read back before the stem is compared.
_LEET = str.maketrans(
    {"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"}
)
_DATE = re.compile(r"^\d{1,4}[./\- ]?\d{1,2}[./\- ]?\d{1,4}$")


@cache
def _listed() -> frozenset[str]:
    text = files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _is_run(text: str) -> bool:
    """Every character one above (or every one below) the one before: 0123456789, 987654, abcdef, and
    the digit run that wraps ("7890123")."""
    if len(text) < 3:
        return False
    steps = {(ord(b) - ord(a)) for a, b in zip(text, text[1:], strict=False)}
    if steps <= {1, -9} or steps <= {-1, 9}:
        return text.isdigit() or (text.isalpha() and steps <= {1} | {-1})
    return False


def _is_repeat(text: str) -> bool:
    """A piece of at most a third of the length, repeated ("121212", "abcabcabc", "passpasspass")."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size)
        for size in range(1, len(text) // 3 + 1)
    )


def is_common(password: str) -> bool:
    """True for a password on the list or of a shape a guesser tries first (compared case-insensitively,
    spaces ignored)."""
    text = "".join(password.casefold().split())
    if not text:
        return False
    if text in _listed() or _is_run(text) or _is_repeat(text) or _DATE.match(text):
        return True
    stem = _TRAILING.sub("", text)
    if stem != text and (not stem or stem in _listed() or _is_run(stem) or _is_repeat(stem)):
        return True
    if stem and stem.translate(_LEET) in _listed():
        return True
    # Digits in front of a stem too ("123passwort"), and both.
    leading = re.sub(r"^[\d\W_]+", "", stem)
    return leading != stem and (not leading or leading in _listed())
