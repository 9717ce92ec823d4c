"""Process settings come from `CALLBOARD_*` environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callboard.config.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    for name in ("DATABASE_URL", "HOST", "PORT", "LOG_LEVEL", "DEMO", "SECURE_COOKIES"):
        monkeypatch.delenv(f"CALLBOARD_{name}", raising=False)


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///./callboard.db"
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8080, "info")
    assert settings.session_ttl_seconds == 8 * 3600
    assert settings.secure_cookies is False
    assert settings.login_rate_limit == 10
    assert settings.demo is False


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_PORT", "9000")
    monkeypatch.setenv("CALLBOARD_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CALLBOARD_DEMO", "true")
    settings = Settings()
    assert (settings.port, settings.log_level, settings.demo) == (9000, "debug", True)


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()
