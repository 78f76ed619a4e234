"""The pages over HTTP against the running server: headers, cookies, CSRF, signed state, errors, leaks."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import LiveServer
from .pages_helpers import (
    SELF_CARE_PLAN,
    answer_all,
    current_question,
    parse_page,
    post_step,
    start,
    step_form,
    text_of,
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; worker-src 'self'; manifest-src 'self'"
)
STEP_PATH = re.compile(r"^/intake/schritt/[0-9]+$")
TRACEBACK_MARKERS = ("Traceback", 'File "', "Error:", "line ", ".py")


def assert_security_headers(response: httpx.Response, *, personal: bool = True) -> None:
    h = response.headers
    assert h["content-security-policy"] == CSP
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    if personal:
        assert h["cache-control"] == "no-store"


def assert_generic(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    for marker in TRACEBACK_MARKERS:
        assert marker not in response.text, marker


# ---- headers and cookies -------------------------------------------------------------------------
@pytest.mark.safety("SR-WEB-2")
def test_every_page_has_the_security_headers(client: httpx.Client) -> None:
    first = start(client)
    pages = [client.get("/"), first, post_step(client, first, ["3"]), client.get("/nowhere")]
    pages.append(client.post("/intake", data={"state": "x"}))  # refused: still with headers
    for response in pages:
        assert_security_headers(response)
    static = client.get("/static/app.css")
    assert static.status_code == 200
    assert_security_headers(static, personal=False)
    assert "no-store" not in static.headers["cache-control"]


@pytest.mark.safety("SR-WEB-1")
def test_csrf_cookie_is_http_only_and_same_site(client: httpx.Client) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("csrf=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on localhost; over HTTPS it is __Host-csrf with Secure


@pytest.mark.safety("SR-WEB-2")
def test_pages_load_nothing_from_elsewhere(client: httpx.Client) -> None:
    for path in ("/", "/intake"):
        html = client.get(path).text
        for url in re.findall(r'(?:src|href|action)="([^"]*)"', html):
            assert url.startswith(("/", "#", "tel:")), url
        assert "<script>" not in html and "style=" not in html  # the CSP allows neither


# ---- CSRF ----------------------------------------------------------------------------------------
@pytest.mark.safety("SR-WEB-1")
def test_post_without_token_is_refused_with_403(client: httpx.Client) -> None:
    form = step_form(start(client))
    data = {k: v for k, v in form.hidden.items() if k != "csrf_token"} | {"answer": "3"}
    response = client.post("/intake", data=data)
    assert response.status_code == 403
    assert "Das Formular ist abgelaufen" in response.text
    assert_generic(response)


@pytest.mark.safety("SR-WEB-1")
def test_post_with_a_wrong_token_or_without_cookie_is_refused(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as first, httpx.Client(base_url=live_server.url) as other:
        form = step_form(start(first))
        start(other)  # another browser: its own cookie
        data = form.hidden | {"answer": "3"}
        assert other.post("/intake", data=data).status_code == 403
        first.cookies.clear()
        assert first.post("/intake", data=data).status_code == 403
        forged = data | {"csrf_token": "0" * 64}
        assert other.post("/intake", data=forged).status_code == 403


def test_post_with_token_is_accepted(client: httpx.Client) -> None:
    response = post_step(client, start(client), ["3"])
    assert response.status_code == 200
    assert current_question(response) is not None
    assert current_question(response).id == "emergency_signs"  # type: ignore[union-attr]


def test_403_page_speaks_the_users_language(client: httpx.Client) -> None:
    client.cookies.set("lang", "en")
    response = client.post("/intake", data={"answer": "3"})
    assert response.status_code == 403
    assert "The form has expired" in response.text and '<html lang="en">' in response.text


# ---- the signed state ----------------------------------------------------------------------------
def test_tampered_state_gives_a_friendly_error(client: httpx.Client) -> None:
    form = step_form(post_step(client, start(client), ["3"]))
    payload, _, signature = form.hidden["state"].rpartition(".")
    for state in (payload + "." + signature[::-1], payload[:-2] + "." + signature, "", "a" * 40_000):
        response = client.post(
            "/intake", data=form.hidden | {"state": state, "answer": "1"}, follow_redirects=True
        )
        assert response.status_code == 400, state[:20]
        assert "Ihre Antworten ließen sich nicht lesen" in response.text
        assert_generic(response)


def test_unknown_question_or_view_is_refused(client: httpx.Client) -> None:
    form = step_form(start(client))
    for patch in ({"question": "no_such_question"}, {"question": "age"}, {"view": "admin"}):
        response = client.post("/intake", data=form.hidden | patch | {"answer": "1"}, follow_redirects=True)
        assert response.status_code == 400, patch


# ---- no health data in URLs or logs --------------------------------------------------------------
@pytest.mark.safety("SR-WEB-4")
def test_the_flow_never_puts_answers_in_a_url_or_the_log(
    client: httpx.Client, live_server: LiveServer
) -> None:
    requests: list[httpx.Request] = []
    client.event_hooks["request"] = [requests.append]
    result, asked = answer_all(client, start(client), SELF_CARE_PLAN)
    assert "Selbst gut für sich sorgen" in result.text
    assert len(asked) > 15
    for request in requests:
        assert request.url.query == b"", request.url
        assert request.url.path in ("/intake", "/result") or STEP_PATH.match(request.url.path), request.url
    _, links, actions = parse_page(result.text)
    for target in links + actions:
        assert "?" not in target or target.startswith("/static/"), target
    log = live_server.log_text()
    assert "POST /intake 303" in log and "GET /intake/schritt/" in log
    for secret in ("low_back", "saddle", "duration", "state=", "answer", "csrf"):
        assert secret not in log, secret


# ---- errors --------------------------------------------------------------------------------------
def test_unknown_page_is_a_generic_404(client: httpx.Client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Diese Seite gibt es nicht" in response.text
    assert_generic(response)


def test_wrong_method_is_a_generic_405(client: httpx.Client) -> None:
    response = client.get("/result")
    assert response.status_code == 405
    assert "Das geht hier nicht" in response.text
    assert_generic(response)


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"answer": 1}', "application/json", 400),
        (b"answer=%FF%FE", "application/x-www-form-urlencoded", 400),
        (b"a=1&" * 500, "application/x-www-form-urlencoded", 400),
        (b"answer=" + b"1" * 70_000, "application/x-www-form-urlencoded", 413),
    ],
)
def test_malformed_posts_never_give_a_500(
    client: httpx.Client, content: bytes, content_type: str, status: int
) -> None:
    start(client)
    response = client.post("/intake", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert_generic(response)


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("question", "answers"),
    [
        ("regions", [[], ["0"], ["4"], ["1", "1"], ["x"], ["9" * 50]]),
        ("age", ["", "abc", "-1", "121", "1e3", "3" * 500, ["1", "2"]]),
        ("sex", [[], ["9"], ["1", "2"], ["a"]]),
        ("duration_weeks", ["", "drei", "-2", "3 parsecs", "nan", "inf"]),
        ("recurrent", ["", "vielleicht", ["yes", "no"]]),
    ],
)
def test_bad_answers_are_shown_at_their_field(
    client: httpx.Client, question: str, answers: list[list[str] | str]
) -> None:
    response = _reach(client, question)
    for bad in answers:
        page = post_step(client, response, bad)
        assert page.status_code == 422, (question, bad)
        assert current_question(page).id == question  # type: ignore[union-attr]
        html = page.text
        assert 'class="error-summary"' in html and 'id="answer-error"' in html
        target = re.search(r'<div class="error-summary".*?href="#([^"]+)"', html, re.S)
        assert target is not None and f'id="{target.group(1)}"' in html
        assert 'aria-invalid="true"' in html and "answer-error" in re.search(
            r'aria-describedby="([^"]*answer-error[^"]*)"', html
        ).group(1)  # type: ignore[union-attr]


def _reach(client: httpx.Client, question_id: str) -> httpx.Response:
    plan = SELF_CARE_PLAN | {"sex": ["2"]}
    response = start(client)
    while (question := current_question(response)) is not None and question.id != question_id:
        response = post_step(client, response, plan.get(question.id, "no" if question.kind == "bool" else []))
    assert question is not None
    return response


# ---- back and forth ------------------------------------------------------------------------------
def test_back_and_forward_keep_the_answers(client: httpx.Client) -> None:
    regions = post_step(client, start(client), ["1", "3"])
    signs = post_step(client, regions, [])
    age = post_step(client, signs, [])
    age_typed = post_step(client, age, "52", action="back")  # typed, then back: the 52 is kept
    assert current_question(age_typed).id == "fever_and_aorta"  # type: ignore[union-attr]
    back = post_step(client, age_typed, [], action="back")
    back = post_step(client, back, [], action="back")
    assert current_question(back).id == "regions"  # type: ignore[union-attr]
    checked = [o["value"] for o in step_form(back).options if "checked" in o]
    assert checked == ["1", "3"]
    forward = post_step(client, back, checked)
    forward = post_step(client, forward, [])
    forward = post_step(client, forward, [])
    assert current_question(forward).id == "age"  # type: ignore[union-attr]
    assert 'value="52"' in forward.text


def test_back_from_the_first_question_stays_there(client: httpx.Client) -> None:
    response = post_step(client, start(client), [], action="back")
    assert response.status_code == 200
    assert current_question(response).id == "regions"  # type: ignore[union-attr]


# ---- emergency and result ------------------------------------------------------------------------
@pytest.mark.safety("SR-RF-1", "SR-TRI-2")
def test_saddle_numbness_stops_at_once_with_112_first(client: httpx.Client) -> None:
    signs = post_step(client, start(client), ["3"])
    emergency = post_step(client, signs, ["1"])  # saddle numbness
    html = emergency.text
    assert emergency.status_code == 200
    banner = html.index('role="alert"')
    assert banner < html.index("<header") and banner < html.index("<main")
    assert ">112<" in html and 'href="tel:112"' in html
    form = step_form(emergency)
    assert form.hidden["view"] == "emergency" and form.hidden["question"] == "fever_and_aorta"
    go_on = post_step(client, emergency, None, action="continue")
    assert current_question(go_on).id == "fever_and_aorta"  # type: ignore[union-attr]
    # The same warning sign is not shown again on the next answer.
    assert current_question(post_step(client, go_on, [])).id == "age"  # type: ignore[union-attr]


def test_changing_the_answer_after_the_emergency_page(client: httpx.Client) -> None:
    emergency = post_step(client, post_step(client, start(client), ["3"]), ["1"])
    change = post_step(client, emergency, None, action="back")
    assert current_question(change).id == "emergency_signs"  # type: ignore[union-attr]
    assert [o["value"] for o in step_form(change).options if "checked" in o] == ["1"]
    cleared = post_step(client, change, [])
    assert current_question(cleared).id == "fever_and_aorta"  # type: ignore[union-attr]


def test_summary_from_the_emergency_page_is_an_emergency_result(client: httpx.Client) -> None:
    emergency = post_step(client, post_step(client, start(client), ["3"]), ["1"])
    form = step_form(emergency)
    result = client.post("/result", data=form.hidden, follow_redirects=True)
    assert result.status_code == 200
    html = result.text
    assert html.index('role="alert"') < html.index("<main")
    assert "Sie haben nicht alle Fragen beantwortet" in html  # age and duration were only estimated
    assert "Cauda-equina" in html or "cauda" in html.lower()


def test_result_sections_in_order(client: httpx.Client) -> None:
    result, _ = answer_all(client, start(client), SELF_CARE_PLAN)
    html = result.text
    sections = ["triage", "reasons", "advice", "imaging", "classification", "disclaimer", "sources"]
    positions = [html.index(f'id="{name}-title"') for name in sections]
    assert positions == sorted(positions)
    assert html.index("Selbst gut für sich sorgen", html.index("<main")) < positions[1]
    assert 'role="alert"' not in html
    assert "Nationale VersorgungsLeitlinie" in html and 'href="#source-1"' in html


# ---- language ------------------------------------------------------------------------------------
@pytest.mark.safety("SR-LANG-1")
def test_lang_query_and_switch(client: httpx.Client) -> None:
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/intake").text  # the cookie keeps it
    token = step_form(client.get("/intake")).hidden["csrf_token"]
    back = client.post("/lang", data={"csrf_token": token, "lang": "de", "next": "https://evil.example/"})
    assert back.status_code == 303 and back.headers["location"] == "/"
    assert '<html lang="de">' in client.get("/").text
    # A page of this site is returned to, anything else (other sites, unknown paths, tricks) is not.
    for target, expected in [
        ("/mein-bereich/tagebuch", "/mein-bereich/tagebuch"),
        ("/praxis/eingang/abc123", "/praxis/eingang/abc123"),
        ("//evil.example/", "/"),
        ("/praxis/eingang/../../etc", "/"),
        ("/unbekannt", "/"),
    ]:
        moved = client.post("/lang", data={"csrf_token": token, "lang": "en", "next": target})
        assert moved.status_code == 303 and moved.headers["location"] == expected, target


@pytest.mark.safety("SR-LANG-1")
def test_switching_language_mid_intake_keeps_the_answers(client: httpx.Client) -> None:
    signs = post_step(client, start(client), ["2"])
    form = step_form(signs)
    english = client.post("/intake", data=form.hidden | {"lang": "en"}, follow_redirects=True)
    assert english.status_code == 200
    assert "Do you have any of these signs?" in english.text
    back = post_step(client, english, [], action="back")
    assert [o["value"] for o in step_form(back).options if "checked" in o] == ["2"]
    assert "Where do you have pain?" in back.text


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


# ---- contract 2: "nicht sicher", pregnancy, legs and arms --------------------------------------------
@pytest.mark.safety("SR-Q-1", "SR-RF-1")
def test_not_sure_about_saddle_numbness_stops_with_112_and_says_why(client: httpx.Client) -> None:
    signs = post_step(client, start(client), ["3"])
    form = step_form(signs)
    unsure_boxes = [o for o in form.options if o["value"].endswith("?")]
    assert len(unsure_boxes) == 8 and unsure_boxes[0]["id"] == "answer-1-unsure"
    assert 'Nicht sicher<span class="visually-hidden">: Neu: Taubes Gefühl' in signs.text
    emergency = post_step(client, signs, ["1?"])
    assert emergency.status_code == 200 and ">112<" in emergency.text
    page = text_of(emergency.text)
    assert "Hier waren Sie sich nicht sicher" in page and "Zur Sicherheit gehen wir davon aus" in page
    result = client.post("/result", data=step_form(emergency).hidden, follow_redirects=True)
    html = result.text
    reasons = html[html.index('id="reasons-title"') : html.index('id="advice-title"')]
    assert "waren Sie sich nicht sicher" in text_of(reasons) and "Abwischen" in text_of(reasons)
    # back again: the unsure box is still ticked, the sign's own box is not
    change = post_step(client, emergency, None, action="back")
    assert [o["value"] for o in step_form(change).options if "checked" in o] == ["1?"]


@pytest.mark.safety("SR-Q-1")
def test_yes_and_not_sure_for_one_sign_is_asked_again(client: httpx.Client) -> None:
    signs = post_step(client, start(client), ["3"])
    page = post_step(client, signs, ["2", "2?"])
    assert page.status_code == 422 and "nur eins" in page.text
    assert current_question(page).id == "emergency_signs"  # type: ignore[union-attr]
    # what was sent is shown again, each box with its own attributes
    shown = {o["value"]: o for o in step_form(page).options}
    assert "checked" in shown["2"] and "checked" in shown["2?"] and "checked" not in shown["1"]
    assert shown["2?"]["aria-invalid"] == "true"


@pytest.mark.safety("SR-Q-1")
def test_not_sure_on_a_yes_no_question_counts_as_yes(client: httpx.Client) -> None:
    response = _reach(client, "neuro_bilateral_legs")
    assert [o["value"] for o in step_form(response).options] == ["yes", "no", "unsure"]
    result, _ = answer_all(client, post_step(client, response, "unsure"), SELF_CARE_PLAN)
    main = text_of(result.text[result.text.index("<main") :])
    assert "Bei „Beschwerden in beiden Beinen“ waren Sie sich nicht sicher." in main
    assert "Selbst gut für sich sorgen" not in main  # both legs: at least a doctor today


@pytest.mark.safety("SR-Q-2")
def test_pregnancy_is_asked_of_a_woman_but_not_of_a_man(client: httpx.Client) -> None:
    _, asked_male = answer_all(client, start(client), SELF_CARE_PLAN | {"sex": ["2"]})
    assert not {"pregnant", "pregnancy_week", "gave_birth_recently"} & set(asked_male)
    plan = SELF_CARE_PLAN | {"sex": ["1"], "age": "30", "pregnant": "yes", "pregnancy_week": "24"}
    result, asked = answer_all(client, start(client), plan)
    assert {"pregnant", "pregnancy_week", "pregnancy_warning_signs"} <= set(asked)
    assert "gave_birth_recently" not in asked and ">112<" not in result.text


@pytest.mark.safety("SR-Q-2")
def test_legs_and_arms_are_asked_for_neck_pain_alone(client: httpx.Client) -> None:
    _, asked = answer_all(client, start(client), SELF_CARE_PLAN | {"regions": ["1"], "duration_weeks": "3"})
    for qid in ("leg_pain", "arm_pain", "neuro_bilateral_legs", "neuro_bilateral_arms", "hand_clumsiness"):
        assert qid in asked, qid
    assert "offer_startback" not in asked  # STarT Back is for low back pain
