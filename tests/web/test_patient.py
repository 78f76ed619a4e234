"""The patient's own area over HTTP against the live server: registration, saving, Mein Bereich, plan, diary.

No person id is ever in a URL: every page serves the signed-in patient's own data, so isolation is checked
by what the pages show. Helpers here are shared by test_patient_journey.py and test_xss.py.
"""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from rueckenlotse.store import ThrottlePolicy

from .conftest import LiveServer
from .pages_helpers import SELF_CARE_PLAN, answer_all, parse_page, start, step_form, text_of
from .test_auth import accounts, new_clinician, open_store, own_client, sign_in, wrong_code

PASSWORD = "ein langer Satz als Passwort"
PERSONAL = [
    "/mein-bereich",
    "/mein-bereich/plan",
    "/mein-bereich/tagebuch",
    "/mein-bereich/tagebuch/verlauf.svg",
]
POSTS = [
    "/registrieren",
    "/speichern",
    "/mein-bereich/plan/ausschliessen",
    "/mein-bereich/plan/einschliessen",
    "/mein-bereich/tagebuch",
]


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    """Every test speaks as its own client address: registrations are limited per address."""
    with own_client(live_server) as own:
        yield own


def new_email() -> str:
    return f"p-{uuid.uuid4().hex[:12]}@example.org"


def csrf_of(page: httpx.Response | str) -> str:
    text = page if isinstance(page, str) else page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match is not None, text[:2000]
    return match.group(1)


def token(client: httpx.Client) -> str:
    return csrf_of(client.get("/"))


def self_care_result(client: httpx.Client) -> httpx.Response:
    response, _ = answer_all(client, start(client), SELF_CARE_PLAN)
    assert "Selbst gut für sich sorgen" in response.text
    return response


def register(
    client: httpx.Client, email: str, *, password: str = PASSWORD, repeat: str | None = None, name: str = ""
) -> httpx.Response:
    data = {
        "csrf_token": token(client),
        "email": email,
        "password": password,
        "password_repeat": password if repeat is None else repeat,
        "display_name": name,
    }
    return client.post("/registrieren", data=data)


def new_patient(client: httpx.Client, name: str = "") -> str:
    """A freshly registered patient, signed in on this client, with a saved self-care assessment."""
    email = new_email()
    response = register(client, email, name=name)
    assert response.status_code == 303 and response.headers["location"] == "/mein-bereich", response.text
    result = self_care_result(client)
    form = step_form(result)
    saved = client.post(
        "/speichern", data={"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"]}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/mein-bereich"
    return email


def diary_entry(client: httpx.Client, **fields: str | list[str]) -> httpx.Response:
    """Fill in the diary's form as a browser would (its hidden key and owner, the date and time it shows),
    post it, and follow the redirect to the page after saving."""
    page = client.get("/mein-bereich/tagebuch")
    data: dict[str, str | list[str]] = {**hidden_of(page, "diary"), **diary_moment(page)}
    data.update({"pain_low_back": "5", "activity_minutes": "20", "note": ""})
    data.update(fields)
    return client.post("/mein-bereich/tagebuch", data=data, follow_redirects=True)


def diary_moment(page: httpx.Response) -> dict[str, str]:
    """The date and time fields as the form shows them (now, in Europe/Berlin)."""
    found = {
        name: re.search(rf'name="{name}" value="([^"]*)"', page.text) for name in ("entry_date", "entry_time")
    }
    return {name: match.group(1) for name, match in found.items() if match is not None}


def days_shown(page: httpx.Response) -> str:
    return page.text.split('id="days-title"', 1)[1]


# ---- registration ---------------------------------------------------------------------------------
def test_weak_password_is_refused_with_a_field_error(client: httpx.Client) -> None:
    email = new_email()
    response = register(client, email, password="kurz")
    assert response.status_code == 422
    assert "Das Passwort ist zu kurz" in response.text
    assert re.search(r'id="password"[^>]*aria-describedby="[^"]*password-error', response.text, re.S)
    assert 'href="#password"' in response.text  # the summary links to the field
    assert email in response.text and "kurz" not in re.findall(r'id="password"[^>]*>', response.text)[0]
    # Nothing was created: the same address registers fine afterwards.
    assert register(client, email).status_code == 303


def test_passwords_must_match(client: httpx.Client) -> None:
    response = register(client, new_email(), repeat=PASSWORD + "!")
    assert response.status_code == 422
    assert "nicht gleich" in response.text and 'href="#password_repeat"' in response.text


def test_a_taken_email_gets_a_neutral_message(live_server: LiveServer) -> None:
    email = new_email()
    with own_client(live_server) as first, own_client(live_server) as second:
        assert register(first, email).status_code == 303
        response = register(second, email.upper())
    assert response.status_code == 422
    assert "Mit dieser E-Mail-Adresse geht es nicht" in response.text
    assert "Für diese E-Mail-Adresse gibt es schon ein Konto" not in response.text
    assert "session" not in response.cookies


def test_saving_an_assessment_after_registering(client: httpx.Client) -> None:
    form = step_form(self_care_result(client))
    offer = client.post(
        "/speichern", data={"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"]}
    )
    assert offer.status_code == 200 and "Konto anlegen und speichern" in offer.text
    state = re.search(r'name="state" value="([^"]+)"', offer.text)
    assert state is not None and state.group(1) == form.hidden["state"]
    data = {
        "csrf_token": csrf_of(offer),
        "state": state.group(1),
        "email": new_email(),
        "password": PASSWORD,
        "password_repeat": PASSWORD,
        "display_name": "Jana",
    }
    response = client.post("/registrieren", data=data)
    assert response.status_code == 303 and response.headers["location"] == "/mein-bereich"
    home = client.get("/mein-bereich")
    assert home.status_code == 200
    text = text_of(home.text)
    assert "Hallo, Jana!" in text and "Selbst gut für sich sorgen" in text and "Fragebogen" in text
    plan = client.get("/mein-bereich/plan")
    assert plan.status_code == 200 and "Ihre Übungen" in plan.text and "Wann aufhören" in plan.text


def test_saving_while_signed_in_adds_an_assessment(client: httpx.Client) -> None:
    new_patient(client)
    form = step_form(self_care_result(client))
    response = client.post(
        "/speichern", data={"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"]}
    )
    assert response.status_code == 303
    history = client.get("/mein-bereich").text.split('id="history-title"', 1)[1]
    assert history.split("</ul>", 1)[0].count("<li>") == 2


def test_a_tampered_state_is_not_saved(client: httpx.Client) -> None:
    form = step_form(self_care_result(client))
    data = {"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"][:-2] + "xx"}
    assert client.post("/speichern", data=data).status_code == 400


def sign_in_form_with_pending(client: httpx.Client) -> httpx.Response:
    """Result page → Speichern → "Anmelden und speichern": the sign-in form, with the assessment along."""
    form = step_form(self_care_result(client))
    offer = client.post(
        "/speichern", data={"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"]}
    )
    instead, _, _ = parse_page(offer.text, "sign-in-instead")
    assert instead is not None and instead.action == "/speichern"
    assert instead.hidden["state"] == form.hidden["state"]
    page = client.post(instead.action, data=instead.hidden)
    assert page.status_code == 200 and "Nach der Anmeldung speichern wir" in page.text
    login, _, _ = parse_page(page.text, "login")
    assert login is not None and login.action == "/anmelden" and login.hidden["state"] == form.hidden["state"]
    return page


def hidden_of(page: httpx.Response, form_id: str) -> dict[str, str]:
    form, _, _ = parse_page(page.text, form_id)
    assert form is not None, page.text[:2000]
    return form.hidden


def history_count(client: httpx.Client) -> int:
    home = client.get("/mein-bereich")
    assert home.status_code == 200
    if 'id="history-title"' not in home.text:
        return 0
    return home.text.split('id="history-title"', 1)[1].split("</ul>", 1)[0].count("<li>")


def test_signing_in_instead_of_registering_saves_the_assessment(live_server: LiveServer) -> None:
    with own_client(live_server) as first:
        email = new_email()
        assert register(first, email).status_code == 303  # an account without any assessment yet
    with own_client(live_server) as client:
        page = sign_in_form_with_pending(client)
        # A wrong password keeps the assessment in the form; the right one then saves it.
        wrong = client.post(
            "/anmelden", data={**hidden_of(page, "login"), "email": email, "password": "falsch"}
        )
        assert wrong.status_code == 401
        response = client.post(
            "/anmelden", data={**hidden_of(wrong, "login"), "email": email, "password": PASSWORD}
        )
        assert response.status_code == 303 and response.headers["location"] == "/mein-bereich"
        assert history_count(client) == 1
        assert "Selbst gut für sich sorgen" in client.get("/mein-bereich").text


def test_with_a_second_factor_the_assessment_is_saved_after_the_code(live_server: LiveServer) -> None:
    email = new_email()
    with open_store(live_server) as store:
        repo = accounts(store)
        account, _ = repo.register_patient(email, PASSWORD)
        secret = repo.totp_setup(account.id).secret
        assert repo.totp_confirm(account.id, pyotp.TOTP(secret).at(time.time() - 30))
    with own_client(live_server) as client:
        page = sign_in_form_with_pending(client)
        response = client.post(
            "/anmelden", data={**hidden_of(page, "login"), "email": email, "password": PASSWORD}
        )
        # The code form comes at once (a redirect could not carry the assessment) and carries it along.
        assert response.status_code == 200 and "session" in response.cookies
        code_form = hidden_of(response, "code-form")
        assert code_form["state"] == hidden_of(page, "login")["state"]
        assert client.get("/mein-bereich").headers["location"] == "/anmelden"  # not signed in yet
        wrong = client.post(
            "/anmelden/code",
            data={**code_form, "code": wrong_code(secret)},
        )
        assert wrong.status_code == 401
        done = client.post(
            "/anmelden/code", data={**hidden_of(wrong, "code-form"), "code": pyotp.TOTP(secret).now()}
        )
        assert done.status_code == 303 and done.headers["location"] == "/mein-bereich"
        assert history_count(client) == 1


def test_a_plain_sign_in_saves_nothing_and_a_tampered_pending_state_is_refused(
    live_server: LiveServer,
) -> None:
    with own_client(live_server) as first:
        email = new_email()
        assert register(first, email).status_code == 303
    with own_client(live_server) as client:
        page = sign_in_form_with_pending(client)
        data = {**hidden_of(page, "login"), "email": email, "password": PASSWORD}
        tampered = client.post("/anmelden", data={**data, "state": data["state"][:-2] + "xx"})
        assert tampered.status_code == 400 and "session" not in tampered.cookies
        plain = client.post("/anmelden", data={k: v for k, v in data.items() if k != "state"})
        assert plain.status_code == 303
        assert history_count(client) == 0


def test_registrations_are_limited_per_client_address(live_server: LiveServer) -> None:
    limit = ThrottlePolicy().registrations_per_client
    with own_client(live_server) as client, own_client(live_server) as other:
        # Field errors do not count: only attempts to make an account do.
        assert register(client, new_email(), password="kurz").status_code == 422
        for _ in range(limit):
            client.cookies.clear()  # signed out again, as the next visitor on the same connection
            assert register(client, new_email()).status_code == 303
        client.cookies.clear()
        email = new_email()
        throttled = register(client, email)
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert "Zu viele Versuche" in throttled.text and "sehr viele Konten" in throttled.text
        assert "session" not in throttled.cookies
        client.cookies.set("lang", "en")
        english = register(client, new_email())
        assert english.status_code == 429 and "A great many accounts" in english.text
        # Nothing was made: the address is still free, and another connection may register.
        assert register(other, email).status_code == 303


# ---- access ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PERSONAL)
def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/anmelden"


@pytest.mark.parametrize("path", POSTS[2:])
def test_anonymous_posts_are_sent_to_sign_in(client: httpx.Client, path: str) -> None:
    response = client.post(path, data={"csrf_token": token(client), "pain_low_back": "3", "exercise": "x"})
    assert response.status_code == 303 and response.headers["location"] == "/anmelden"


@pytest.mark.parametrize("path", POSTS)
def test_every_post_needs_the_csrf_token(client: httpx.Client, path: str) -> None:
    new_patient(client)
    good = token(client)
    for data in ({}, {"csrf_token": "x" * 64}, {"csrf_token": good[:-1] + ("0" if good[-1] != "0" else "1")}):
        response = client.post(path, data={**data, "pain_low_back": "3", "email": new_email()})
        assert response.status_code == 403, (path, data)
    assert "Noch keine Einträge." in client.get("/mein-bereich/tagebuch").text


def test_personal_pages_are_never_cached(client: httpx.Client) -> None:
    new_patient(client)
    assert diary_entry(client).status_code == 200
    for path in PERSONAL:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path


def test_patients_see_only_their_own_data(live_server: LiveServer) -> None:
    with own_client(live_server) as a, own_client(live_server) as b:
        new_patient(a, name="Alice")
        assert diary_entry(a, note="Notiz-von-Alice", pain_low_back="7").status_code == 200
        a_excluded = re.findall(r'name="exercise" value="([a-z0-9_]+)"', a.get("/mein-bereich/plan").text)[0]
        ex = a.post(
            "/mein-bereich/plan/ausschliessen",
            data={"csrf_token": token(a), "exercise": a_excluded},
        )
        assert ex.status_code == 303
        new_patient(b, name="Bruno")
        for path in PERSONAL[:3]:
            page = b.get(path)
            assert page.status_code == 200
            assert "Alice" not in page.text and "Notiz-von-Alice" not in page.text, path
        assert "Bruno" in b.get("/mein-bereich").text
        assert "ausgeschlossen" not in b.get("/mein-bereich/plan").text
        assert b.get("/mein-bereich/tagebuch/verlauf.svg").status_code == 404  # B has no diary yet
        assert a.get("/mein-bereich/tagebuch/verlauf.svg").status_code == 200
        assert "Notiz-von-Alice" in a.get("/mein-bereich/tagebuch").text


# ---- the plan -------------------------------------------------------------------------------------
def test_excluding_an_exercise_shows_an_alternative(client: httpx.Client) -> None:
    new_patient(client)
    plan = client.get("/mein-bereich/plan").text
    first = re.findall(r'name="exercise" value="([a-z0-9_]+)"', plan)[0]
    response = client.post(
        "/mein-bereich/plan/ausschliessen", data={"csrf_token": csrf_of(plan), "exercise": first}
    )
    assert response.status_code == 303 and response.headers["location"] == "/mein-bereich/plan#uebungen"
    after = client.get("/mein-bereich/plan").text
    assert (
        f'value="{first}"' not in after.split('aria-labelledby="ausgeschlossen"')[0]
    )  # out of the exercises
    assert f'value="{first}"' in excluded_section(after)
    assert "(von Ihnen ausgeschlossen)" in after or "keine passende andere Übung" in after
    bad = client.post(
        "/mein-bereich/plan/ausschliessen", data={"csrf_token": csrf_of(after), "exercise": "../x"}
    )
    assert bad.status_code == 400


def excluded_section(page: str) -> str:
    match = re.search(r'<section aria-labelledby="ausgeschlossen">.*?</section>', page, re.S)
    return match.group(0) if match else ""


def exclude_first(client: httpx.Client) -> tuple[str, str]:
    """Exclude the plan's first exercise; (its id, the plan page afterwards)."""
    plan = client.get("/mein-bereich/plan").text
    first = re.findall(r'name="exercise" value="([a-z0-9_]+)"', plan)[0]
    data = {"csrf_token": csrf_of(plan), "exercise": first}
    assert client.post("/mein-bereich/plan/ausschliessen", data=data).status_code == 303
    return first, client.get("/mein-bereich/plan").text


def test_an_excluded_exercise_can_be_taken_back_into_the_plan(client: httpx.Client) -> None:
    new_patient(client)
    assert excluded_section(client.get("/mein-bereich/plan").text) == ""
    first, plan = exclude_first(client)
    listed = excluded_section(plan)
    assert 'action="/mein-bereich/plan/einschliessen"' in listed and f'value="{first}"' in listed
    assert "Wieder in den Plan nehmen" in listed
    response = client.post(
        "/mein-bereich/plan/einschliessen", data={"csrf_token": csrf_of(plan), "exercise": first}
    )
    assert response.status_code == 303 and response.headers["location"] == "/mein-bereich/plan#uebungen"
    after = client.get("/mein-bereich/plan").text
    assert excluded_section(after) == ""
    assert f'name="exercise" value="{first}"' in after  # back among the exercises, with its exclude button
    # A second click (the exercise is in the plan again) changes nothing and is no error.
    again = client.post(
        "/mein-bereich/plan/einschliessen", data={"csrf_token": csrf_of(after), "exercise": first}
    )
    assert again.status_code == 303


@pytest.mark.parametrize("exercise", ["../x", "", "gibt_es_nicht", "x" * 5000])
def test_an_unknown_exercise_to_include_gets_a_field_error(client: httpx.Client, exercise: str) -> None:
    new_patient(client)
    first, plan = exclude_first(client)
    response = client.post(
        "/mein-bereich/plan/einschliessen", data={"csrf_token": csrf_of(plan), "exercise": exercise}
    )
    assert response.status_code == 422
    assert "Diese Übung kennen wir nicht" in response.text and 'href="#ausgeschlossen"' in response.text
    assert 'id="ausgeschlossen-error"' in excluded_section(response.text)
    assert f'value="{first}"' in excluded_section(client.get("/mein-bereich/plan").text)  # still excluded


def test_taking_back_an_exercise_touches_only_ones_own_plan(live_server: LiveServer) -> None:
    with own_client(live_server) as a, own_client(live_server) as b:
        new_patient(a)
        first, _ = exclude_first(a)
        new_patient(b)
        response = b.post(
            "/mein-bereich/plan/einschliessen", data={"csrf_token": token(b), "exercise": first}
        )
        assert response.status_code == 303
        assert f'value="{first}"' in excluded_section(a.get("/mein-bereich/plan").text)


def test_the_excluded_list_in_english(client: httpx.Client) -> None:
    new_patient(client)
    exclude_first(client)
    page = client.get("/mein-bereich/plan", params={"lang": "en"}).text
    assert "Exercises you left out" in page and "Put back into the plan" in page


# ---- the diary ------------------------------------------------------------------------------------
def test_a_diary_entry_is_shown_with_its_chart(client: httpx.Client) -> None:
    new_patient(client)
    response = diary_entry(client, pain_low_back="6", activity_minutes="35", note="Heute ging es")
    assert response.status_code == 200 and "Ihr Eintrag ist gespeichert." in response.text
    page = client.get("/mein-bereich/tagebuch")
    assert "Heute ging es" in days_shown(page) and "Bewegung 35 Minuten" in days_shown(page)
    assert '<img class="chart" src="/mein-bereich/tagebuch/verlauf.svg"' in page.text
    assert "<svg" not in page.text  # never inlined
    chart = client.get("/mein-bereich/tagebuch/verlauf.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.headers["cache-control"] == "no-store"
    assert "<svg" in chart.text and "<script" not in chart.text.lower()


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"pain_low_back": "11"}, "pain-low_back"),
        ({"pain_low_back": "viel"}, "pain-low_back"),
        ({"pain_low_back": ""}, "pain-low_back"),
        ({"activity_minutes": "-5"}, "activity_minutes"),
        ({"activity_minutes": "5000"}, "activity_minutes"),
        ({"note": "x" * 2001}, "note"),
        ({"warning_signs": ["not_a_sign"]}, "warning_signs"),
        ({"pain_reach": "to_the_moon"}, "pain_reach"),
    ],
)
def test_bad_diary_input_gets_a_field_error_and_writes_nothing(
    client: httpx.Client, fields: dict[str, str | list[str]], field_id: str
) -> None:
    new_patient(client)
    response = diary_entry(client, **fields)
    assert response.status_code == 422
    assert f'href="#{field_id}"' in response.text and f'id="{field_id}-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Noch keine Einträge." in client.get("/mein-bereich/tagebuch").text


def test_a_huge_note_is_refused_and_nothing_written(client: httpx.Client) -> None:
    new_patient(client)
    response = diary_entry(client, note="x" * 1_000_000)
    assert response.status_code == 413
    assert "Noch keine Einträge." in client.get("/mein-bereich/tagebuch").text


def test_saddle_numbness_in_the_diary_shows_112(client: httpx.Client) -> None:
    new_patient(client)
    response = diary_entry(client, warning_signs=["saddle_numbness"])
    assert response.status_code == 200
    banner = response.text.split('class="emergency"', 1)
    assert len(banner) == 2 and 'href="tel:112"' in banner[1]
    assert response.text.index('class="emergency"') < response.text.index('id="main"')
    assert "Ihr Eintrag ändert unseren Rat" in response.text
    home = client.get("/mein-bereich")
    assert 'class="emergency"' in home.text and "Tagebuch-Eintrag" in home.text
    plan = client.get("/mein-bereich/plan").text
    assert "keine Übungen" in plan and 'name="exercise"' not in plan


def test_no_health_data_in_the_server_log(client: httpx.Client, live_server: LiveServer) -> None:
    new_patient(client, name="Loggerin")
    diary_entry(client, note="Log-geheim-123", pain_low_back="9")
    log = live_server.log_text()
    assert "Log-geheim-123" not in log and "Loggerin" not in log and "@example.org" not in log
    assert html.escape("Log-geheim-123") in client.get("/mein-bereich/tagebuch").text


def test_the_personal_pages_in_english(client: httpx.Client) -> None:
    new_patient(client, name="Sam")
    assert diary_entry(client, note="fine").status_code == 200
    expected = {
        "/mein-bereich": "My area",
        "/mein-bereich/plan": "Your exercises",
        "/mein-bereich/tagebuch": "My diary",
    }
    for path, heading in expected.items():
        response = client.get(path, params={"lang": "en"})
        assert response.status_code == 200 and heading in response.text, path
        assert '<html lang="en">' in response.text
    assert client.get("/mein-bereich/tagebuch/verlauf.svg", params={"lang": "en"}).status_code == 200


def test_a_signed_in_patient_is_not_registered_again(client: httpx.Client) -> None:
    new_patient(client)
    assert client.get("/registrieren").headers["location"] == "/mein-bereich"
    response = register(client, new_email())
    assert response.status_code == 303 and "session" not in response.cookies


def test_registering_on_a_clinicians_browser_ends_the_clinicians_session(live_server: LiveServer) -> None:
    with open_store(live_server) as store:
        clinician = new_clinician(store)
    with own_client(live_server) as client:
        sign_in(client, clinician)
        old = client.cookies.get("session")
        assert client.get("/praxis").status_code == 200
        response = register(client, new_email())
        assert response.status_code == 303 and response.headers["location"] == "/mein-bereich"
    with own_client(live_server) as replay:
        replay.cookies.set("session", old or "")
        assert replay.get("/praxis").headers["location"] == "/anmelden"
