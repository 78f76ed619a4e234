"""The ``serve`` command: the web app on uvicorn, on SQLite in the data folder unless told otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import cli_text, fail

if TYPE_CHECKING:
    from ..settings import Settings


def _t(key: str, **values: object) -> str:
    # The server's own messages are German; the web pages switch language per visitor.
    return cli_text(f"serve.{key}", "de", **values)


def log_config() -> dict[str, Any]:
    """Uvicorn's logging with its access log replaced by the app's own (method, path, status only)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "rueckenlotse": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _settings(host: str | None, port: int | None, db: str | None) -> Settings:
    """Settings with the command's options, checked before the server binds (a clear message, exit 2)."""
    from ..settings import Settings
    from ..store import Store, StoreError
    from ..store.sealing import sealer_for

    given: dict[str, Any] = {"host": host, "port": port, "database_url": db}
    try:
        settings = Settings(**{name: value for name, value in given.items() if value is not None})
        settings.effective_secret_key()
        sealer_for(settings)  # the data keys: made on first use, or checked when set
        Store.open(settings.database_url).close()  # creates or upgrades the schema once, up front
    except StoreError as e:
        fail(_t("cannot_start"), [e.message("de")])
    except (ValueError, OSError) as e:
        fail(_t("cannot_start"), [str(e)])
    return settings


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port to listen on (default 8000).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: DATABASE_URL or the SQLite file in the data folder)."
        ),
    ] = None,
) -> None:
    """Start the web app: the assessment in the browser, German with an English switch.

    Example: rueckenlotse serve --port 8080
    """
    import uvicorn
    from sqlalchemy.engine import make_url

    from .. import memory
    from ..web.app import create_app

    settings = _settings(host, port, db)
    trusted = [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]
    # Before uvicorn starts the thread pool: arenas made earlier stay (memory.py says why).
    memory.limit_arenas(settings.malloc_arenas)
    started_line = _t("running", url=_url(settings.host, settings.port))
    data_line = _t("data", db=make_url(settings.database_url).render_as_string(hide_password=True))

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # only once the port is really open
                typer.echo(started_line, err=True)
                typer.echo(data_line, err=True)

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=log_config(),
        server_header=False,
        # Only the proxies named in the settings may say who the client is: the client address keys the
        # sign-in throttles, and uvicorn on its own would believe X-Forwarded-For from 127.0.0.1 (any
        # local process, or a proxy that passes the header on unchecked).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
    Server(config).run()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
