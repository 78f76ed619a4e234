"""The diary plot: SVG and PNG files with German labels, milestones and escalations marked."""

from __future__ import annotations

import struct
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.plan.trends import Escalation, follow_up_report

from . import T0, case, entry


def plot_diary(*args: Any, **kwargs: Any) -> None:
    """reports.plots.plot_diary, imported when a test draws: matplotlib is not loaded at collection."""
    from rueckenlotse.reports.plots import plot_diary as draw

    draw(*args, **kwargs)


MILESTONES = [
    (T0.date() + timedelta(days=14), "Zwei Wochen geschafft"),
    (T0.date() + timedelta(days=42), "Ziel: 30 Minuten gehen"),
]


def _twelve_weeks() -> list[DiaryEntry]:
    """84 days, pain in two regions without improvement, two entries on every third day, one warning sign."""
    entries = []
    for day in range(84):
        for hours in (0, 10) if day % 3 == 0 else (0,):
            entries.append(
                entry(
                    day + hours / 24,
                    {"low_back": 6 + (-1, 0, 1, 0)[day % 4], "neck": 3 + (0, 1, -1)[day % 3]},
                    activity_minutes=20 + (day * 7) % 40,
                    pain_reach="buttock_thigh",
                    warning_signs=["night_pain"] if day == 50 and hours == 0 else [],
                )
            )
    return entries


def _escalations(entries: list[DiaryEntry]) -> list[Escalation]:
    return follow_up_report(entries, case=case(), assessed_at=T0).escalations


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_svg_and_png_show_pain_activity_milestones_and_escalations_in_german(tmp_path: Path) -> None:
    entries = _twelve_weeks()
    escalations = _escalations(entries)
    assert [e.due_week for e in escalations] == [4, 6, 12]
    svg, png = tmp_path / "tagebuch.svg", tmp_path / "tagebuch.png"
    plot_diary(entries, escalations=escalations, milestones=MILESTONES, svg_path=svg, png_path=png)
    text = svg.read_text(encoding="utf-8")
    for label in (
        "Ihr Tagebuch: Schmerz und Bewegung",
        "02.03.2026 – 24.05.2026",
        "Schmerz (0 bis 10)",
        "Bewegung (Minuten am Tag)",
        "Datum",
        "Unterer Rücken",
        "Nacken",
        "Etappe im Plan",
        "Nächster Schritt nötig",
        "Warnzeichen eingetragen",
        "Woche 4: Risiko prüfen",
        "Woche 6: Arzt oder Physio",
        "Woche 12: Rat vom Team",
        "Zwei Wochen geschafft",
        "Ziel: 30 Minuten gehen",
        "15.03.",  # German date format on the axis
    ):
        assert label in text, label
    width, height = _png_size(png)
    assert (width, height) == (1650, 1275)
    assert 40_000 < png.stat().st_size < 2_000_000


def test_english_labels(tmp_path: Path) -> None:
    entries = _twelve_weeks()
    svg = tmp_path / "diary.svg"
    plot_diary(entries, escalations=_escalations(entries), lang="en", svg_path=svg)
    text = svg.read_text(encoding="utf-8")
    for label in ("Pain (0 to 10)", "Activity (minutes a day)", "Lower back", "Week 4: check risk", "15/03"):
        assert label in text, label
    assert "Schmerz" not in text and "Etappe" not in text


def test_the_same_diary_gives_the_same_svg(tmp_path: Path) -> None:
    entries = _twelve_weeks()
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    for path in (first, second):
        plot_diary(entries, escalations=_escalations(entries), milestones=MILESTONES, svg_path=path)
    assert first.read_bytes() == second.read_bytes()
    assert "<dc:date>" not in first.read_text(encoding="utf-8")


def test_a_short_diary_with_events_on_one_day_and_outside_the_entries(tmp_path: Path) -> None:
    # Episode 13 weeks old: all three escalations on the first day with two separate weeks of at least
    # 3 entries each (day 13); a milestone after the last entry.
    entries = [entry(d, {"thoracic": 5}) for d in range(16)]
    escalations = follow_up_report(entries, case=case(13), assessed_at=T0).escalations
    assert {e.on for e in escalations} == {T0.date() + timedelta(days=13)}
    assert len(escalations) == 3
    png, svg = tmp_path / "kurz.png", tmp_path / "kurz.svg"
    plot_diary(
        entries,
        escalations=escalations,
        milestones=[(date(2026, 3, 20), "Etappe")],
        png_path=png,
        svg_path=svg,
    )
    assert _png_size(png) == (1650, 1275)
    assert "Mitte des Rückens" in svg.read_text(encoding="utf-8")


def test_nothing_to_plot_or_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no entries"):
        plot_diary([], svg_path=tmp_path / "x.svg")
    with pytest.raises(ValueError, match="lang"):
        plot_diary(_twelve_weeks(), lang="fr", svg_path=tmp_path / "x.svg")
    assert not (tmp_path / "x.svg").exists()


def test_no_file_is_written_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plot_diary(_twelve_weeks()[:5])
    assert list(tmp_path.iterdir()) == []
