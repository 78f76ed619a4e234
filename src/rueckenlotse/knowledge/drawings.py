"""The line drawings of the exercises and comfort items: exercise_drawings.yaml, strictly validated.

A drawing is pose data, not a picture: a simple body (round head, thick rounded limbs) seen from the side or
from the front, in a start position and (for a movement) an end position, given as the direction of each
body segment in degrees (0 points right, 90 down, -90 up; y grows downwards, the floor is y = 0). Props
(chair, wall, door, band, box …) and movement arrows are named with their place. ``reports.exercise_svg``
turns a drawing into SVG text. Every drawing carries its alt text in every language; the library loader
checks that every exercise and comfort item has one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from .wording import STRICT as _STRICT
from .wording import Id, LocalText

DRAWINGS_FILE = "exercise_drawings.yaml"

View = Literal["side", "front"]
Point = Annotated[list[float], Field(min_length=2, max_length=2)]
# Joint names a band or a pin may refer to.
JOINTS: frozenset[str] = frozenset(
    {"hip", "neck", "head"}
    | {f"arm{n}.{j}" for n in (1, 2) for j in ("shoulder", "elbow", "hand")}
    | {f"leg{n}.{j}" for n in (1, 2) for j in ("hip", "knee", "ankle", "toe")}
)
PropKind = Literal[
    "chair",
    "stool",
    "wall",
    "door",
    "box",
    "towel",
    "pillow",
    "bottle",
    "shower",
    "note",
    "tree",
    "mark",
    "mat",
    "backdrop",
]


class Pose(BaseModel):
    """One position: where the pelvis is, and the direction of every body segment (degrees)."""

    model_config = _STRICT
    root: Point
    torso: float
    head: float | None = None  # direction neck → head; the torso's direction when left out
    nose: float | None = None  # where the face points (a small nose on the head); none seen from the front
    arms: Annotated[
        list[Annotated[list[float], Field(min_length=2, max_length=2)]], Field(min_length=2, max_length=2)
    ]
    legs: Annotated[
        list[Annotated[list[float], Field(min_length=3, max_length=3)]], Field(min_length=2, max_length=2)
    ]
    fists: bool = False
    bend: float = 0  # the spine's curve: positive rounds the back (a cat), negative arches it
    shoulder: Point = [0, 0]  # shoulders moved from their place (shrugged up, drawn back)
    shoulders: float = 1.0  # width of the shoulders seen from the front (less: the trunk turned)
    arm_scale: float = 1.0  # shorter: the arms point towards the viewer
    leg_scale: Point = [1, 1]  # thigh and shank, shorter where they point towards the viewer


class Prop(BaseModel):
    """Something the exercise needs, drawn in both panels (or only in ``panel``)."""

    model_config = _STRICT
    kind: PropKind
    at: Point
    size: float = 1.0
    flip: bool = False
    panel: Literal[1, 2] | None = None


class Arrow(BaseModel):
    """A movement arrow: a curve from the first point through the pull of the second to the third."""

    model_config = _STRICT
    points: Annotated[list[Point], Field(min_length=3, max_length=3)]
    panel: Literal[1, 2] | None = None  # none: the last panel
    both: bool = False


class Band(BaseModel):
    """An exercise band from a fixed point or a hand to a hand; it follows the hands in every position."""

    model_config = _STRICT
    start: Point | str
    end: str

    @model_validator(mode="after")
    def _known_joints(self) -> Band:
        for joint in (self.start, self.end):
            if isinstance(joint, str) and joint not in JOINTS:
                raise ValueError(f"unknown joint {joint!r}")
        return self


class Drawing(BaseModel):
    """The drawing of one exercise or comfort item with its alt text."""

    model_config = _STRICT
    id: Id
    alt: LocalText
    view: View = "side"
    height: Annotated[int, Field(ge=80, le=240)] = 190
    start: Pose
    end: Pose | None = None  # none: one position only (a comfort item)
    pin: str | None = None  # a joint that stays in place while the figure moves (a foot on the floor)
    props: list[Prop] = []
    arrows: list[Arrow] = []
    bands: list[Band] = []
    floor: bool = True  # false: seen from above (no floor line; a mat instead)
    carry: bool = False  # a box held in the near hand
    moves: bool = True  # false: panel 2 does not play the movement (where turning the angles would mislead)

    @model_validator(mode="after")
    def _pin_known(self) -> Drawing:
        if self.pin is not None and self.pin not in JOINTS:
            raise ValueError(f"unknown joint {self.pin!r} to pin")
        if self.end is None and any(a.panel == 2 for a in self.arrows):
            raise ValueError("an arrow in panel 2 needs an end position")
        return self


class DrawingsFile(BaseModel):
    model_config = _STRICT
    drawings: Annotated[list[Drawing], Field(min_length=1)]
