"""Every exercise and comfort item has a line drawing with alt text in German and English (issue #17).

The library refuses to load without one; each SVG is well-formed, named by its alt text, self-contained (no
outside reference, no script) and keeps the whole figure inside its picture.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from rueckenlotse.knowledge.drawings import Drawing
from rueckenlotse.plan.library import Library, LibraryError, default_library, load_library
from rueckenlotse.reports.exercise_svg import (
    FLOOR_MARGIN,
    GAP,
    HEAD_R,
    PANEL_WIDTH,
    body_of,
    exercise_svg,
    frames,
    size_of,
)

from .test_library import broken_copy

SVG = "{http://www.w3.org/2000/svg}"
LIB = default_library()
PRACTICES = [*LIB.exercises, *LIB.comfort]
LIMB_HALF_WIDTH = 8  # the thickest stroke is 16 wide


@pytest.fixture(scope="module")
def lib() -> Library:
    return LIB


@pytest.mark.parametrize("practice_id", PRACTICES)
def test_every_exercise_has_a_drawing_with_alt_text_in_both_languages(lib: Library, practice_id: str) -> None:
    drawing = lib.drawing(practice_id)
    de, en = lib.picture_alt(practice_id, "de"), lib.picture_alt(practice_id, "en")
    assert de.startswith("Zeichnung") and en.startswith("Drawing"), practice_id
    assert de != en
    if drawing.end is not None:  # a movement: the alt text describes the start and the end position
        assert "Danach" in de and "Then" in en, practice_id


def test_every_drawing_belongs_to_an_exercise_and_no_two_say_the_same(lib: Library) -> None:
    assert set(lib.drawings) == set(PRACTICES)
    for lang in ("de", "en"):
        alts = [lib.picture_alt(p, lang) for p in PRACTICES]
        assert len(set(alts)) == len(alts), lang


def _drawings(data: Any) -> list[dict[str, Any]]:
    return data["drawings"]  # type: ignore[no-any-return]


def _drawing(data: Any, practice_id: str) -> dict[str, Any]:
    return next(d for d in _drawings(data) if d["id"] == practice_id)


def _drop(practice_id: str) -> Callable[[Any], None]:
    def mutate(data: Any) -> None:
        data["drawings"] = [d for d in _drawings(data) if d["id"] != practice_id]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_drop("bird_dog"), "no drawing with alt text for: bird_dog"),
        (_drop("heat_pack"), "no drawing with alt text for: heat_pack"),
        (lambda d: _drawing(d, "bridge")["alt"].pop("en"), "bridge"),
        (lambda d: _drawing(d, "bridge")["alt"].update(de=" "), "bridge"),
        (lambda d: _drawing(d, "bridge").pop("alt"), "bridge"),
        (lambda d: _drawings(d).append(dict(_drawing(d, "bridge"))), "drawing given twice: bridge"),
        (lambda d: _drawing(d, "bridge").update(id="no_such"), "bridge"),
        (lambda d: _drawing(d, "bridge").update(pin="leg3.knee"), "bridge"),
        (lambda d: _drawing(d, "bridge")["start"].update(arms=[[0, 0]]), "bridge"),
    ],
)
def test_a_library_without_a_drawing_or_alt_text_fails_to_load(
    tmp_path: Any, mutate: Callable[[Any], None], message: str
) -> None:
    with pytest.raises(LibraryError, match=re.escape(message)):
        load_library(broken_copy(tmp_path, "exercise_drawings.yaml", mutate))


# ---- the SVG -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("animate", [True, False], ids=["moving", "still"])
@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("practice_id", PRACTICES)
def test_each_svg_is_self_contained_and_named_by_its_alt_text(
    lib: Library, practice_id: str, lang: str, animate: bool
) -> None:
    drawing = lib.drawing(practice_id)
    text = exercise_svg(drawing, lib.picture_alt(practice_id, lang), animate=animate)
    root = ET.fromstring(text)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    width, height = size_of(drawing)
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == lib.picture_alt(practice_id, lang)
    assert root.get("aria-labelledby") == title.get("id")
    elements = list(root.iter())
    assert not [e for e in elements if e.tag in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}image")]
    for element in elements:
        for name, value in element.attrib.items():
            assert "href" not in name, (practice_id, element.tag, name)
            assert not name.lower().startswith("on"), (practice_id, element.tag, name)
            assert "url(" not in value and "http" not in value, (practice_id, element.tag, name)
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    moving = [e for e in elements if e.tag in (f"{SVG}animate", f"{SVG}animateTransform")]
    assert bool(moving) == (animate and drawing.end is not None and drawing.moves)


def _joints_inside(drawing: Drawing, where: str, joints: dict[str, tuple[float, float]]) -> None:
    top = -(drawing.height - FLOOR_MARGIN)
    for name, (x, y) in joints.items():
        margin = HEAD_R if name == "head" else LIMB_HALF_WIDTH
        assert margin - 2 <= x <= PANEL_WIDTH - margin + 2, (drawing.id, where, name, x)
        assert top + margin - 2 <= y, (drawing.id, where, name, y)
        if drawing.floor:  # nothing sinks into the floor (a limb lying on it may touch it)
            assert y <= 2, (drawing.id, where, name, y)


@pytest.mark.parametrize("practice_id", PRACTICES)
def test_the_figure_stays_inside_its_picture_all_through_the_movement(lib: Library, practice_id: str) -> None:
    drawing = lib.drawing(practice_id)
    _joints_inside(drawing, "start", body_of(drawing.start, drawing.view).joints)
    if drawing.end is not None:
        _joints_inside(drawing, "end", body_of(drawing.end, drawing.view).joints)
        for n, body in enumerate(frames(drawing)):
            _joints_inside(drawing, f"frame {n}", body.joints)
    for arrow in drawing.arrows:
        for x, y in arrow.points:
            assert 0 <= x <= PANEL_WIDTH and -(drawing.height - FLOOR_MARGIN) <= y <= FLOOR_MARGIN, drawing.id


@pytest.mark.parametrize("practice_id", [p for p in PRACTICES if LIB.drawing(p).pin is not None])
def test_a_pinned_foot_or_elbow_stays_put_while_the_figure_moves(lib: Library, practice_id: str) -> None:
    drawing = lib.drawing(practice_id)
    assert drawing.pin is not None and drawing.end is not None
    start = body_of(drawing.start, drawing.view).joints[drawing.pin]
    end = body_of(drawing.end, drawing.view).joints[drawing.pin]
    assert abs(start[0] - end[0]) < 3 and abs(start[1] - end[1]) < 3, (practice_id, start, end)
    for body in frames(drawing):
        x, y = body.joints[drawing.pin]
        assert abs(x - start[0]) < 3 and abs(y - start[1]) < 3, practice_id


def test_two_panels_sit_side_by_side_with_an_arrow_between() -> None:
    drawing = LIB.drawing("bridge")
    assert size_of(drawing)[0] == 2 * PANEL_WIDTH + GAP
    text = exercise_svg(drawing, "x", animate=False)
    assert text.count(">1</text>") == 1 and text.count(">2</text>") == 1
