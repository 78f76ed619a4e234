"""Every file the CLI writes with a person's data is private (0600), whole, and never written through a link.

Backups (SQLite and PostgreSQL), exports (JSON, CSV), reports, FHIR bundles and diary charts: each is
written beside its target in a private folder and moved over it when complete (rueckenlotse.private_files).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from rueckenlotse.private_files import UnsafeTarget, private_output, write_private
from rueckenlotse.store import Store

from ..conftest import SHARED
from .conftest import populate
from .test_cli_store import assert_clean_failure, backup_file, run


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_write_private_replaces_a_readable_file_with_a_private_one(tmp_path: Path) -> None:
    target = tmp_path / "daten.json"
    target.write_text("alt", encoding="utf-8")
    target.chmod(0o644)
    write_private(target, b"neu")
    assert target.read_bytes() == b"neu" and _mode(target) == 0o600
    assert _leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "daten.json"
    target.write_text("alt", encoding="utf-8")
    with pytest.raises(RuntimeError), private_output(target) as written:
        written.write_bytes(b"halb")
        raise RuntimeError("the writer fails half-way")
    assert target.read_text(encoding="utf-8") == "alt"
    assert _leftovers(tmp_path) == []


def test_a_link_at_the_target_is_refused_and_what_it_points_to_untouched(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("bleibt", encoding="utf-8")
    link = tmp_path / "daten.json"
    link.symlink_to(elsewhere)
    with pytest.raises(UnsafeTarget) as refused:
        write_private(link, b"geheim")
    assert "symbolischer Link" in refused.value.message("de") and "symbolic link" in refused.value.message(
        "en"
    )
    assert elsewhere.read_text(encoding="utf-8") == "bleibt" and link.is_symlink()


def test_a_link_planted_while_writing_is_replaced_not_followed(tmp_path: Path) -> None:
    """The rename replaces the link itself: nothing reaches the file it points to."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("bleibt", encoding="utf-8")
    target = tmp_path / "daten.json"
    with pytest.raises(UnsafeTarget), private_output(target) as written:
        written.write_bytes(b"geheim")
        target.symlink_to(elsewhere)
    assert elsewhere.read_text(encoding="utf-8") == "bleibt"


def test_backup_is_private_and_refuses_a_link(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        populate(store, "Anna", entries=2)
    target = backup_file(tmp_path, db_url)
    proc = run("backup", target, "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    manifest = target.with_name(target.name + ".manifest.json")
    assert _mode(target) == _mode(manifest) == 0o600 and _leftovers(tmp_path) == []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    link = tmp_path / ("link" + target.suffix)
    link.symlink_to(elsewhere)
    assert_clean_failure(run("backup", link, "--db", db_url), "symbolischer Link")
    assert elsewhere.read_bytes() == b""
    # A link planted where the manifest goes: refused too, and the backup is not replaced either.
    before = target.read_bytes()
    manifest.unlink()
    manifest.symlink_to(elsewhere)
    assert_clean_failure(run("backup", target, "--db", db_url), "symbolischer Link")
    assert elsewhere.read_bytes() == b"" and target.read_bytes() == before


def test_export_files_are_private_and_refuse_a_link(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        person = populate(store, "Jürgen", entries=3)["person"]
    out, diary = tmp_path / "daten.json", tmp_path / "tagebuch.csv"
    proc = run("export", person, "-o", out, "--csv", diary, "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))
    assert (_mode(out), _mode(diary)) == (0o600, 0o600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("bleibt", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(elsewhere)
    proc = run("export", person, "-o", link, "--db", db_url, "--lang", "en")
    assert_clean_failure(proc, "symbolic link")
    assert elsewhere.read_text(encoding="utf-8") == "bleibt"


@pytest.mark.parametrize("engine_kind", ["sqlite"], indirect=True)
def test_report_chart_and_fhir_files_are_private(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        person = populate(store, "Anna", entries=4)["person"]
    chart, png = tmp_path / "verlauf.svg", tmp_path / "verlauf.png"
    proc = run("plot", person, "-o", chart, "--png", png, "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    assert (_mode(chart), _mode(png)) == (0o600, 0o600)
    vignette = json.loads((SHARED / "cases" / "v2" / "p02-acute-lifting.json").read_text(encoding="utf-8"))
    case_file = tmp_path / "fall.json"
    case_file.write_text(json.dumps(vignette["case"]), encoding="utf-8")
    report = tmp_path / "bericht.html"
    proc = run("report", case_file, "--kind", "clinician", "--format", "html", "-o", report)
    assert proc.returncode == 0, proc.stderr
    assert _mode(report) == 0o600
    bundle = tmp_path / "bundle.json"
    proc = run("fhir", "export", case_file, "-o", bundle)
    assert proc.returncode == 0, proc.stderr
    assert _mode(bundle) == 0o600 and _leftovers(tmp_path) == []
