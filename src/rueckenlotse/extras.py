"""Which extra of the package brings which library, and the one-line message when one is missing.

The core install (``pip install rueckenlotse``) has only what ``assess`` needs: Pydantic, PyYAML and Babel.
Every other library the code imports belongs to one extra of ``pyproject.toml`` (``cli``, ``store``, ``web``,
``pdf`` …). A command whose library is missing ends with :func:`missing_extra_message` instead of a
traceback (``rueckenlotse.__main__``). ``tests/test_extras.py`` checks that every library imported anywhere
in the package is either core or listed here, and that the extra named here declares it.

Imports nothing beyond the standard library: it must work when every extra is missing.
"""

from __future__ import annotations

# The libraries of the core install, imported by the assess path (pydantic_core comes with pydantic, which
# pins its exact version).
CORE_MODULES = frozenset({"pydantic", "pydantic_core", "yaml", "babel"})

# Top-level module -> (the distribution that provides it, the extra that declares that distribution). A
# library that several extras need (Jinja2 for the PDF reports and the web pages) names the smallest extra
# that brings it; the larger one (web) includes that extra, and its own libraries are imported first.
LIBRARIES: dict[str, tuple[str, str]] = {
    "typer": ("typer", "cli"),
    "rich": ("rich", "cli"),
    "sqlalchemy": ("SQLAlchemy", "store"),
    "alembic": ("alembic", "store"),
    "pydantic_settings": ("pydantic-settings", "store"),
    "platformdirs": ("platformdirs", "store"),
    "argon2": ("argon2-cffi", "store"),
    "pyotp": ("pyotp", "store"),
    "cryptography": ("cryptography", "store"),
    "psycopg": ("psycopg", "postgres"),
    "jinja2": ("Jinja2", "pdf"),
    "markupsafe": ("MarkupSafe", "pdf"),
    "weasyprint": ("weasyprint", "pdf"),
    "matplotlib": ("matplotlib", "plot"),
    "bm25s": ("bm25s", "ask"),
    "Stemmer": ("PyStemmer", "ask"),
    "numpy": ("numpy", "ask"),
    "fhir": ("fhir.resources", "fhir"),
    "duckdb": ("duckdb", "batch"),
    "pyarrow": ("pyarrow", "batch"),
    "pyspark": ("pyspark", "spark"),
    "fastapi": ("fastapi", "web"),
    "starlette": ("starlette", "web"),
    "uvicorn": ("uvicorn", "web"),
    "itsdangerous": ("itsdangerous", "web"),
    "segno": ("segno", "web"),
    "icalendar": ("icalendar", "web"),
}

# Exit code of a command whose extra is missing: the CLI's code for "cannot do this here" (cli.common).
EXIT_MISSING_EXTRA = 2


def extra_for(module: str | None) -> str | None:
    """The extra that brings ``module`` (or a submodule of it), or None for a module of no extra."""
    library = LIBRARIES.get((module or "").partition(".")[0])
    return library[1] if library else None


def install_command(extra: str) -> str:
    """What to type to add an extra."""
    return f"pip install 'rueckenlotse[{extra}]'"


def missing_extra_message(module: str) -> str:
    """One line, German then English, naming the missing library and the extra that brings it."""
    library = LIBRARIES.get(module.partition(".")[0])
    if library is None:
        raise ValueError(f"{module!r} belongs to no extra")
    distribution, extra = library
    return (
        f"Diese Funktion braucht das Extra „{extra}“ ({distribution} fehlt) / "
        f"this feature needs the extra '{extra}' ({distribution} is missing): {install_command(extra)}"
    )
