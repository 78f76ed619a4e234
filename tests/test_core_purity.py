"""The core is pure: importing it loads no web framework, database driver or terminal UI."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ["fastapi", "starlette", "sqlalchemy", "psycopg", "sqlite3", "typer", "rich", "yaml", "httpx"]


def test_core_imports_no_io_libraries() -> None:
    code = f"import sys, rueckenlotse.core; print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
