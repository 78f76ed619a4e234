"""Administration commands: list and revoke a practice's API tokens, rotate its intake link, remove a
member, disable an account, end its sessions, reset a lost second factor.

Thin: each command calls one function of ``services.administration``, which writes the audit row in the
same unit of work (actor: the system, channel: cli). Accounts are named by their e-mail address.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from .common import DbOption, Lang, LangOption, cli_text, command_group, open_store, user_errors

admin_app = command_group(
    "Administration: API tokens, intake link, members, disable accounts, sessions, second factor.",
)

PracticeArg = Annotated[str, typer.Argument(help="The practice's id.")]
EmailArg = Annotated[str, typer.Argument(help="The account's e-mail address.")]


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"admin.{key}", lang.value, **values)


def _day(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).date().isoformat()


def admin_tokens(practice_id: PracticeArg, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """List the practice's API tokens: id, name, made, expires, state.

    Example: rueckenlotse admin tokens 3f2a…
    """
    from ..services import administration

    now = datetime.now(UTC)
    with user_errors(lang), open_store(db) as store:
        records = administration.tokens(store, practice_id)
    for token in records:
        if token.revoked_at is not None:
            state = _t("state_revoked", lang)
        elif not token.live(now):
            state = _t("state_expired", lang)
        else:
            state = _t("state_live", lang)
        created, expires = _day(token.created_at), _day(token.expires_at)
        sys.stdout.write(f"{token.id}\t{token.name}\t{created}\t{expires}\t{state}\n")
    if not records:
        sys.stderr.write(_t("no_tokens", lang) + "\n")


def admin_revoke_token(
    practice_id: PracticeArg,
    token_id: Annotated[str, typer.Argument(help="The token's id (from `admin tokens`).")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Revoke one API token of the practice: it is refused from now on.

    Example: rueckenlotse admin revoke-token 3f2a… 9b1c…
    """
    from ..services import administration
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        revoked = administration.revoke_token(store, practice_id, token_id, SYSTEM_CLI)
    sys.stdout.write(_t("token_revoked" if revoked else "token_not_live", lang) + "\n")
    if not revoked:
        raise typer.Exit(2)


def admin_rotate_link(practice_id: PracticeArg, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Give the practice a new intake link; the old one stops working at once.

    Example: rueckenlotse admin rotate-link 3f2a…
    """
    from ..services import administration
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        practice = administration.rotate_intake_link(store, practice_id, SYSTEM_CLI)
    sys.stdout.write(_t("link_rotated", lang, code=practice.intake_code) + "\n")


def admin_remove_member(
    practice_id: PracticeArg, email: EmailArg, db: DbOption = None, lang: LangOption = Lang.de
) -> None:
    """Remove a clinician from the practice: its inbox is closed to them from the next request.

    Example: rueckenlotse admin remove-member 3f2a… arzt@praxis.de
    """
    from ..services import administration
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        removed = administration.remove_member(store, practice_id, email, SYSTEM_CLI)
    sys.stdout.write(_t("member_removed" if removed else "not_a_member", lang) + "\n")
    if not removed:
        raise typer.Exit(2)


def admin_disable(email: EmailArg, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Disable an account: it cannot sign in any more, and its sessions end at once.

    Example: rueckenlotse admin disable arzt@praxis.de
    """
    from ..services import administration
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        administration.disable_account(store, email, SYSTEM_CLI)
    sys.stdout.write(_t("disabled", lang) + "\n")


def admin_end_sessions(email: EmailArg, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """End every session of an account (e.g. signed in on a lost device).

    Example: rueckenlotse admin end-sessions anna@example.org
    """
    from ..services import administration
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        ended = administration.end_sessions(store, email, SYSTEM_CLI)
    sys.stdout.write(_t("sessions_ended", lang, count=ended) + "\n")


def admin_reset_2fa(email: EmailArg, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Reset an account's second factor (a lost phone): sessions end, a new app is set up at sign-in.
    Confirm who is asking (in person, by phone) before you do this.

    Example: rueckenlotse admin reset-2fa arzt@praxis.de
    """
    from ..services import administration
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        administration.reset_second_factor(store, email, SYSTEM_CLI)
    sys.stdout.write(_t("second_factor_reset", lang) + "\n")


def register(app: typer.Typer) -> None:
    admin_app.command("tokens")(admin_tokens)
    admin_app.command("revoke-token")(admin_revoke_token)
    admin_app.command("rotate-link")(admin_rotate_link)
    admin_app.command("remove-member")(admin_remove_member)
    admin_app.command("disable")(admin_disable)
    admin_app.command("end-sessions")(admin_end_sessions)
    admin_app.command("reset-2fa")(admin_reset_2fa)
    app.add_typer(admin_app, name="admin")
