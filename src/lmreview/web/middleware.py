"""Response headers for a server on the Internet, and one log line per request.

* Always: ``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options``.
* Over HTTPS (the request's scheme, as the reverse proxy reports it, or ``LMREVIEW_SECURE_COOKIES``), or always
  with ``LMREVIEW_SECURITY_HEADERS=always``: ``Strict-Transport-Security`` and a strict
  ``Content-Security-Policy``: scripts only from lmreview's own files; style elements from its files or the
  inline blocks written in its templates (allowed by hash); style attributes, which the charts' SVG is made of.
* ``LMREVIEW_LOG_FORMAT=json``: one JSON object per request on stderr (a respondent's personal link is logged
  without its token).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmreview.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
# matplotlib writes this block into every SVG chart (report/charts.py inlines them in the pages)
MATPLOTLIB_STYLE = "*{stroke-linejoin: round; stroke-linecap: butt}"
ACCESS_LOG = "lmreview.access"
_SECRET_PATHS = re.compile(r"^/r/[^/]+")


def _hash(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode() + "'"


def inline_hashes(folder: Path = TEMPLATES) -> tuple[list[str], list[str]]:
    """CSP hashes of the inline ``<script>`` and ``<style>`` blocks written literally in the templates."""
    scripts: set[str] = set()
    styles: set[str] = {_hash(MATPLOTLIB_STYLE)}
    for template in sorted(folder.rglob("*.html")):
        source = template.read_text(encoding="utf-8")
        for tag, found in (("script", scripts), ("style", styles)):
            for attrs, body in re.findall(rf"<{tag}(\s[^>]*)?>(.*?)</{tag}>", source, flags=re.S):
                if "src=" not in (attrs or "") and "{{" not in body and "{%" not in body and body:
                    found.add(_hash(body))
    return sorted(scripts), sorted(styles)


def content_security_policy() -> str:
    scripts, styles = inline_hashes()
    return "; ".join(
        [
            "default-src 'self'",
            "script-src " + " ".join(["'self'", *scripts]),
            "style-src " + " ".join(["'self'", *styles]),
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


class SecurityHeaders:
    """Adds the headers of the module's docstring to every response."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        mode = settings.security_headers
        self.always = mode == "always"
        self.never = mode == "never"
        self.secure_cookies = settings.secure_cookies
        self.policy = content_security_policy().encode()
        self.hsts = f"max-age={settings.hsts_seconds}; includeSubDomains".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = not self.never and (self.always or self.secure_cookies or scope.get("scheme") == "https")

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if https:
                    extra += [(b"strict-transport-security", self.hsts), (b"content-security-policy", self.policy)]
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> None:
    """JSON lines on stderr for lmreview's loggers (and uvicorn's) when ``LMREVIEW_LOG_FORMAT=json``."""
    if settings.log_format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("lmreview", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO)


def loggable_path(path: str) -> str:
    """The path without a respondent's token: a log must not open anyone's questionnaire."""
    return _SECRET_PATHS.sub("/r/…", path)


class RequestLog:
    """One ``lmreview.access`` record per request: method, path, status, duration, client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOG)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            client = scope.get("client")
            fields = {
                "method": scope["method"],
                "path": loggable_path(scope["path"]),
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "client": client[0] if client else None,
            }
            self.logger.info("%s %s %s", fields["method"], fields["path"], status, extra={"fields": fields})
