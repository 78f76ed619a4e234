"""Store errors carry their message in German and English, so every interface can show the right one."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed in a way the user can act on (bad URL, missing tool, damaged backup)."""

    def __init__(self, de: str, en: str) -> None:
        self.de = de
        self.en = en
        super().__init__(f"{de} / {en}")

    def message(self, lang: str = "de") -> str:
        return self.en if lang == "en" else self.de


class NotFound(StoreError, LookupError):
    """A person (or another record) does not exist."""

    def __init__(self, kind_de: str, kind_en: str, key: str) -> None:
        self.key = key
        super().__init__(f"{kind_de} „{key}“ nicht gefunden.", f"{kind_en} '{key}' not found.")


def person_not_found(person_id: str) -> NotFound:
    return NotFound("Person", "Person", person_id)
