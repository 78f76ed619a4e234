"""The contact details a person may leave with an intake: read from the form, checked field by field.

Every field is optional. What is given must be usable by a practice (a phone number with enough digits, an
address that can be an e-mail address, a date of birth in the past); anything else is an error beside that
field, in the person's language, never a refusal of the whole send without saying why.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..store.account_records import IntakeContact

FIELDS = ("name", "phone", "email", "birth_date")
MAX_NAME = 100
MAX_PHONE = 30
MIN_PHONE_DIGITS = 6
MAX_EMAIL = 254
OLDEST_YEAR = 1900
PHONE = re.compile(r"^\+?[0-9 ()/.-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class ContactForm:
    """What was typed (to show again) and, per field, the text key of its error."""

    values: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def contact(self) -> IntakeContact:
        """The checked details (only when valid); the date of birth as an ISO date."""
        assert self.valid
        given = {k: v for k, v in self.values.items() if v}
        if "birth_date" in given:
            given["birth_date"] = _date(given["birth_date"]).isoformat()  # type: ignore[union-attr]
        return IntakeContact(**given)


def _clean(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return " ".join(text.split())


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def _date(text: str) -> dt.date | None:
    try:
        if match := GERMAN_DATE.match(text):
            day, month, year = (int(part) for part in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def read_contact(form: Mapping[str, object], today: dt.date) -> ContactForm:
    values = {name: _clean(form.get(name)) for name in FIELDS}
    errors: dict[str, str] = {}
    name, phone, email, birth = (values[f] for f in FIELDS)
    if name and (len(name) > MAX_NAME or _has_controls(name)):
        errors["name"] = "practice.contact.error.name"
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (len(phone) > MAX_PHONE or not PHONE.match(phone) or digits < MIN_PHONE_DIGITS):
        errors["phone"] = "practice.contact.error.phone"
    if email and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        errors["email"] = "practice.contact.error.email"
    if birth:
        born = _date(birth)
        if born is None:
            errors["birth_date"] = "practice.contact.error.birth_date"
        elif born > today or born.year < OLDEST_YEAR:
            errors["birth_date"] = "practice.contact.error.birth_date_range"
    return ContactForm(values, errors)
