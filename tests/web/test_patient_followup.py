"""Contract 2 follow-up on the web: a red flag from the diary stands on the diary and plan pages until the
patient answers "Ein Arzt hat mich deswegen untersucht"."""

from __future__ import annotations

import httpx
import pytest

from .test_patient import client, diary_entry, new_patient  # noqa: F401  (client is a fixture)

EXAM = 'name="examined_by_doctor"'


@pytest.mark.safety("SR-FU-1")
def test_a_diary_red_flag_stands_until_the_examination_is_recorded(client: httpx.Client) -> None:  # noqa: F811
    new_patient(client)
    calm = client.get("/mein-bereich/tagebuch")
    assert EXAM not in calm.text and "Warnzeichen noch nicht geklärt" not in calm.text
    fever = diary_entry(client, warning_signs=["fever"])
    assert fever.status_code == 200
    # The next entry does not tick fever again: the flag stands, the answer for the examination is offered.
    later = diary_entry(client)
    assert "Warnzeichen noch nicht geklärt" in later.text and EXAM in later.text
    assert "Ein Arzt hat mich deswegen untersucht" in later.text
    plan = client.get("/mein-bereich/plan")
    assert "Ein Warnzeichen ist noch nicht geklärt" in plan.text
    examined = diary_entry(client, examined_by_doctor="yes")
    assert examined.status_code == 200
    assert "Sie haben eingetragen: Ein Arzt hat Sie deswegen untersucht" in examined.text
    assert "Warnzeichen noch nicht geklärt" not in examined.text and EXAM not in examined.text
    assert "Ein Warnzeichen ist noch nicht geklärt" not in client.get("/mein-bereich/plan").text
