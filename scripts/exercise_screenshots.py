"""Screenshot every exercise drawing as a phone shows it: ``/uebungen/{id}`` in Chromium 390 px wide.

Starts ``rueckenlotse serve`` on a free port with a fresh data folder, opens the page of each exercise and
comfort item with reduced motion (the still drawing: start and end side by side) and saves the figure element
as ``artifacts/exercises/<id>.png`` (issue #17: a picture of every drawing at 390 px). Run it from the
repository:

    .venv/bin/python scripts/exercise_screenshots.py [OUT_DIR] [--lang en]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from rueckenlotse.plan.library import default_library  # noqa: E402
from serving import served  # noqa: E402 - the tests' helper that runs the server

CHROMIUM = os.environ.get("RUECKENLOTSE_CHROMIUM", "/usr/bin/chromium")
WIDTH = 390


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "artifacts" / "exercises"))
    parser.add_argument("--lang", default="de", choices=("de", "en"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lib = default_library()
    ids = [*lib.exercises, *lib.comfort]

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "RUECKENLOTSE_DATA_DIR": data}
        with served(Path(data), Path(data) / "server.log", env) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900}, reduced_motion="reduce")
            for practice_id in ids:
                response = page.goto(f"{url}/uebungen/{practice_id}?lang={args.lang}")
                if response is None or response.status != 200:
                    print(f"{practice_id}: HTTP {response.status if response else '-'}", file=sys.stderr)
                    return 1
                figure = page.locator("figure.exercise-figure")
                figure.locator("img").evaluate("img => img.decode()")
                figure.screenshot(path=str(out / f"{practice_id}.png"))
            browser.close()
    print(f"{len(ids)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
