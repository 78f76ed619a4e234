"""What the pain diary asks and how its answers count (diary.yaml), validated with Pydantic.

The order of ``warning_signs`` is the order the diary shows them; ``pain_reach`` runs from the back
outwards. The diary entry model (plan.models) takes its vocabulary from here, so a sign added to the YAML
is accepted, offered and re-screened without a change in Python.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import BaseModel, Field, model_validator

from ..core.models import Case, LegPainValue
from .wording import STRICT, Id

DIARY_FILE = "diary.yaml"
LEG_PAIN_ORDER: tuple[str, ...] = get_args(LegPainValue)
# Case fields a sign may turn on by its own name: the boolean fields.
_BOOL_FIELDS = frozenset(name for name, info in Case.model_fields.items() if info.annotation is bool)


class SignField(BaseModel):
    """The Case field a sign sets, and the value it sets it to."""

    model_config = STRICT
    field: str
    value: str

    @model_validator(mode="after")
    def _fits_case(self) -> SignField:
        info = Case.model_fields.get(self.field)
        if info is None:
            raise ValueError(f"{self.field!r} is not a Case field")
        if self.value not in get_args(info.annotation):
            raise ValueError(f"{self.value!r} is not a value of Case field {self.field!r}")
        return self


class Reach(BaseModel):
    """How far the pain reaches, and the Case leg_pain that stands for it."""

    model_config = STRICT
    id: Id
    leg_pain: LegPainValue


def _unique(name: str, values: list[Any]) -> None:
    twice = sorted({str(v) for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"{name}: listed twice: {', '.join(twice)}")


class DiarySpec(BaseModel):
    """The diary's warning-sign check and pain reach."""

    model_config = STRICT
    warning_signs: Annotated[list[Id], Field(min_length=1)]
    not_offered: list[Id] = []
    sign_fields: dict[str, SignField] = {}
    neuro_signs: list[Id] = []
    pain_reach: Annotated[list[Reach], Field(min_length=2)]

    @model_validator(mode="after")
    def _consistent(self) -> DiarySpec:
        _unique("warning_signs", self.warning_signs)
        _unique("neuro_signs", self.neuro_signs)
        _unique("pain_reach", [r.id for r in self.pain_reach])
        signs = set(self.warning_signs)
        for name, listed in (
            ("not_offered", self.not_offered),
            ("sign_fields", list(self.sign_fields)),
            ("neuro_signs", self.neuro_signs),
        ):
            unknown = sorted(set(listed) - signs)
            if unknown:
                raise ValueError(f"{name}: not a warning sign: {', '.join(unknown)}")
        plain = sorted(s for s in signs - set(self.sign_fields) if s not in _BOOL_FIELDS)
        if plain:
            raise ValueError(f"warning_signs: not a boolean Case field (give it under sign_fields): {plain}")
        ranks = [LEG_PAIN_ORDER.index(r.leg_pain) for r in self.pain_reach]
        if ranks != sorted(ranks):
            raise ValueError("pain_reach must run from the back outwards (its leg_pain never falls)")
        return self

    @property
    def signs(self) -> tuple[str, ...]:
        return tuple(self.warning_signs)

    @property
    def offered_signs(self) -> tuple[str, ...]:
        return tuple(s for s in self.warning_signs if s not in self.not_offered)

    @property
    def reach_order(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.pain_reach)

    def sign_field(self, sign: str) -> str:
        """The Case field a sign sets (its own name unless sign_fields says otherwise)."""
        mapped = self.sign_fields.get(sign)
        return sign if mapped is None else mapped.field

    def sign_value(self, sign: str) -> bool | str:
        """The value a sign sets its Case field to (true unless sign_fields says otherwise)."""
        mapped = self.sign_fields.get(sign)
        return True if mapped is None else mapped.value

    def reach_leg_pain(self, reach: str) -> str:
        """The Case leg_pain a pain reach stands for."""
        return next(r.leg_pain for r in self.pain_reach if r.id == reach)
