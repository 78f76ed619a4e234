"""The web settings: the secret key from the environment or from data_dir/secret_key (0600), made once."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rueckenlotse.settings import SECRET_KEY_FILE, Settings


def test_a_key_is_made_on_first_use_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new")
    key = settings.effective_secret_key()
    path = tmp_path / "new" / SECRET_KEY_FILE
    assert len(key) >= 32 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "new").effective_secret_key() == key


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: Settings(data_dir=tmp_path).effective_secret_key(), range(16)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILE]  # no temporary files left


def test_the_environment_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUECKENLOTSE_SECRET_KEY", "k" * 40)
    assert Settings(data_dir=tmp_path).effective_secret_key() == "k" * 40
    assert not (tmp_path / SECRET_KEY_FILE).exists()
    assert "kkkk" not in repr(Settings(data_dir=tmp_path))


def test_a_short_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUECKENLOTSE_SECRET_KEY", "geheim")
    with pytest.raises(ValueError, match="at least 32"):
        Settings(data_dir=tmp_path).effective_secret_key()


def test_web_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUECKENLOTSE_HOST", "RUECKENLOTSE_PORT", "RUECKENLOTSE_HTTPS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert (settings.host, settings.port, settings.https) == ("127.0.0.1", 8000, False)
    assert settings.session_idle_minutes > 0 and settings.session_absolute_hours > 0
    monkeypatch.setenv("RUECKENLOTSE_HTTPS", "true")
    assert Settings().https is True


def test_every_setting_is_documented_in_the_user_guide() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    aliases = [str(info.validation_alias) for info in Settings.model_fields.values()]
    assert len(aliases) >= 8
    assert [alias for alias in aliases if f"`{alias}`" not in readme] == []
