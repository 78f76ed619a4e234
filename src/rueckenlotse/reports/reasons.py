"""Which reasons an Assessment shows: shared by the terminal report and the web pages."""

from __future__ import annotations

from ..core.kb import KnowledgeBase
from ..core.models import Assessment


def worth_showing(kb: KnowledgeBase, rule_id: str, red_flag: bool) -> bool:
    """While a warning sign stands, only its reasons: reassuring ones would blur the message."""
    if not red_flag:
        return True
    for rule in kb.spec.rules:
        if rule_id == rule.id or any(rule_id == e.id for e in rule.escalate):
            return rule.suspect in kb.red_flag_conditions
    return False


def reasons(kb: KnowledgeBase, assessment: Assessment, lang: str) -> list[str]:
    """The reasons to show, in the order the rules fired, each once, naming the signs actually given."""
    red_flag = bool(assessment.red_flags)
    texts = [
        kb.reason(entry.rule, entry.because, lang)
        for entry in assessment.trace
        if f"rule.{entry.rule}.reason" in kb.spec.texts and worth_showing(kb, entry.rule, red_flag)
    ]
    return list(dict.fromkeys(texts))
