"""What every FHIR builder shares: our URLs, deterministic ids, translations and validation.

Every resource is built as plain JSON data and then parsed with the ``fhir.resources`` R4B model of
its type; what we hand on is that model's own serialisation, so nothing leaves this package that
``fhir.resources`` would not accept.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from ...core.models import Case

BASE = "https://rueckenlotse.example/fhir"
QUESTIONNAIRE_URL = f"{BASE}/Questionnaire/intake"
CODESYSTEM_BASE = f"{BASE}/CodeSystem"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# Every id is a UUIDv5 in this namespace: the same case always gives the same ids.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)

Json = dict[str, Any]


def codesystem(name: str) -> str:
    """The URL of one of our CodeSystems (a Case field path or a vocabulary such as "triage")."""
    return f"{CODESYSTEM_BASE}/{name.replace('.', '-').replace('_', '-')}"


def case_key(case: Case) -> str:
    """The case content in one canonical form: the name the UUIDv5 ids are made from."""
    return json.dumps(case.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def uuid_for(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def resource_id(case: Case, kind: str) -> str:
    return uuid_for(f"{kind}:{case_key(case)}")


def urn(resource_id_: str) -> str:
    return f"urn:uuid:{resource_id_}"


def reference(resource: Json) -> Json:
    """A reference to a resource of the same Bundle (its fullUrl is the urn:uuid of its id)."""
    return {"reference": urn(str(resource["id"]))}


def instant(at: dt.datetime) -> str:
    """An ISO timestamp with time zone (FHIR instant / dateTime); naive times are taken as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return aware.isoformat()


def translation(en: str) -> Json:
    """The primitive extension (``_text``, ``_display``, ``_title``) that carries the English text."""
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [{"url": "lang", "valueCode": "en"}, {"url": "content", "valueString": en}],
            }
        ]
    }


def coding(system: str, code: str, display: str | None = None) -> Json:
    out: Json = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def validated(resource: Json) -> Json:
    """The resource after parsing with its ``fhir.resources`` R4B model (raises if it is not valid)."""
    model = get_fhir_model_class(str(resource["resourceType"]))
    parsed = model.model_validate(resource)
    data: Json = json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True))
    return data
