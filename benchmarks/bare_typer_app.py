"""A bare two-command Typer app: the start-up yardstick for `rueckenlotse --help` (cli_startup.py)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Bare two-command Typer app (start-up baseline).", add_completion=False)


@app.command()
def hello(name: str) -> None:
    """Say hello."""
    typer.echo(f"Hello {name}")


@app.command()
def goodbye(name: str, formal: bool = False) -> None:
    """Say goodbye."""
    typer.echo(f"Goodbye {name}" if not formal else f"Farewell, {name}")


if __name__ == "__main__":
    app()
