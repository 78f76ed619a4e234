"""Going through a practice's link over HTTP as a browser would: welcome and consent, the questions, the
confirmation step (waiting as long as a person reads it), sending."""

from __future__ import annotations

import re
import time

import httpx

from rueckenlotse.settings import Settings

from .pages_helpers import SELF_CARE_PLAN, answer_all, parse_page

# The confirmation must have been open this long (the server's default); one second more for the
# time stamp's whole seconds.
MIN_SECONDS = Settings.model_fields["practice_send_min_seconds"].default + 1.0


def agree(web: httpx.Client, code: str) -> httpx.Response:
    """The welcome page, then "Einverstanden": the first question."""
    welcome = web.get(f"/p/{code}")
    assert welcome.status_code == 200, welcome.text[:1000]
    form, _, _ = parse_page(welcome.text, "practice-agree")
    assert form is not None and form.method.lower() == "get"
    return web.get(form.action, params=form.hidden)


def practice_result(
    web: httpx.Client, code: str, plan: dict[str, list[str] | str] | None = None
) -> httpx.Response:
    result, _ = answer_all(web, agree(web, code), plan or SELF_CARE_PLAN)
    return result


def confirm(web: httpx.Client, result: httpx.Response) -> httpx.Response:
    """ "An die Praxis senden …" on the result page: the confirmation page."""
    form, _, _ = parse_page(result.text, "practice-send")
    assert form is not None, result.text[:2000]
    page = web.post(form.action, data=form.hidden)
    assert page.status_code == 200, page.text[:2000]
    return page


def confirm_form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    form, _, _ = parse_page(page.text, "practice-confirm")
    assert form is not None, page.text[:2000]
    return form.action, form.hidden


def send(
    web: httpx.Client, page: httpx.Response, contact: dict[str, str] | None = None, *, wait: bool = True
) -> httpx.Response:
    """Send from the confirmation page (after reading it for the minimum time)."""
    action, hidden = confirm_form(page)
    if wait:
        time.sleep(MIN_SECONDS)
    return web.post(action, data={**hidden, **(contact or {})})


def reference_of(receipt: httpx.Response) -> str:
    match = re.search(r'id="receipt-reference"[^>]*>([A-Z0-9-]+)<', receipt.text)
    assert match is not None, receipt.text[:2000]
    return match.group(1)
