"""Draw the web app's icons: a stylised spine (seven vertebrae on a gentle S-curve) on the brand blue.

Writes into src/rueckenlotse/web/static/:
  icon-192.png, icon-512.png          the "any" icons of the manifest (rounded square)
  icon-maskable-512.png               the maskable icon: full-bleed blue, the spine inside the safe zone
  apple-touch-icon.png                180 x 180, full-bleed (iOS rounds the corners itself)
  icon.svg                            the same drawing as a vector

No dependency: a small PNG writer (zlib) and signed-distance anti-aliasing in pure Python.
Run: python scripts/app_icons.py   (a few seconds; the files are committed)
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "src" / "rueckenlotse" / "web" / "static"
BLUE = (0x0B, 0x4F, 0x8A)  # --primary of app.css
WHITE = (0xFF, 0xFF, 0xFF)
UNIT = 512.0  # the drawing's own coordinates: a 512 x 512 square
CORNER = 96.0  # corner radius of the rounded-square background
VERTEBRAE = 7


def vertebrae(scale: float) -> list[tuple[float, float, float, float, float, float]]:
    """(centre x, centre y, half width, half height, corner radius, angle) of each vertebra, top to bottom.

    Each follows the S of the spine and is turned a little with it. ``scale`` shrinks the spine around
    the centre (the maskable icon keeps it in its safe zone).
    """
    top, bottom = 92.0, 420.0
    step = (bottom - top) / VERTEBRAE
    shapes = []
    for i in range(VERTEBRAE):
        t = (i + 0.5) / VERTEBRAE
        y = top + step * (i + 0.5)
        x = 256.0 + 34.0 * math.sin(2 * math.pi * t)  # the S of the spine
        slope = 34.0 * 2 * math.pi * math.cos(2 * math.pi * t) / (bottom - top)  # dx/dy
        half_w = 44.0 + 22.0 * t  # the lower vertebrae are larger, as in a real back
        half_h = step / 2 - 7.0
        cx = 256.0 + (x - 256.0) * scale
        cy = 256.0 + (y - 256.0) * scale
        shapes.append((cx, cy, half_w * scale, half_h * scale, 12.0 * scale, -0.3 * math.atan(slope)))
    return shapes


def rounded_box(px: float, py: float, cx: float, cy: float, hw: float, hh: float, r: float) -> float:
    """Signed distance from (px, py) to a rounded rectangle (negative inside)."""
    qx = abs(px - cx) - (hw - r)
    qy = abs(py - cy) - (hh - r)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - r


def turned_box(px: float, py: float, shape: tuple[float, float, float, float, float, float]) -> float:
    """Signed distance to a vertebra: the point turned into the vertebra's own frame."""
    cx, cy, hw, hh, r, angle = shape
    c, s = math.cos(angle), math.sin(angle)
    dx, dy = px - cx, py - cy
    return rounded_box(cx + c * dx + s * dy, cy - s * dx + c * dy, cx, cy, hw, hh, r)


def draw(size: int, *, maskable: bool) -> bytes:
    """The icon as RGBA rows (with PNG's filter byte in front of each row)."""
    per_unit = size / UNIT
    spine = vertebrae(0.72 if maskable else 1.0)
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        uy = (y + 0.5) / per_unit
        near = [s for s in spine if abs(uy - s[1]) <= s[2] * 0.5 + s[3] + 2 / per_unit]
        for x in range(size):
            ux = (x + 0.5) / per_unit
            if maskable:
                background = 1.0
            else:
                d = rounded_box(ux, uy, 256.0, 256.0, 256.0, 256.0, CORNER) * per_unit
                background = min(max(0.5 - d, 0.0), 1.0)
            white = 0.0
            for shape in near:
                d = turned_box(ux, uy, shape) * per_unit
                white = max(white, min(max(0.5 - d, 0.0), 1.0))
            rgb = [round(b + (w - b) * white) for b, w in zip(BLUE, WHITE, strict=True)]
            rows.extend((*rgb, round(255 * background)))
    return bytes(rows)


def png(size: int, rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8 bit, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def svg() -> str:
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">',
        f'<rect width="512" height="512" rx="{CORNER:g}" fill="#0b4f8a"/>',
    ]
    for cx, cy, hw, hh, r, angle in vertebrae(1.0):
        parts.append(
            f'<rect x="{cx - hw:.1f}" y="{cy - hh:.1f}" width="{2 * hw:.1f}" height="{2 * hh:.1f}" '
            f'rx="{r:.1f}" fill="#fff" transform="rotate({math.degrees(angle):.1f} {cx:.1f} {cy:.1f})"/>'
        )
    parts.append("</svg>")
    return "".join(parts) + "\n"


def main() -> None:
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
        ("apple-touch-icon.png", 180, True),
    ):
        (STATIC / name).write_bytes(png(size, draw(size, maskable=maskable)))
        print(f"wrote {name}")
    (STATIC / "icon.svg").write_text(svg(), encoding="utf-8")
    print("wrote icon.svg")


if __name__ == "__main__":
    main()
