"""The common-password check: the shipped list and the rules for runs, repeats, dates and stems."""

from __future__ import annotations

import pytest

from rueckenlotse.services.auth import WeakPassword, check_password
from rueckenlotse.services.common_passwords import is_common

COMMON = [
    "1234567890",
    "0987654321",
    "7890123456",
    "abcdefghijkl",
    "123123123123",
    "abababababab",
    "qwertzuiop",
    "1qay2wsx3edc",
    "passwort123",
    "Passwort123!",
    "PASSWORT2024",
    "Sommer2024!!",
    "ichliebedich",
    "Fussball1904",
    "01.01.1990",
    "hallo welt 2024",
    "123passwort",
    "p4ssw0rt1234",
]
FINE = [
    "ein langer Satz als Passwort",
    "Rücken-Lotse 2024!",
    "korrekt pferd batterie heftklammer",
    "Mein Hund heisst Bello seit 2019",
    "7Tq!rB2m#pLx",
]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused_in_both_languages(password: str) -> None:
    assert is_common(password)
    with pytest.raises(WeakPassword) as caught:
        check_password("anna@example.org", password)
    assert "Raten" in caught.value.message("de") and "guessers" in caught.value.message("en")


@pytest.mark.parametrize("password", FINE)
def test_passphrases_and_random_passwords_pass(password: str) -> None:
    assert not is_common(password)
    check_password("anna@example.org", password)
