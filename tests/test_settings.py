"""Settings: read from LMREVIEW_* variables (any case), the constructor's values first, a clear error for a value
of the wrong kind, and the CLI's exit code 2 for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmreview.cli.main import app
from lmreview.settings import Settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMREVIEW_SMTP_PORT", " 2525 ")
    monkeypatch.setenv("lmreview_secure_cookies", "yes")  # any case, as pydantic-settings read them
    monkeypatch.setenv("LMREVIEW_PROJECT_CODE_PATTERNS", '["P\\\\d{6}", "LM\\\\.[0-9]+"]')
    monkeypatch.setenv("LMREVIEW_SECURITY_HEADERS", "always")
    monkeypatch.setenv("LMREVIEW_DATABASE_URL", str(tmp_path / "x.db"))
    settings = Settings()
    assert settings.smtp_port == 2525
    assert settings.secure_cookies is True
    assert settings.project_code_patterns == ["P\\d{6}", "LM\\.[0-9]+"]
    assert settings.security_headers == "always"
    assert settings.database_url == f"sqlite:///{tmp_path / 'x.db'}"  # a path becomes an SQLite URL
    assert settings.invitation_days == 60
    assert settings.queue_url is None
    assert settings.log_format == "text"
    assert Settings().project_code_patterns is not Settings().project_code_patterns  # no shared default list
    monkeypatch.setenv("LMREVIEW_PROJECT_CODE_PATTERNS", "null")
    assert Settings().project_code_patterns == []


def test_the_constructor_wins_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMREVIEW_QUEUE_NAME", "from-env")
    assert Settings(queue_name="given").queue_name == "given"
    assert Settings(database_url="postgres://u@h/db").database_url == "postgresql+psycopg://u@h/db"
    assert Settings(max_upload_bytes="1024").max_upload_bytes == 1024
    with pytest.raises(ValueError, match="security_headers: 'sometimes' is not one of auto, always, never"):
        Settings(security_headers="sometimes")
    with pytest.raises(TypeError, match="unknown settings: no_such"):
        Settings(no_such=1)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LMREVIEW_SMTP_PORT", "abc", "LMREVIEW_SMTP_PORT: 'abc' is not a whole number"),
        ("LMREVIEW_SMTP_PORT", "9" * 400, "is not a whole number"),
        ("LMREVIEW_INVITATION_DAYS", "1.5", "is not a whole number"),
        ("LMREVIEW_SECURE_COOKIES", "maybe", "is not true or false"),
        ("LMREVIEW_LOG_FORMAT", "xml", "is not one of text, json"),
        ("LMREVIEW_PROJECT_CODE_PATTERNS", "P\\d+", "is not a JSON list of texts"),
        ("LMREVIEW_PROJECT_CODE_PATTERNS", "[1, 2]", "is not a JSON list of texts"),
        ("LMREVIEW_PROJECT_CODE_PATTERNS", "[" * 100_000, "is not a JSON list of texts"),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Settings()
    result = CliRunner().invoke(app, ["--db", "x.db", "portfolio", "list"])
    assert result.exit_code == 2
    assert f"bad setting: {name}" in result.output
    assert "Traceback" not in result.output


def test_secrets_are_not_printed() -> None:
    settings = Settings(secret_key="k" * 40, smtp_password="hunter2-hunter2")
    assert "k" * 40 not in repr(settings)
    assert "hunter2" not in repr(settings)
    assert settings.secret_key == "k" * 40
