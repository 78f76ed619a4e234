"""``create_app(settings)``: the web app (pages and REST API) built from settings, nothing at import time.

The process keeps no per-person state: the intake travels in signed form fields, the language in a cookie,
and anything lasting goes to the database. So several processes can run behind a load balancer, as long as
they share the database and the secret key (RUECKENLOTSE_SECRET_KEY).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .. import __version__, memory
from ..knowledge.loader import default_knowledge
from ..services.mail import Mailer
from ..services.reminders import send_due_reminders
from ..settings import Settings
from ..store import Store
from ..store.accounts import Accounts
from ..store.practices import Practices
from .deps import path_for
from .errors import ErrorShield, register_error_handlers
from .i18n import load_texts
from .render import Web
from .security.csrf import CsrfGuard
from .security.middleware import AccessLog, SecurityHeaders
from .security.session import PrincipalPreload, build_accounts
from .security.state import StateCodec

WEB_DIR = Path(str(resources.files("rueckenlotse.web")))
LOG = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The app for these settings. The Store opens on startup and closes on shutdown."""
    web = _build_web(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.open(settings.database_url)
        app.state.store = store
        app.state.accounts = build_accounts(store, settings)
        app.state.practices = Practices(store, sealer=app.state.accounts.sealer)
        trimmer = _start_trimming(settings.memory_trim_seconds)
        purger = _start_purging(settings.purge_seconds, app.state.accounts)
        reminder = _start_reminding(settings.reminder_seconds, store, app.state.mailer)
        try:
            yield
        finally:
            for task in (trimmer, purger, reminder):
                if task is not None:
                    task.cancel()
            store.close()

    app = FastAPI(
        title="Rückenlotse",
        version=__version__,
        lifespan=lifespan,
        debug=False,
        docs_url=None,  # the interactive docs load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.web = web
    app.state.mailer = Mailer(settings)
    register_error_handlers(app)
    # Added innermost first: the error shield sits inside the headers, so a 500 page gets them too.
    # Innermost: a page reads who is signed in before it runs, in the thread pool, inside the error shield
    # (an unreachable database gives the 503 page, as anywhere else).
    app.add_middleware(PrincipalPreload)
    app.add_middleware(ErrorShield)
    app.add_middleware(SecurityHeaders, https=settings.https)
    app.add_middleware(AccessLog)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    _include_routers(app)
    return app


def _start_trimming(every: float) -> asyncio.Task[None] | None:
    """Return freed memory to the system every ``every`` seconds while the app runs (``memory.trim``)."""
    if every <= 0:
        return None

    async def trim_now_and_then() -> None:
        while True:
            await asyncio.sleep(every)
            # In a worker thread: malloc_trim blocks its thread for milliseconds, never the event loop.
            await run_in_threadpool(memory.trim)

    return asyncio.get_running_loop().create_task(trim_now_and_then(), name="memory-trim")


def _start_purging(every: float, accounts: Accounts) -> asyncio.Task[None] | None:
    """Delete what has expired every ``every`` seconds while the app runs (``Accounts.purge``): the
    questionnaire's drafts hold health answers and must go when the privacy notice says, even if nobody
    writes a new one."""
    if every <= 0:
        return None

    async def purge_now_and_then() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await run_in_threadpool(accounts.purge)
            except Exception as e:  # the database away for a moment: try again next time, never stop
                LOG.warning("purging expired drafts and sessions failed: %s", type(e).__name__)

    return asyncio.get_running_loop().create_task(purge_now_and_then(), name="purge")


def _start_reminding(every: float, store: Store, mailer: Mailer) -> asyncio.Task[None] | None:
    """Send the reminder mails that fell due every ``every`` seconds (``services.reminders``), where mail
    can be sent at all. In the thread pool: it reads the database and talks to the mail server."""
    if every <= 0 or not mailer.available:
        return None

    async def remind_now_and_then() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await run_in_threadpool(send_due_reminders, store, mailer)
            except Exception as e:  # the database or mail server away for a moment: try again next time
                LOG.warning("sending reminders failed: %s", type(e).__name__)

    return asyncio.get_running_loop().create_task(remind_now_and_then(), name="reminders")


def _include_routers(app: FastAPI) -> None:
    # Imported here: both packages define routes only, and the API package belongs to the API's own layer.
    from . import api, pages

    app.include_router(pages.router)
    app.include_router(api.router, prefix="/api/v1")


def _build_web(settings: Settings) -> Web:
    secret = settings.effective_secret_key()
    kb = default_knowledge()
    environment = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Before Jinja2Templates, which only adds its own url_for (absolute URLs) when there is none.
    environment.globals["url_for"] = _template_path_for
    return Web(
        settings=settings,
        texts=load_texts(),
        templates=Jinja2Templates(env=environment),
        csrf=CsrfGuard(hashlib.sha256(b"csrf:" + secret.encode()).digest(), settings.https),
        codec=StateCodec(secret, kb.spec.knowledge_version),
        kb=kb,
        static_version=_static_version(WEB_DIR / "static"),
    )


@pass_context
def _template_path_for(context: Mapping[str, Any], name: str, /, **params: object) -> str:
    """``url_for`` in templates: the path of a named route (relative, so it holds behind any proxy)."""
    return path_for(context["request"], name, **{key: str(value) for key, value in params.items()})


def _static_version(folder: Path) -> str:
    """A short hash of the static files: their URLs change when they do, so caches never serve old ones."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]
