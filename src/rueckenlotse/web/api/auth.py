"""Who calls the API: a practice's API token (``Authorization: Bearer``) or a signed-in session cookie.

Both schemes appear in the OpenAPI document (``securitySchemes``) through FastAPI's security
dependencies; the principal itself is resolved from the database for every request
(``web.security.session.api_principal_of``), so no process keeps any state.

A session cookie rides along with every browser request, also with one that another site triggers. So
an unsafe request (POST) authenticated by the cookie is accepted only when the browser says it comes
from this site (``Origin`` / ``Sec-Fetch-Site``), and only with a JSON body (which no HTML form of
another site can send without a CORS preflight, and the API grants no CORS). Clients that are not
browsers send neither header and carry no ambient credentials, so nothing is asked of them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from ...services.auth import Principal, Role
from ..security.session import api_principal_of
from .problems import ApiProblem

PRACTICE_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="practiceToken",
    description="API-Token einer Praxis (`rueckenlotse practice token`), nur lesend: Posteingang und "
    "Eingänge der eigenen Praxis. / A practice's API token, read-only: the practice's own inbox and intakes.",
)
SESSION_COOKIE = APIKeyCookie(
    name="session",
    auto_error=False,
    scheme_name="sessionCookie",
    description="Das Sitzungs-Cookie nach der Anmeldung unter /anmelden (über HTTPS heißt es "
    "`__Host-session`). Patientinnen und Patienten sehen nur ihre eigenen Daten, Praxisteams nur die "
    "Eingänge ihrer Praxis. Ändernde Anfragen mit dem Cookie nimmt die API nur von der eigenen Seite an. / "
    "The session cookie after signing in at /anmelden (`__Host-session` over HTTPS). Patients see only "
    "their own data, clinicians only their practice's intakes. Changes with the cookie are accepted only "
    "from this site.",
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of a request the user made on this site, or typed in themselves.
_OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def _uses_bearer(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def check_same_site(request: Request) -> None:
    """ApiProblem("cross-site") for a browser request that another site made."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in _OWN_FETCH_SITES:
        raise ApiProblem("cross-site")
    origin = request.headers.get("origin")
    if origin is not None and origin != _origin_of(request):
        raise ApiProblem("cross-site")


def api_principal(
    request: Request,
    _token: Annotated[HTTPAuthorizationCredentials | None, Security(PRACTICE_TOKEN)],
    _cookie: Annotated[str | None, Security(SESSION_COOKIE)],
) -> Principal:
    """Dependency: the signed-in principal of this request; 401 for anyone else.

    A clinician still missing the second factor is not signed in. A request with a bearer token is
    judged by the token alone, even if it also carries a cookie.
    """
    principal = api_principal_of(request)
    if principal.role is Role.anonymous or principal.second_factor_pending:
        raise ApiProblem("unauthorized")
    if request.method not in SAFE_METHODS and not _uses_bearer(request):
        check_same_site(request)
    return principal


SignedIn = Annotated[Principal, Depends(api_principal)]
