"""Line drawings of the exercises as SVG text, from the pose data of exercise_drawings.yaml. Pure, no I/O.

One style for all: a body of thick rounded strokes with a round head; seen from the side, the far arm and leg
are lighter and behind. A movement shows two panels, the start (1) and the end (2) with an arrow between them;
panel 2 also plays the movement (SMIL, no JavaScript) unless the viewer asked for reduced motion, then it
shows the end position only. The SVG names no outside resource and holds no script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

from ..knowledge.drawings import Arrow, Band, Drawing, Pose, Prop

PANEL_WIDTH = 200
GAP = 40
FLOOR_MARGIN = 10

# Segment lengths of the body (drawing units).
TORSO = 46
NECK = 17
HEAD_R = 11
UPPER_ARM = 24
FOREARM = 21
THIGH = 37
SHANK = 35
FOOT_SIDE = 11
FOOT_FRONT = 7
SHOULDER_HALF = 14  # seen from the front
HIP_HALF = 8

INK = "#1b2430"
FAR = "#6b7785"
PROP_LINE = "#4a5562"
PROP_FILL = "#e6ebf0"
ACCENT = "#b4410c"
FRAMES = 10
SECONDS = 4.0

Pt = tuple[float, float]


def _dir(angle: float) -> Pt:
    r = math.radians(angle)
    return math.cos(r), math.sin(r)


def _add(p: Pt, d: Pt, length: float) -> Pt:
    return p[0] + d[0] * length, p[1] + d[1] * length


def _wrap(delta: float) -> float:
    return (delta + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Body:
    """Where every joint of one pose is."""

    joints: dict[str, Pt]
    nose: float | None
    fists: bool

    def chain(self, *names: str) -> list[Pt]:
        return [self.joints[n] for n in names]


def body_of(pose: Pose, view: str, shift: Pt = (0.0, 0.0)) -> Body:
    hip = (pose.root[0] + shift[0], pose.root[1] + shift[1])
    up = _dir(pose.torso)
    neck = _add(hip, up, TORSO)
    across = (-up[1], up[0])  # perpendicular to the torso: the figure's front seen from the side
    # The spine's curve: a control point pushed to the back (bend > 0) or the front.
    middle = _add(((hip[0] + neck[0]) / 2, (hip[1] + neck[1]) / 2), across, -2 * pose.bend)
    head = _add(neck, _dir(pose.head if pose.head is not None else pose.torso), NECK)
    joints: dict[str, Pt] = {"hip": hip, "neck": neck, "head": head, "spine": middle}
    top = _add(neck, up, -4) if view == "side" else neck
    top = (top[0] + pose.shoulder[0], top[1] + pose.shoulder[1])
    for n, (upper, lower) in enumerate(pose.arms, start=1):
        shoulder = top
        if view == "front":
            shoulder = _add(top, across, SHOULDER_HALF * pose.shoulders * (1 if n == 2 else -1))
        elbow = _add(shoulder, _dir(upper), UPPER_ARM * pose.arm_scale)
        hand = _add(elbow, _dir(lower), FOREARM * pose.arm_scale)
        joints |= {f"arm{n}.shoulder": shoulder, f"arm{n}.elbow": elbow, f"arm{n}.hand": hand}
    for n, (thigh, shank, foot) in enumerate(pose.legs, start=1):
        start = _add(hip, across, HIP_HALF * (1 if n == 2 else -1)) if view == "front" else hip
        knee = _add(start, _dir(thigh), THIGH * pose.leg_scale[0])
        ankle = _add(knee, _dir(shank), SHANK * pose.leg_scale[1])
        toe = _add(ankle, _dir(foot), FOOT_FRONT if view == "front" else FOOT_SIDE)
        joints |= {f"leg{n}.hip": start, f"leg{n}.knee": knee, f"leg{n}.ankle": ankle, f"leg{n}.toe": toe}
    return Body(joints, pose.nose, pose.fists)


def _between(a: Pose, b: Pose, t: float) -> Pose:
    def mix(x: float, y: float) -> float:
        return x + _wrap(y - x) * t

    return Pose(
        root=[a.root[0] + (b.root[0] - a.root[0]) * t, a.root[1] + (b.root[1] - a.root[1]) * t],
        torso=mix(a.torso, b.torso),
        head=mix(a.head if a.head is not None else a.torso, b.head if b.head is not None else b.torso),
        nose=(a.nose if t < 0.5 else b.nose) if a.nose is None or b.nose is None else mix(a.nose, b.nose),
        arms=[[mix(x, y) for x, y in zip(p, q, strict=True)] for p, q in zip(a.arms, b.arms, strict=True)],
        legs=[[mix(x, y) for x, y in zip(p, q, strict=True)] for p, q in zip(a.legs, b.legs, strict=True)],
        fists=a.fists if t < 0.5 else b.fists,
        bend=a.bend + (b.bend - a.bend) * t,
        shoulder=[a.shoulder[i] + (b.shoulder[i] - a.shoulder[i]) * t for i in (0, 1)],
        shoulders=a.shoulders + (b.shoulders - a.shoulders) * t,
        arm_scale=a.arm_scale + (b.arm_scale - a.arm_scale) * t,
        leg_scale=[a.leg_scale[i] + (b.leg_scale[i] - a.leg_scale[i]) * t for i in (0, 1)],
    )


def frames(drawing: Drawing) -> list[Body]:
    """The movement from start to end in FRAMES + 1 eased steps; a pinned joint keeps to its straight path."""
    assert drawing.end is not None
    first = body_of(drawing.start, drawing.view)
    last = body_of(drawing.end, drawing.view)
    bodies = []
    for i in range(FRAMES + 1):
        t = (1 - math.cos(math.pi * i / FRAMES)) / 2
        body = body_of(_between(drawing.start, drawing.end, t), drawing.view)
        if drawing.pin is not None:
            p0, p1, now = first.joints[drawing.pin], last.joints[drawing.pin], body.joints[drawing.pin]
            want = (p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t)
            body = body_of(
                _between(drawing.start, drawing.end, t), drawing.view, (want[0] - now[0], want[1] - now[1])
            )
        bodies.append(body)
    return bodies


# ---- SVG pieces -------------------------------------------------------------------------------------------
def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _el(tag: str, inner: str = "", **attributes: float | str) -> str:
    """An SVG element; attribute names with _ are written with - (stroke_width → stroke-width)."""
    written = " ".join(
        f'{name.replace("_", "-")}="{_f(value) if isinstance(value, float | int) else value}"'
        for name, value in attributes.items()
    )
    return f"<{tag} {written}>{inner}</{tag}>" if inner else f"<{tag} {written}/>"


def _path(points: list[Pt]) -> str:
    return "M" + " L".join(f"{_f(x)} {_f(y)}" for x, y in points)


def _segments(body: Body, names: tuple[str, ...]) -> str:
    """A limb as a polyline; the spine (hip, spine, neck) as a curve."""
    if names[1:2] == ("spine",):
        (ax, ay), (cx, cy), (bx, by) = body.chain(*names)
        return f"M{_f(ax)} {_f(ay)} Q{_f(cx)} {_f(cy)} {_f(bx)} {_f(by)}"
    return _path(body.chain(*names))


_LIMBS_SIDE = (
    ("arm1", ("arm1.shoulder", "arm1.elbow", "arm1.hand"), FAR, 9),
    ("leg1", ("leg1.hip", "leg1.knee", "leg1.ankle", "leg1.toe"), FAR, 10),
    ("torso", ("hip", "spine", "neck"), INK, 14),
    ("leg2", ("leg2.hip", "leg2.knee", "leg2.ankle", "leg2.toe"), INK, 10),
    ("arm2", ("arm2.shoulder", "arm2.elbow", "arm2.hand"), INK, 9),
)
_LIMBS_FRONT = (
    ("torso", ("hip", "spine", "neck"), INK, 16),
    ("shoulders", ("arm1.shoulder", "arm2.shoulder"), INK, 10),
    ("pelvis", ("leg1.hip", "leg2.hip"), INK, 12),
    ("leg1", ("leg1.hip", "leg1.knee", "leg1.ankle", "leg1.toe"), INK, 10),
    ("leg2", ("leg2.hip", "leg2.knee", "leg2.ankle", "leg2.toe"), INK, 10),
    ("arm1", ("arm1.shoulder", "arm1.elbow", "arm1.hand"), INK, 9),
    ("arm2", ("arm2.shoulder", "arm2.elbow", "arm2.hand"), INK, 9),
)


def _nose_points(body: Body) -> list[Pt]:
    assert body.nose is not None
    c = body.joints["head"]
    d = _dir(body.nose)
    side = (-d[1], d[0])
    base = _add(c, d, HEAD_R - 2)
    return [_add(base, side, 5), _add(c, d, HEAD_R + 6), _add(base, side, -5)]


def _band_points(band: Band, body: Body) -> list[Pt]:
    start = body.joints[band.start] if isinstance(band.start, str) else (band.start[0], band.start[1])
    return [start, body.joints[band.end]]


def _figure(drawing: Drawing, body: Body) -> list[str]:
    limbs = _LIMBS_FRONT if drawing.view == "front" else _LIMBS_SIDE
    out = []
    hx, hy = body.joints["head"]
    head = [f'<circle cx="{_f(hx)}" cy="{_f(hy)}" r="{HEAD_R}" fill="{INK}"/>']
    if body.nose is not None:
        head.append(f'<path d="{_path(_nose_points(body))}Z" fill="{INK}"/>')
    for name, names, colour, width in limbs:
        if (name == "leg2" and drawing.view == "side") or (name == "arm1" and drawing.view == "front"):
            out.extend(head)  # the head behind the near limbs
        if name == "arm2" and drawing.carry:
            x, y = body.joints["arm2.hand"]
            out.append(f'<g transform="translate({_f(x)} {_f(y)})">{_CARRIED}</g>')
        out.append(
            f'<path d="{_segments(body, names)}" stroke="{colour}" stroke-width="{width}" fill="none"'
            ' stroke-linecap="round" stroke-linejoin="round"/>'
        )
    for band in drawing.bands:  # in front of the body: held in the hands
        out.append(_el("path", d=_path(_band_points(band, body)), stroke=ACCENT, stroke_width=3, fill="none"))
    if body.fists:
        for n in (1, 2):
            x, y = body.joints[f"arm{n}.hand"]
            colour = INK if n == 2 or drawing.view == "front" else FAR
            out.append(_el("circle", cx=x, cy=y, r=6.5, fill=colour))
    return out


# The box held in the hand (the hand holds it at its top edge, near the body).
_CARRIED = _el(
    "rect", x=-14, y=-4, width=28, height=22, rx=2, fill=PROP_FILL, stroke=PROP_LINE, stroke_width=2.5
)


def _animated_figure(drawing: Drawing, bodies: list[Body]) -> list[str]:
    """The figure of panel 2 moving start → end, holding, and back; keyTimes spread the hold."""
    n = len(bodies)
    order = list(range(n)) + [n - 1] + list(range(n - 1, -1, -1)) + [0]
    move = 0.35  # share of the cycle for each way; the rest holds the end, then the start
    times = [move * i / (n - 1) for i in range(n)]
    times += [0.5] + [0.5 + move * i / (n - 1) for i in range(n)] + [1.0]
    key_times = ";".join(f"{t:.3f}" for t in times)
    # Started as if the cycle had begun earlier: the first frame (a screenshot, a print, a glance) shows
    # the end position, not a copy of panel 1.
    begin = f'begin="-{_f(move * SECONDS)}s"'
    limbs = _LIMBS_FRONT if drawing.view == "front" else _LIMBS_SIDE

    def anim(attribute: str, values: list[str]) -> str:
        return (
            f'<animate attributeName="{attribute}" {begin} dur="{_f(SECONDS)}s" repeatCount="indefinite"'
            f' keyTimes="{key_times}" values="{";".join(values[i] for i in order)}"/>'
        )

    out = []
    heads = [b.joints["head"] for b in bodies]
    head = [
        f'<circle cx="{_f(heads[-1][0])}" cy="{_f(heads[-1][1])}" r="{HEAD_R}" fill="{INK}">'
        f"{anim('cx', [_f(h[0]) for h in heads])}{anim('cy', [_f(h[1]) for h in heads])}</circle>"
    ]
    if any(b.nose is not None for b in bodies):
        # A face turning towards or away from the viewer: the nose shows only while it points somewhere.
        shown = next(b.nose for b in bodies if b.nose is not None)
        noses = [
            _path(_nose_points(Body(b.joints, b.nose if b.nose is not None else shown, False))) + "Z"
            for b in bodies
        ]
        seen = ["1" if b.nose is not None else "0" for b in bodies]
        head.append(f'<path d="{noses[-1]}" fill="{INK}">{anim("d", noses)}{anim("opacity", seen)}</path>')
    for name, names, colour, width in limbs:
        if (name == "leg2" and drawing.view == "side") or (name == "arm1" and drawing.view == "front"):
            out.extend(head)
        if name == "arm2" and drawing.carry:
            hands = [f"{_f(b.joints['arm2.hand'][0])} {_f(b.joints['arm2.hand'][1])}" for b in bodies]
            out.append(
                f'<g>{_CARRIED}<animateTransform attributeName="transform" type="translate" {begin}'
                f' dur="{_f(SECONDS)}s" repeatCount="indefinite" keyTimes="{key_times}"'
                f' values="{";".join(hands[i] for i in order)}"/></g>'
            )
        paths = [_segments(b, names) for b in bodies]
        out.append(
            f'<path d="{paths[-1]}" stroke="{colour}" stroke-width="{width}" fill="none"'
            ' stroke-linecap="round"'
            f' stroke-linejoin="round">{anim("d", paths)}</path>'
        )
    for band in drawing.bands:
        paths = [_path(_band_points(band, b)) for b in bodies]
        out.append(
            f'<path d="{paths[-1]}" stroke="{ACCENT}" stroke-width="3" fill="none">{anim("d", paths)}</path>'
        )
    return out


def _rect(x: float, y: float, w: float, h: float, rx: float = 2) -> str:
    return (
        f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="{_f(rx)}" fill="{PROP_FILL}"'
        f' stroke="{PROP_LINE}" stroke-width="2.5"/>'
    )


def _line(points: list[Pt], width: float = 3, colour: str = PROP_LINE) -> str:
    return _el(
        "path", d=_path(points), stroke=colour, stroke_width=width, fill="none", stroke_linecap="round"
    )


def _prop(prop: Prop) -> list[str]:  # noqa: PLR0911 - one drawing per kind
    x, y = prop.at
    s = prop.size
    m = -1 if prop.flip else 1
    if prop.kind == "chair":  # seen from the side: seat at y, backrest on the left (flip: right)
        back = x if not prop.flip else x + 46
        return [
            _line([(x + 2, y + 3), (x + 2, -1)]),
            _line([(x + 44, y + 3), (x + 44, -1)]),
            _line([(back, y), (back, y - 48 * s)], 5),
            _rect(x, y, 46, 6),
        ]
    if prop.kind == "stool":  # a chair seen from the front
        return [
            _line([(x - 22, y + 3), (x - 22, -1)]),
            _line([(x + 22, y + 3), (x + 22, -1)]),
            _rect(x - 26, y, 52, 7),
        ]
    if prop.kind == "wall":  # a wall from the floor up to y; its surface at x (flip: the wall lies left of x)
        left = x - 9 if prop.flip else x
        return [
            f'<rect x="{_f(left)}" y="{_f(y)}" width="9" height="{_f(-y)}" fill="{PROP_FILL}"/>',
            _line([(x, y), (x, 0)], 3),
        ]
    if prop.kind == "door":  # a closed door seen edge-on, its handle at height y (towards the figure: flip)
        return [
            _el("rect", x=x, y=-165, width=8, height=165, fill=PROP_FILL, stroke=PROP_LINE, stroke_width=2.5),
            _line([(x - 1 if not prop.flip else x + 9, y), (x - 9 if not prop.flip else x + 17, y)], 4),
        ]
    if prop.kind == "mat":  # an exercise mat seen from above: width 180 * size, from y up to y - 160 * size
        return [
            f'<rect x="{_f(x)}" y="{_f(y - 160 * s)}" width="{_f(180 * s)}" height="{_f(160 * s)}" rx="6"'
            f' fill="{PROP_FILL}" stroke="{PROP_LINE}" stroke-width="2"/>'
        ]
    if prop.kind == "backdrop":  # a wall behind a figure seen from the front
        return [
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(110 * s)}" height="{_f(-y)}" fill="{PROP_FILL}"'
            f' stroke="{PROP_LINE}" stroke-width="2"/>'
        ]
    if prop.kind == "box":
        return [
            _rect(x - 14 * s, -22 * s, 28 * s, 22 * s),
            _line([(x - 6 * s, -17 * s), (x + 6 * s, -17 * s)], 2),
        ]
    if prop.kind == "towel":
        return [_rect(x - 12 * s, y - 6, 24 * s, 6, 3)]
    if prop.kind == "pillow":
        return [_rect(x - 13 * s, y - 8 * s, 26 * s, 8 * s, 4)]
    if prop.kind == "bottle":  # a hot water bottle
        return [
            _el(
                "rect",
                x=x - 7,
                y=y - 11,
                width=14,
                height=22,
                rx=5,
                fill="#d9480f",
                stroke=INK,
                stroke_width=2,
            ),
            _line([(x, y - 11), (x, y - 15)], 4, INK),
        ]
    if prop.kind == "shower":
        head = [
            _line([(x, -178), (x, -168), (x + 14 * m, -160)], 4),
            _line([(x + 8 * m, -156), (x + 20 * m, -164)], 6),
        ]
        drops = [
            _line(
                [(x + (10 + 5 * i) * m, -150 + 12 * k), (x + (8 + 5 * i) * m, -144 + 12 * k)], 2.5, "#1c6fb8"
            )
            for i in range(4)
            for k in range(4)
        ]
        return head + drops
    if prop.kind == "note":  # a music note
        return [
            _el("ellipse", cx=x, cy=y, rx=6, ry=4.5, fill=INK, transform=f"rotate(-20 {_f(x)} {_f(y)})"),
            _line([(x + 5, y - 1), (x + 5, y - 26), (x + 14, y - 20)], 2.5, INK),
        ]
    if prop.kind == "tree":
        return [
            _line([(x, 0), (x, -40 * s)], 6, "#7a5230"),
            _el("circle", cx=x, cy=-55 * s, r=22 * s, fill="#cfe3c4", stroke="#3d6b2e", stroke_width=2.5),
        ]
    # mark: a small strain mark (three short lines) to show where work or warmth is felt
    return [_line([(x - 5 + 5 * i, y - 4), (x - 3 + 5 * i, y + 4)], 2, ACCENT) for i in range(3)]


def _arrow(arrow: Arrow) -> list[str]:
    (ax, ay), (cx, cy), (bx, by) = ((p[0], p[1]) for p in arrow.points)
    out = [
        _el(
            "path",
            d=f"M{_f(ax)} {_f(ay)} Q{_f(cx)} {_f(cy)} {_f(bx)} {_f(by)}",
            stroke=ACCENT,
            stroke_width=3.5,
            fill="none",
            stroke_linecap="round",
        )
    ]
    heads = [((bx, by), (cx, cy))] + ([((ax, ay), (cx, cy))] if arrow.both else [])
    for (tx, ty), (fx, fy) in heads:
        length = math.hypot(tx - fx, ty - fy) or 1.0
        d = ((tx - fx) / length, (ty - fy) / length)
        side = (-d[1], d[0])
        back = _add((tx, ty), d, -9)
        points = [_add(back, side, 6), (tx + d[0] * 2, ty + d[1] * 2), _add(back, side, -6)]
        out.append(f'<path d="{_path(points)}Z" fill="{ACCENT}"/>')
    return out


def _badge(number: int) -> str:
    return (
        f'<circle cx="13" cy="{_f(13)}" r="10" fill="{INK}"/><text x="13" y="17.5" text-anchor="middle"'
        f' font-family="sans-serif" font-size="13" font-weight="bold" fill="#ffffff">{number}</text>'
    )


def size_of(drawing: Drawing) -> tuple[int, int]:
    """Width and height of the drawing (one or two panels)."""
    return 2 * PANEL_WIDTH + GAP, drawing.height


def exercise_svg(drawing: Drawing, title: str, *, animate: bool = True) -> str:
    """The SVG document of one drawing; ``title`` (the alt text in the page's language) names it.

    ``animate``: panel 2 plays the movement (where the drawing has one); it shows the end position instead
    when the SVG is opened as a document by a viewer who asked for reduced motion. Pages choose the still
    drawing (``animate=False``) themselves with a ``<picture>`` media query, which also holds where an image's
    own media queries do not see the viewer's setting.
    """
    width, height = size_of(drawing)
    floor_y = height - FLOOR_MARGIN
    panels = 1 if drawing.end is None else 2
    animate = animate and panels == 2 and drawing.moves
    style = (
        "<style>.moving{display:none}"
        "@media (prefers-reduced-motion: no-preference){.moving{display:inline}.still{display:none}}</style>"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}"'
        f' height="{height}" role="img" aria-labelledby="t">',
        f'<title id="t">{escape(title)}</title>',
        style if animate else "",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for panel in range(1, panels + 1):
        x0 = (panel - 1) * (PANEL_WIDTH + GAP) if panels == 2 else (PANEL_WIDTH + GAP) // 2
        parts.append(f'<g transform="translate({x0} 0)">')
        if panels == 2:
            parts.append(_badge(panel))
        parts.append(f'<g transform="translate(0 {floor_y})">')
        if drawing.floor:
            parts.append(_line([(4, 0), (PANEL_WIDTH - 4, 0)], 3, INK))
        for prop in drawing.props:
            if prop.panel in (None, panel):
                parts.extend(_prop(prop))
        pose = drawing.start if panel == 1 else drawing.end
        assert pose is not None
        if panel == 2 and animate:
            parts.append('<g class="still">')
            parts.extend(_figure(drawing, body_of(pose, drawing.view)))
            parts.append('</g><g class="moving">')
            parts.extend(_animated_figure(drawing, frames(drawing)))
            parts.append("</g>")
        else:
            parts.extend(_figure(drawing, body_of(pose, drawing.view)))
        for arrow in drawing.arrows:
            if (arrow.panel or panels) == panel:
                parts.extend(_arrow(arrow))
        parts.append("</g></g>")
    if panels == 2:
        mid = height / 2
        x = PANEL_WIDTH + 8
        parts.append(
            _line([(x, mid), (x + 18, mid)], 4, INK)
            + f'<path d="M{x + 14} {_f(mid - 9)} L{x + 25} {_f(mid)} L{x + 14} {_f(mid + 9)}Z" fill="{INK}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
