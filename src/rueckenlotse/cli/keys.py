"""Data key commands: keys new, keys status, keys rotate.

The data key seals the secrets the database keeps for reading again (the clinicians' TOTP secrets,
``store.sealing``). Rotating: make a new key (``keys new``), set it as RUECKENLOTSE_DATA_KEY and the old one
as RUECKENLOTSE_DATA_KEY_PREVIOUS on every process, run ``keys rotate``, then drop the old key
(docs/operations.md). Errors exit with code 2 and a message on stderr.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from .common import DbOption, Lang, LangOption, cli_text, command_group, database_url, user_errors

if TYPE_CHECKING:
    from ..settings import Settings
    from ..store.sealing import Sealer

keys_app = command_group("Data keys: make a new one, show which key each stored secret needs, rotate.")


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"keys.{key}", lang.value, **values)


def _settings(db: str | None) -> tuple[Settings, str]:
    from ..settings import Settings

    return Settings(), database_url(db)


def _sealer(settings: Settings) -> Sealer:
    """The configured keys; never a new one: a key made here would be one the servers do not have."""
    from ..store.sealing import sealer_for

    return sealer_for(settings, create=False)


def keys_new(lang: LangOption = Lang.de) -> None:
    """Print a new random data key (32 bytes, base64) for RUECKENLOTSE_DATA_KEY. Changes nothing.

    Example: rueckenlotse keys new
    """
    from ..settings import new_data_key

    sys.stderr.write(_t("new_key", lang) + "\n")
    sys.stdout.write(new_data_key() + "\n")


def keys_status(db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Show the data keys configured and how many stored secrets each key sealed. Changes nothing.

    Example: rueckenlotse keys status
    """
    from ..store import Store
    from ..store.data_keys import PLAIN, sealed_by_key

    with user_errors(lang):
        settings, url = _settings(db)
        sealer = _sealer(settings)
        with Store.open(url) as store:
            counts = sealed_by_key(store)
    lines = [_t("current_key", lang, key_id=sealer.current_id)]
    previous = sealer.key_ids[1:]
    lines.append(_t("previous_keys", lang, key_ids=", ".join(previous) if previous else "–"))
    for kid, count in sorted(counts.items()):
        if kid == PLAIN:
            lines.append(_t("count_plain", lang, count=count))
        elif kid == sealer.current_id:
            lines.append(_t("count_current", lang, key_id=kid, count=count))
        elif kid in previous:
            lines.append(_t("count_previous", lang, key_id=kid, count=count))
        else:
            lines.append(_t("count_unknown", lang, key_id=kid, count=count))
    if not counts:
        lines.append(_t("count_none", lang))
    sys.stdout.write("\n".join(lines) + "\n")


def keys_rotate(db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Seal every stored secret again under the current data key (RUECKENLOTSE_DATA_KEY).

    The previous keys (RUECKENLOTSE_DATA_KEY_PREVIOUS) open what they sealed. One transaction: all or
    nothing. Recorded in the audit trail as done by the system. Running it again changes nothing.

    Example: RUECKENLOTSE_DATA_KEY=NEW RUECKENLOTSE_DATA_KEY_PREVIOUS=OLD rueckenlotse keys rotate
    """
    from ..store import Store
    from ..store.audit import SYSTEM_CLI
    from ..store.data_keys import rotate

    with user_errors(lang):
        settings, url = _settings(db)
        sealer = _sealer(settings)
        with Store.open(url) as store:
            done = rotate(store, sealer, SYSTEM_CLI)
    message = _t(
        "rotated",
        lang,
        key_id=sealer.current_id,
        resealed=done.resealed,
        plain=done.plain,
        current=done.current,
    )
    sys.stdout.write(message + "\n")


def register(app: typer.Typer) -> None:
    keys_app.command("new")(keys_new)
    keys_app.command("status")(keys_status)
    keys_app.command("rotate")(keys_rotate)
    app.add_typer(keys_app, name="keys")
