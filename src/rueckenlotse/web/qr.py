"""QR codes as inline SVG (segno): drawn on the server, so the page loads nothing from elsewhere.

The only use is the TOTP set-up, whose otpauth:// URI carries the secret: it must never reach a third-party
QR service, nor a file that a cache could keep. The SVG goes straight into the page.
"""

from __future__ import annotations

import segno
from markupsafe import Markup, escape


def qr_svg(data: str, label: str) -> Markup:
    """The QR code of ``data`` as an inline ``<svg>`` with an accessible name (``label``).

    Black on white with the quiet zone the standard asks for: some phone cameras fail on dark themes.
    """
    code = segno.make(data, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="qr-code", omitsize=True)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))
