"""Errors a person can act on.

Every user mistake raises a subclass of :class:`LmreviewError` carrying a human message. The CLI turns it into
one line (or one line per problem) and exit status 2; the web app into an HTML page or a JSON body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class LmreviewError(Exception):
    """Base class: a problem the user can fix. ``status`` is the HTTP status the web layer answers with."""

    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def lines(self) -> list[str]:
        return [self.message]


class NotFound(LmreviewError):
    status = 404


class Forbidden(LmreviewError):
    status = 403


class Unauthorized(LmreviewError):
    """No valid credentials: no login, or an unknown, revoked or expired API token."""

    status = 401


class Conflict(LmreviewError):
    status = 409


class StoreNeedsUpgrade(LmreviewError):
    status = 503


class DatabaseUnavailable(LmreviewError):
    """The database cannot be reached or used right now (not the user's input)."""

    status = 503


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input file, located as ``FILE:ROW:COLUMN: message``.

    ``row`` is the line of a CSV file or the row of a sheet (1 = header); 0 when the problem concerns the whole
    file, or when ``file`` names an option (``--review``), a setting or a form field: then it reads
    ``FILE: message`` (``FILE: COLUMN: message``). ``column`` is the header name, or ``-`` when no single column is
    at fault.
    """

    file: str
    row: int
    column: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        if self.row == 0:  # the whole file, an option or a setting: "bad.csv: …", "--review: …", "roster: name: …"
            column = "" if self.column == "-" else f"{self.column}: "
            return f"{self.file}: {column}{prefix}{self.message}"
        return f"{self.file}:{self.row}:{self.column}: {prefix}{self.message}"


class BadInput(LmreviewError):
    """One or more problems in an input file; nothing was written."""

    status = 422

    def __init__(self, problems: Sequence[Problem], message: str | None = None) -> None:
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity == "warning"]
        n = len(self.problems)
        super().__init__(message or f"{n} error{'s' if n != 1 else ''}; nothing was written")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]
