"""One configuration object, read from ``LMREVIEW_*`` environment variables and built on demand.

Nothing is read at import time: the CLI and ``create_app`` build a :class:`Settings` (or receive one from a test),
so tests can point lmreview at any database.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lmreview.errors import LmreviewError

DEFAULT_DATABASE = "sqlite:///./lmreview.db"
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis", "dev", "test"}


def database_url(value: str) -> str:
    """``value`` as a SQLAlchemy URL: a URL is kept, a file path becomes an SQLite URL.

    >>> database_url("reviews/idf.db")  # doctest: +ELLIPSIS
    'sqlite:///...reviews/idf.db'
    """
    value = value.strip()
    if "://" in value:
        if value.startswith("postgres://"):  # the form Heroku-style tools print
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LMREVIEW_", extra="ignore")

    database_url: str = DEFAULT_DATABASE
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    user: str | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    max_media_bytes: int = 10 * 1024 * 1024  # one file sent with the answers (a photo, a recording, a report)
    secure_cookies: bool = False
    # E-mail for invitations and reminders (see docs/questionnaires.md); without a host, use --dry-run (.eml files).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "lmreview <lmreview@localhost>"
    invitation_days: int = 60
    # Serving on a network (see docs/deploy.md): HSTS and the Content-Security-Policy go out over HTTPS ("auto"),
    # on every response ("always") or never; one JSON line per request with log_format "json".
    security_headers: Literal["auto", "always", "never"] = "auto"
    hsts_seconds: int = 365 * 24 * 3600
    log_format: Literal["text", "json"] = "text"
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-Proto/-For uvicorn believes
    # Patterns (RE2) of an organisation's project codes, read in the evidence library's documents beside the built-in
    # IOM, ILO and IATI ones; in the environment a JSON list: LMREVIEW_PROJECT_CODE_PATTERNS='["P\\d{6}"]'.
    project_code_patterns: list[str] = []
    # Background jobs (docs/deploy.md, "Background jobs"): the queue `lmreview worker` reads. Unset: a file beside an
    # SQLite database (DATABASE.jobs), none for PostgreSQL; redis://HOST:PORT/DB for Redis; "thread" for no queue
    # (the web process runs jobs in a thread). LMREVIEW_REDIS_URL is taken when LMREVIEW_QUEUE_URL is unset.
    queue_url: str | None = None
    redis_url: str | None = None
    queue_name: str = "lmreview"  # the queue's name in Redis: one per deployment sharing a Redis server
    # When the worker sends the reminders of every open review: five crontab fields (minute hour day month weekday,
    # UTC), e.g. "0 9 * * 1" for Mondays at 09:00; unset: no scheduled reminders.
    reminder_schedule: str | None = None

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return database_url(value)

    @property
    def actor(self) -> str:
        """Who the CLI acts as, for the audit log."""
        if self.user:
            return self.user
        try:
            return f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            return "cli:unknown"


def check_secret_key(value: str) -> str:
    """The web UI's session secret, when one is configured: long and not a placeholder.

    Checked when the web UI starts, not when settings load, so a bad key never blocks the CLI; the message
    never repeats the key.
    """
    if value.lower() in PLACEHOLDER_SECRETS or len(value) < 32:
        raise LmreviewError(
            "LMREVIEW_SECRET_KEY must be at least 32 random characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))"), or unset to let lmreview keep one '
            "in the database"
        )
    return value


def get_settings(**overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)  # type: ignore[arg-type]
