"""Schemathesis against the signed-in operations of the API, as their rightful callers.

The unauthenticated run (test_api_schemathesis) meets these operations only as 401s. Here every
operation under /me, /persons and /practices is called with real credentials and real ids: patient A's
session cookie and person id for /persons, clinician X's session cookie with X's practice and intake
for /practices. Path ids are fixed (a random id is only a 404); queries and bodies are generated,
valid and invalid. The same checks as the unauthenticated run apply: no 5xx, documented status codes,
media types and schemas, invalid input rejected with 4xx and valid input accepted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis

from rueckenlotse.store import Store

from .api_fixtures import API, make_app
from .api_world import seed
from .test_api_schemathesis import CHECKS, MAX_EXAMPLES

_DATA_DIR = tempfile.TemporaryDirectory(prefix="rueckenlotse-schemathesis-signed-in-")
_APP = make_app(Path(_DATA_DIR.name))
with Store.open(f"sqlite:///{_DATA_DIR.name}/db") as _store:
    _SEEDED = seed(_store)
_A = _SEEDED.parties["patient_a"]
_X = _SEEDED.parties["clinician_x"]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261127,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "parameters": {
            "path.person_id": _A.person_id,
            "path.practice_id": _X.practice_id,
            "path.intake_id": _SEEDED.intake_x,
        },
        "operations": [
            {"include-path-regex": f"^{API}/persons/", "headers": _A.headers},
            {"include-path-regex": f"^{API}/(me|practices)", "headers": _X.headers},
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP, config=CONFIG).include(
    path_regex=f"^{API}/(me|persons|practices)"
)


@pytest.fixture(scope="module", autouse=True)
def _remove_data_dir() -> Iterator[None]:
    yield
    _DATA_DIR.cleanup()


@schema.parametrize()
def test_signed_in_operations_keep_their_openapi_promises(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
