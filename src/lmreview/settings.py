"""One configuration object, read from ``LMREVIEW_*`` environment variables and built on demand.

Nothing is read at import time: the CLI and ``create_app`` build a :class:`Settings` (or receive one from a test),
so tests can point lmreview at any database. A value given to the constructor wins over the environment's; names
are matched whatever their case, as pydantic-settings did (this module replaced it: importing pydantic and
pydantic-settings took 70 ms of every CLI command's start). A value that is not of its setting's kind raises a
``ValueError`` naming the variable, the value and what it should be.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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


ENV_PREFIX = "LMREVIEW_"
TRUE, FALSE = {"1", "true", "t", "yes", "y", "on"}, {"0", "false", "f", "no", "n", "off"}


@dataclass(init=False)
class Settings:
    database_url: str = DEFAULT_DATABASE
    secret_key: str | None = field(default=None, repr=False)
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
    smtp_password: str | None = field(default=None, repr=False)
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
    project_code_patterns: list[str] = field(default_factory=list)
    # Background jobs (docs/deploy.md, "Background jobs"): the queue `lmreview worker` reads. Unset: a file beside an
    # SQLite database (DATABASE.jobs), none for PostgreSQL; redis://HOST:PORT/DB for Redis; "thread" for no queue
    # (the web process runs jobs in a thread). LMREVIEW_REDIS_URL is taken when LMREVIEW_QUEUE_URL is unset.
    queue_url: str | None = None
    redis_url: str | None = None
    queue_name: str = "lmreview"  # the queue's name in Redis: one per deployment sharing a Redis server
    # When the worker sends the reminders of every open review: five crontab fields (minute hour day month weekday,
    # UTC), e.g. "0 9 * * 1" for Mondays at 09:00; unset: no scheduled reminders.
    reminder_schedule: str | None = None

    def __init__(self, **values: object) -> None:
        environ = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
        kinds = typing.get_type_hints(Settings)
        for setting in dataclasses.fields(self):
            name = setting.name
            variable = f"{ENV_PREFIX}{name.upper()}"
            if name in values:
                value = _convert(kinds[name], values.pop(name), name)
            elif variable in environ:
                value = _convert(kinds[name], environ[variable], variable)
            elif setting.default_factory is not dataclasses.MISSING:
                value = setting.default_factory()
            else:
                value = setting.default
            setattr(self, name, value)
        if values:
            raise TypeError(f"unknown settings: {', '.join(sorted(values))}")
        self.database_url = database_url(self.database_url)

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


def _convert(kind: Any, value: object, source: str) -> Any:
    """``value`` (from the constructor, or an environment variable's text) as a setting of type ``kind``."""
    options = typing.get_args(kind)
    if type(None) in options:  # optional: None stays None, anything else is read as the other type
        if value is None:
            return None
        kind = next(option for option in options if option is not type(None))
        options = typing.get_args(kind)
    text = value.strip() if isinstance(value, str) else None
    if kind is str:
        if isinstance(value, str):
            return value
    elif kind is bool:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
        raise ValueError(f"{source}: {_shown(value)} is not true or false (write 1/0, true/false, yes/no or on/off)")
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if text is not None and text.isascii() and len(text) < 20:
            try:
                return int(text)
            except ValueError:
                pass
        raise ValueError(f"{source}: {_shown(value)} is not a whole number")
    elif typing.get_origin(kind) is Literal:
        if value in options:
            return value
        raise ValueError(f"{source}: {_shown(value)} is not one of {', '.join(map(str, options))}")
    elif typing.get_origin(kind) is list:
        found = value
        if text is not None:
            try:
                found = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: a list nested thousands deep
                raise ValueError(f'{source}: {_shown(value)} is not a JSON list of texts, e.g. ["A", "B"]') from None
        if found is None:  # JSON null, as pydantic-settings read it: no patterns
            return []
        if isinstance(found, list | tuple) and all(isinstance(item, str) for item in found):
            return list(found)
        raise ValueError(f'{source}: {_shown(value)} is not a JSON list of texts, e.g. ["A", "B"]')
    raise ValueError(f"{source}: {_shown(value)} is not a text")


def _shown(value: object) -> str:
    """A value in a message: quoted, and cut after 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def get_settings(**overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)
