"""The terminal interview end to end: in a pseudo-terminal (pexpect) and with piped input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pexpect
import pytest

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge import default_knowledge
from rueckenlotse.questionnaire import Question, answers_to_case, next_question, parse_answer, record_answer

BIN = Path(sys.executable).parent
PROMPT = r"(?:Ihre Antwort|Your answer) \([^\n]*?\): "
BANNER = r"NOTRUF 112|EMERGENCY – CALL 112"
CONTINUE = r"\((?:j|y)/N\): "
SAVE = r"\(leer = nicht speichern\): |\(empty = do not save\): "


@cache
def command() -> list[str]:
    """`rueckenlotse interview` from the installed console script, else from the CLI's entry point."""
    cli = BIN / "rueckenlotse"
    if cli.exists():
        probe = subprocess.run([str(cli), "interview", "--help"], capture_output=True, text=True, timeout=60)
        if probe.returncode == 0:
            return [str(cli), "interview"]
    return [sys.executable, "-c", "from rueckenlotse.cli import main; main()", "interview"]


def spawn(*args: str) -> pexpect.spawn:
    cmd = [*command(), *args]
    return pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=30, dimensions=(60, 200))


def plain_acute(q: Question) -> str:
    """Low back, 35 years, 1 week, no warning signs, everything else no / none."""
    by_field = {"regions": "3", "age": "35", "duration_weeks": "1", "pain_intensity": "4", "sex": "2"}
    if q.field in by_field:
        return by_field[q.field]
    return {"bool": "n", "choice": "1", "multi_flags": "0", "multi_choice": "0", "number": "0"}[q.kind]


def scripted(policy: Callable[[Question], str]) -> list[tuple[str, str]]:
    """(question id, typed answer) in order, as the policy answers while walking the flow."""
    answers: dict[str, object] = {}
    steps: list[tuple[str, str]] = []
    while (q := next_question(answers)) is not None:
        steps.append((q.id, policy(q)))
        answers = record_answer(answers, q, parse_answer(q, steps[-1][1]))
    return steps


def script(policy: Callable[[Question], str]) -> list[str]:
    return [line for _, line in scripted(policy)]


def answer_all(child: pexpect.spawn, lines: list[str]) -> None:
    for line in lines:
        child.expect(PROMPT)
        child.sendline(line)


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""
    assert "Traceback" not in output
    return output


@pytest.mark.safety("SR-RF-1")
def test_saddle_numbness_shows_112_within_three_prompts() -> None:
    child = spawn()
    child.expect(PROMPT)
    child.sendline("3")  # low back
    child.expect(PROMPT)
    assert "Taubes Gefühl am After" in (child.before or "")
    child.sendline("1")  # saddle numbness
    for _ in range(3):
        if child.expect([BANNER, PROMPT]) == 0:
            break
        child.sendline("0")
    else:
        pytest.fail("no 112 banner within 3 prompts")
    child.expect(CONTINUE)
    child.sendline("")  # default: no more questions, show the result
    child.expect(r"Stufe: (\w+)")
    assert child.match.group(1) == "Notfall"
    finish(child)
    assert child.exitstatus == 0


def test_plain_acute_case_reaches_self_care() -> None:
    child = spawn()
    answer_all(child, script(plain_acute))
    child.expect(r"Stufe: (\w+)")
    assert child.match.group(1) == "Selbsthilfe"
    child.expect(SAVE)
    child.sendline("")
    finish(child)
    assert child.exitstatus == 0


def test_save_writes_a_valid_case(tmp_path: Path) -> None:
    target = tmp_path / "fall.json"
    child = spawn("--save", str(target))
    answer_all(child, script(plain_acute))
    child.expect("Stufe: Selbsthilfe")
    output = finish(child)
    # Rich wraps long paths at the terminal width and colours each piece: compare the bare text.
    bare = "".join(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output).split())
    assert child.exitstatus == 0 and "fall.json" in bare
    data = json.loads(target.read_text(encoding="utf-8"))
    case = Case.model_validate(data, strict=True)
    assert case.age == 35 and case.regions == ["low_back"] and case.duration_weeks == 1
    assert assess(data).triage == "self_care"


@pytest.mark.safety("SR-IN-1")
def test_invalid_answers_are_explained_and_asked_again() -> None:
    child = spawn()
    answer_all(child, ["3", "0", "0"])
    child.expect(PROMPT)
    child.sendline("alt")
    child.expect("ganze Zahl von 0 bis 120")
    child.expect(PROMPT)
    child.sendline("130")
    child.expect("ganze Zahl von 0 bis 120")
    child.expect(PROMPT)
    child.sendline("35")
    child.expect("Welches Geschlecht")
    child.sendintr()
    finish(child)


def test_ctrl_c_stops_cleanly() -> None:
    child = spawn()
    answer_all(child, ["3"])
    child.expect(PROMPT)
    child.sendintr()
    child.expect("Abgebrochen")
    finish(child)
    assert child.exitstatus == 130


def test_end_of_input_stops_cleanly() -> None:
    child = spawn()
    child.expect(PROMPT)
    child.sendeof()
    child.expect("Eingabe ist zu Ende")
    finish(child)
    assert child.exitstatus == 1


def run_piped(lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120
    )


def test_piped_input_works_without_a_terminal(tmp_path: Path) -> None:
    lines = script(plain_acute)
    # go back once from the second warning-sign prompt and answer again
    lines = [*lines[:2], "<", lines[1], *lines[2:]]
    result = run_piped(lines)
    assert result.returncode == 0, result.stderr
    assert "Stufe: Selbsthilfe" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_piped_input_in_english() -> None:
    result = run_piped(script(plain_acute), "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Level: Self-care" in result.stdout and "Where do you have pain?" in result.stdout


def neck_injury(checked: str) -> Callable[[Question], str]:
    """Neck pain at 70 after a minor fall 3 days ago (Canadian C-spine high risk), injury checked or not."""

    def policy(q: Question) -> str:
        by_field = {"regions": "1", "age": "70", "duration_weeks": "3 Tage", "trauma": "3"}  # minor fall
        return (
            checked
            if q.field == "injury_checked_by_doctor"
            else by_field.get(q.field or "") or plain_acute(q)
        )

    return policy


@pytest.mark.safety("SR-RF-2")
def test_injury_warning_waits_for_the_doctor_question() -> None:
    steps = scripted(neck_injury("n"))
    upto = [qid for qid, _ in steps].index("injury_checked_by_doctor")
    result = run_piped([*(line for _, line in steps[: upto + 1]), ""])
    assert result.returncode == 0, result.stderr
    before_doctor = result.stdout.split("Arzt oder eine Ärztin")[0]
    assert "NOTRUF 112" not in before_doctor
    assert "NOTRUF 112" in result.stdout and "Stufe: Notfall" in result.stdout
    checked = run_piped(script(neck_injury("j")))
    assert checked.returncode == 0, checked.stderr
    assert "NOTRUF 112" not in checked.stdout and "Stufe: Notfall" not in checked.stdout


@pytest.mark.safety("SR-IN-1")
def test_piped_input_that_ends_early_exits_cleanly() -> None:
    result = run_piped(["3", "0"])
    assert result.returncode == 1
    assert "Eingabe ist zu Ende" in result.stdout and "Traceback" not in result.stderr


def unsure_about(field: str, typed: str) -> Callable[[Question], str]:
    """Plain acute low-back pain, but "not sure" (as typed) about one warning sign."""
    return lambda q: typed if q.field == field else plain_acute(q)


def triage_if_yes(field: str) -> str:
    """The engine's triage for the same walk with this sign answered yes."""
    answers: dict[str, object] = {}
    while (q := next_question(answers)) is not None:
        answers = record_answer(answers, q, True if q.field == field else parse_answer(q, plain_acute(q)))
    return assess(answers_to_case(answers)).triage.value


@pytest.mark.safety("SR-Q-1")
def test_not_sure_about_a_warning_sign_counts_as_present_and_says_so() -> None:
    child = spawn()
    for qid, line in scripted(unsure_about("neuro_bilateral_legs", "nicht sicher")):
        if child.expect([BANNER, PROMPT]) == 0:  # an emergency banner may come: go on answering
            child.expect(CONTINUE)
            child.sendline("j")
            child.expect(PROMPT)
        if qid == "neuro_bilateral_legs":
            assert "? = nicht sicher" in child.after  # the prompt offers it
        child.sendline(line)
    child.expect(r"Stufe: ([^\r\n\x1b]+)")
    level = child.match.group(1).strip()
    expected = triage_if_yes("neuro_bilateral_legs")
    assert expected in ("urgent", "emergency")  # both legs alone: at least urgent
    assert level == default_knowledge().text(f"triage.{expected}.label", "de")
    child.expect(SAVE)
    output = re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", child.before or ""))
    child.sendline("")
    finish(child)
    assert "Nicht sicher: Bei „Beschwerden in beiden Beinen“ waren Sie sich nicht sicher." in output
    assert "Zur Sicherheit gehen wir davon aus, dass es zutrifft." in output


@pytest.mark.safety("SR-Q-1", "SR-RF-1")
def test_not_sure_about_saddle_numbness_shows_112_at_once() -> None:
    result = run_piped(["3", "1?", ""])  # low back; not sure about saddle numbness; no more questions
    assert result.returncode == 0, result.stderr
    assert "NOTRUF 112" in result.stdout and "Stufe: Notfall" in result.stdout
    flat = " ".join(result.stdout.split())
    assert "waren Sie sich nicht sicher" in flat and "Abwischen" in flat
