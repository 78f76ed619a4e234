"""The terminal interview: question by question, with an emergency check after every answer.

The loop behind ``rueckenlotse interview [--lang de|en] [--save FILE]`` (the command is in ``interview``).
Works with a terminal and with piped input (one answer per line).
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .. import InvalidCase, assess
from ..core.models import Assessment, Triage
from ..i18n import BUILTIN_LANGUAGES, languages
from ..knowledge.loader import default_knowledge
from ..private_files import UnsafeTarget, write_private
from ..questionnaire import (
    AnswerError,
    Question,
    active_questions,
    answers_to_case,
    input_hint,
    is_answered,
    missing_required,
    next_question,
    parse_answer,
    previous_question,
    provisional_case,
    record_answer,
    unsure_label,
    unsure_notes,
    without_answer,
)
from ..questionnaire.parse import NO, YES
from ..reports.text import print_report
from .common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    cli_text,
    cli_text_unformatted,
    has_cli_text,
    storage_message,
)

BACK = frozenset({"<", "zurück", "zurueck", "back"})

# Texts of the interview: cli/texts.yaml, keys interview_loop.*.


class _Interview:
    """One run of the interview; all state lives here."""

    def __init__(self, console: Console, lang: str, save: pathlib.Path | None) -> None:
        self.console = console
        self.lang = lang
        self.save = save
        self.answers: dict[str, Any] = {}
        self.warned: frozenset[str] = frozenset()  # emergency red flags already shown in a banner

    def t(self, key: str, **values: object) -> str:
        if values:
            return cli_text(f"interview_loop.{key}", self.lang, **values)
        return cli_text_unformatted(f"interview_loop.{key}", self.lang)

    def field_names(self, fields: list[str]) -> str:
        known = [(f, has_cli_text(f"interview_loop.field.{f}")) for f in fields]
        return ", ".join(self.t(f"field.{f}") if has else f for f, has in known)

    def read(self, prompt: str) -> str:
        line = self.console.input(Text(prompt, style="bold"))
        if not sys.stdin.isatty():  # piped input is not echoed: show it, so the transcript reads well
            self.console.print(Text(line, style="dim"))
        return line

    # ---- the run ---------------------------------------------------------------------------------
    def run(self) -> int:
        kb = default_knowledge()
        self.console.print(Text(kb.text("ui.title", self.lang), style="bold"))
        self.console.print(Text(self.t("intro"), style="dim"))
        while (question := next_question(self.answers)) is not None:
            if self.ask(question) and not self.check_deferred(question) and self.emergency_stop():
                break
        assessment = self.final_assessment()
        if assessment is None:
            return EXIT_ERROR
        self.show_result(assessment)
        return self.offer_save()

    def ask(self, question: Question) -> bool:
        """Ask one question until the answer is valid; False when the user went back instead."""
        self.show_question(question)
        prompt = self.t("prompt", hint=input_hint(question, self.lang))
        while True:
            raw = self.read(prompt)
            if raw.strip().lower() in BACK:
                return self.go_back(question)
            try:
                value = parse_answer(question, raw, self.lang)
            except AnswerError as e:
                self.console.print(Text(str(e), style="bold red"))
                continue
            self.answers = record_answer(self.answers, question, value)
            return True

    def check_deferred(self, question: Question) -> bool:
        """True when the emergency check waits for the follow-up question (see defer_check)."""
        return question.defer_check and next_question(self.answers) is not None

    def go_back(self, current: Question) -> bool:
        previous = previous_question(self.answers, current.id)
        if previous is None:
            self.console.print(Text(self.t("first"), style="yellow"))
        else:
            self.answers = without_answer(self.answers, previous)
        return False

    def show_question(self, question: Question) -> None:
        number = sum(1 for q in active_questions(self.answers) if is_answered(q, self.answers)) + 1
        self.console.print()
        self.console.print(Text(self.t("question", n=number), style="cyan"))
        self.console.print(Text(question.text.get(self.lang), style="bold"))
        if question.help is not None:
            self.console.print(Text(question.help.get(self.lang), style="italic"))
        if question.options:
            self.console.print(self.options_table(question))

    def options_table(self, question: Question) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", min_width=4)
        table.add_column()
        for index, option in enumerate(question.options, start=1):
            table.add_row(Text(str(index), style="bold"), Text(option.label.get(self.lang)))
        if question.kind == "choice" and question.unsure:  # "not sure" is the extra last number
            table.add_row(Text(str(len(question.options) + 1), style="bold"), Text(unsure_label(self.lang)))
        if question.kind in ("multi_flags", "multi_choice"):
            table.add_row(Text("0", style="bold"), Text(self.t("none")))
        return table

    # ---- the emergency check -----------------------------------------------------------------------
    def evaluate(self, case: dict[str, Any]) -> Assessment | None:
        try:
            return assess(case, lang=self.lang)
        except InvalidCase as e:
            self.console.print(Text(self.t("engine_error", error=e), style="bold red"))
            return None

    def emergency_stop(self) -> bool:
        """Check the answers so far; on a new emergency show the 112 banner. True: stop asking."""
        assessment = self.evaluate(provisional_case(self.answers))
        if assessment is None or assessment.triage is not Triage.emergency:
            self.warned = frozenset()
            return False
        flags = frozenset(flag.id for flag in assessment.red_flags) or frozenset({"emergency"})
        new, self.warned = flags - self.warned, flags
        if not new:
            return False
        self.console.print(self.emergency_banner(assessment))
        return not self.confirm(self.t("continue"))

    def emergency_banner(self, assessment: Assessment) -> Panel:
        kb = default_knowledge()
        parts: list[Text] = [
            Text(kb.text("ui.emergency_banner", self.lang), style="bold white on red", justify="center")
        ]
        parts += [Text(r.text, style="bold") for r in assessment.recommendations if r.id == "call_emergency"]
        conditions = dict.fromkeys(flag.condition for flag in assessment.red_flags)
        parts += [Text(f"• {self.condition_label(c)}") for c in conditions]
        parts += [Text(f"• {note}", style="italic") for note in unsure_notes(self.answers, self.lang)]
        return Panel(Group(*parts), border_style="bold red", title=Text("112", style="bold red"))

    def condition_label(self, condition: str) -> str:
        texts = default_knowledge().spec.texts
        entry = texts.get(f"condition.{condition}.label")
        return entry[self.lang] if entry else condition

    def confirm(self, prompt: str) -> bool:
        """A yes/no question whose default (empty answer) is no."""
        while True:
            try:
                word = self.read(prompt).strip().lower()
            except EOFError:  # input ended: take the default, so an emergency result is still shown
                return False
            if word in YES:
                return True
            if not word or word in NO:
                return False
            self.console.print(Text(self.t("continue_error"), style="bold red"))

    # ---- the result ----------------------------------------------------------------------------------
    def final_assessment(self) -> Assessment | None:
        missing = missing_required(self.answers)
        if missing:
            self.console.print(Text(self.t("incomplete", fields=self.field_names(missing)), style="yellow"))
            return self.evaluate(provisional_case(self.answers))
        return self.evaluate(answers_to_case(self.answers))

    def show_result(self, assessment: Assessment) -> None:
        style = "bold white on red" if assessment.triage is Triage.emergency else "bold"
        self.console.print()
        self.console.rule()
        level = default_knowledge().text(f"triage.{assessment.triage.value}.label", self.lang)
        self.console.print(Text(f"{self.t('level')}: {level}", style=style))
        for condition in dict.fromkeys(flag.condition for flag in assessment.red_flags):
            line = Text(f"{self.t('suspected')}: ", style="bold red")
            self.console.print(line.append(self.condition_label(condition), style="red"))
        # Answers given as "not sure" were counted as present: say so beside the reasons.
        for note in unsure_notes(self.answers, self.lang):
            line = Text(f"{self.t('unsure')}: ", style="bold yellow")
            self.console.print(line.append(note))
        print_report(self.console, default_knowledge(), assessment, self.lang)

    # ---- saving --------------------------------------------------------------------------------------
    def offer_save(self) -> int:
        missing = missing_required(self.answers)
        if missing:
            if self.save is not None:
                self.console.print(
                    Text(self.t("cannot_save", fields=self.field_names(missing)), style="yellow")
                )
            return EXIT_OK
        path = self.save or self.ask_file_name()
        if path is None:
            return EXIT_OK
        return self.write_case(path)

    def ask_file_name(self) -> pathlib.Path | None:
        try:
            name = self.read(self.t("save_prompt")).strip()
        except EOFError:
            self.console.print()
            return None
        if not name:
            return None
        path = pathlib.Path(name).expanduser()
        if path.exists() and not self.confirm(self.t("overwrite")):
            return None
        return path

    def write_case(self, path: pathlib.Path) -> int:
        text = json.dumps(answers_to_case(self.answers), ensure_ascii=False, indent=2) + "\n"
        try:
            write_private(path, text.encode("utf-8"))  # the answers are health data
        except UnsafeTarget as e:
            self.console.print(Text(self.t("save_failed", error=e.message(self.lang)), style="bold red"))
            return EXIT_ERROR
        except OSError as e:
            why = storage_message(e, self.lang) or e.strerror or e
            self.console.print(Text(self.t("save_failed", error=why), style="bold red"))
            return EXIT_ERROR
        self.console.print(Text(self.t("saved", path=path), style="green"))
        return EXIT_OK


def run_interview(
    *, lang: str = "de", save: pathlib.Path | None = None, console: Console | None = None
) -> int:
    """Run the interview in the terminal.

    Returns the exit code: 0 done, 1 error or input ended early, 130 stopped with Ctrl+C.
    """
    console = console or Console()
    if lang not in languages():
        both = " / ".join(cli_text("interview_loop.bad_lang", code) for code in BUILTIN_LANGUAGES)
        console.print(Text(both, style="bold red"))
        return EXIT_ERROR
    interview = _Interview(console, lang, save)
    try:
        return interview.run()
    except KeyboardInterrupt:
        console.print()
        console.print(Text(interview.t("interrupted"), style="yellow"))
        return EXIT_INTERRUPTED
    except EOFError:
        console.print()
        console.print(Text(interview.t("eof"), style="yellow"))
        return EXIT_ERROR
