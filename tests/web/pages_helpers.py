"""Reading the web pages in tests: the intake form, its hidden fields and options, without a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from rueckenlotse.questionnaire import Question, load_questionnaire

# Answers of a plain, recent low-back pain without warning signs; every other question: "no" / nothing.
SELF_CARE_PLAN: dict[str, list[str] | str] = {
    "regions": ["3"],  # low back
    "age": "35",
    "sex": ["1"],
    "duration_weeks": "1",
    "pain_intensity": "4",
    "trauma": ["1"],
    "leg_pain": ["1"],
    "weakness": ["1"],
    "physiotherapy_weeks": "0",
    "home_exercise": ["2"],
}


@dataclass
class Form:
    action: str = ""
    method: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    options: list[dict[str, str]] = field(default_factory=list)  # radio / checkbox inputs
    buttons: list[dict[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.form: Form | None = None
        self.inside = False
        self.links: list[str] = []
        self.actions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "form":
            self.actions.append(a.get("action", ""))
            if a.get("id") == self.form_id:
                self.form, self.inside = Form(a.get("action", ""), a.get("method", "")), True
        if not self.inside or self.form is None:
            return
        if tag == "input" and a.get("type") == "hidden":
            self.form.hidden[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") in ("radio", "checkbox"):
            self.form.options.append(a)
        elif tag == "button":
            self.form.buttons.append(a)
            if "formaction" in a:
                self.actions.append(a["formaction"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def parse_page(html: str, form_id: str = "step") -> tuple[Form | None, list[str], list[str]]:
    """(the form with this id, every link href, every form action) of a page."""
    parser = _FormParser(form_id)
    parser.feed(html)
    return parser.form, parser.links, parser.actions


def step_form(response: httpx.Response) -> Form:
    form, _, _ = parse_page(response.text)
    assert form is not None, response.text[:2000]
    return form


def current_question(response: httpx.Response) -> Question | None:
    form, _, _ = parse_page(response.text)
    if form is None or not form.hidden.get("question") or form.hidden.get("view") != "question":
        return None
    return load_questionnaire().get(form.hidden["question"])


def post_step(
    client: httpx.Client, response: httpx.Response, answer: list[str] | str | None, action: str = "next"
) -> httpx.Response:
    """Submit the step form of ``response`` as a browser would, with this answer."""
    form = step_form(response)
    data: dict[str, Any] = {**form.hidden, "action": action}
    data["answer"] = [answer] if isinstance(answer, str) else (answer or [])
    # Every step answers 303 to /intake/schritt/<n> (post/redirect/get): the page is that GET.
    return client.post(form.action, data=data, follow_redirects=True)


def answer_all(
    client: httpx.Client, response: httpx.Response, plan: dict[str, list[str] | str], limit: int = 80
) -> tuple[httpx.Response, list[str]]:
    """Answer question after question from the plan (default: no / nothing) until no question is shown."""
    asked: list[str] = []
    for _ in range(limit):
        question = current_question(response)
        if question is None:
            return response, asked
        asked.append(question.id)
        answer = plan.get(question.id, "no" if question.kind == "bool" else [])
        response = post_step(client, response, answer)
        assert response.status_code == 200, (question.id, response.text[:3000])
    raise AssertionError(f"the flow did not end after {limit} steps: {asked}")


def start(client: httpx.Client) -> httpx.Response:
    response = client.get("/intake")
    assert response.status_code == 200
    return response


def text_of(html: str) -> str:
    """The visible text, roughly: tags removed, whitespace collapsed."""
    without = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without)).strip()
