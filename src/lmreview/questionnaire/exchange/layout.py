"""The shared vocabulary of response exchange: the tools' column names, a submission read from an export, a row to
write, and the form seen as tables (the root and one table per repeat).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lmreview.questionnaire import engine, form_types
from lmreview.questionnaire.xlsform import FormDefinition, Question

KOBO_COPY_FIELDS = (
    *("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by"),
    *("__version__", "_tags", "meta/rootUuid"),
)
KOBO_REPEAT_COLUMNS = ("_index", "_parent_table_name", "_parent_index", *(f"_submission_{f}" for f in KOBO_COPY_FIELDS))
ODK_META = (
    *("SubmissionDate", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected"),
    *("Status", "ReviewState", "DeviceID", "Edits", "FormVersion"),
)
VALIDATION_STATUS = {  # lmreview's review state -> Kobo's _validation_status
    "approved": "validation_status_approved",
    "rejected": "validation_status_not_approved",
    "has_issues": "validation_status_on_hold",
}
_ODK_REVIEW_STATES = {"approved": "approved", "rejected": "rejected", "hasIssues": "has_issues", "edited": "received"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class ImportedSubmission:
    instance_id: str  # "uuid:…" (Kobo _uuid, ODK KEY) or "xlsx:<sha256>" for a one-row-per-project workbook
    data: dict[str, Any]  # the instance document
    meta: dict[str, str]  # the source's own columns (Kobo _id, _submission_time…; ODK SubmitterName, ReviewState…)
    source: str  # "kobo" | "odk" | "xlsx"
    row: int  # the row or line of the root record, for messages
    submitted_at: dt.datetime | None  # timezone-aware, UTC
    version: str | None  # Kobo __version__ / ODK FormVersion


@dataclass
class ExportRow:
    instance_id: str
    data: dict[str, Any]
    meta: dict[str, str]
    submitted_at: dt.datetime | None
    version: str
    status: str  # draft | submitted
    review_state: str  # received | has_issues | approved | rejected
    row_id: int  # Kobo's _id


def review_state(submission: ImportedSubmission) -> str:
    """lmreview's review state from Kobo's ``_validation_status`` or ODK's ``ReviewState``."""
    by_status = {v: k for k, v in VALIDATION_STATUS.items()} if submission.source == "kobo" else _ODK_REVIEW_STATES
    column = "_validation_status" if submission.source == "kobo" else "ReviewState"
    return by_status.get(submission.meta.get(column, ""), "received")


# --- the form as tables ----------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """The root or one repeat: the table its rows go to, its fields and the repeats directly inside it."""

    question: Question | None
    fields: list[Question]
    repeats: list[Question]

    @property
    def path(self) -> str:
        return self.question.path if self.question else ""

    def rel(self, question: Question) -> str:
        return question.path[len(self.path) + 1 :] if self.path else question.path


def _table_of(children: list[Question]) -> Iterator[Question]:
    """The fields and repeats of one table: through groups, not into repeats."""
    for question in children:
        yield from _table_of(question.children) if question.type == "group" else [question]


def scope_of(definition: FormDefinition, question: Question | None) -> Scope:
    items = list(_table_of(question.children if question else definition.survey))
    return Scope(question, [q for q in items if q.type != "repeat"], [q for q in items if q.type == "repeat"])


def all_repeats(definition: FormDefinition) -> list[Question]:
    return [q for q in definition.walk() if q.type == "repeat"]


def repeat_around(definition: FormDefinition, question: Question) -> Question | None:
    """The innermost repeat holding a question (or a repeat), None at the top."""
    around = [r for r in all_repeats(definition) if r is not question and any(q is question for q in r.walk())]
    return around[-1] if around else None


def sheet_name(name: str, taken: Sequence[str] = ()) -> str:
    """The sheet name Kobo gives a section: Excel's forbidden characters become ``_``, cut to 31 characters."""
    name = re.sub(r"^'|'$", "_", re.sub(r"[\[\]:*?/\\]", "_", name)) or "_"
    candidate, number = (name if len(name) <= 31 else name[:28] + "..."), 0
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name + suffix if len(name + suffix) <= 31 else name[: 28 - len(suffix)] + "..." + suffix
    return candidate


def value_problem(definition: FormDefinition, question: Question, value: str) -> str | None:
    """What is wrong with an imported value, in the words of an import; the limits are the engine's (an answer of at
    most 10,000 characters, a 32-bit integer, a finite decimal), so nothing is imported that the web form refuses."""
    if engine.limit_error(value):
        return f"this answer has {len(value):,} characters; at most {engine.MAX_ANSWER_LENGTH:,} can be kept"
    if question.type == "integer":
        if not _INTEGER.match(value):
            return f'"{value}" is not a whole number'
        digits = value.lstrip("+-").lstrip("0") or "0"
        low, high = engine.INTEGER_RANGE
        if len(digits) > 10 or not low <= int(value) <= high:
            shown = value if len(value) <= 40 else value[:37] + "…"
            return f'"{shown}" is outside the range of a whole number ({low} to {high})'
    if question.type == "decimal":
        if not _DECIMAL.match(value):
            return f'"{value}" is not a number'
        if not math.isfinite(float(value)):
            shown = value if len(value) <= 40 else value[:37] + "…"
            return f'"{shown}" is too large for a decimal (a finite number below 1e308 in size)'
    if (problem := _special(question, value)) is not None:
        return problem
    if question.type == "rank" and (problem := engine.type_error(definition, question, value)):
        return f'"{value}" is not a ranking of the list {question.list_name}: {problem}'
    if question.type == "date":
        try:
            dt.date.fromisoformat(value if _DATE.match(value) else "")
        except ValueError:
            return f'"{value}" is not a date (YYYY-MM-DD)'
    if question.type in ("select_one", "select_multiple") and question.answers_of is None:
        options = definition.options(question.list_name)
        known = _names(options) | ({"other"} if question.or_other else set())
        bad = [t for t in ([value] if question.type == "select_one" else value.split()) if t not in known]
        if bad:
            allowed = [c.name for c in options] + (
                ["other"] if question.or_other and "other" not in _names(options) else []
            )
            verb = "is not a choice" if len(bad) == 1 else "are not choices"
            names = ", ".join(f'"{b}"' for b in bad)
            if len(allowed) > 20:  # a long list: its options are not named (50,000 villages make no message)
                return f"{names} {verb} of the list {question.list_name} ({len(allowed):,} options)"
            return f"{names} {verb} of the list {question.list_name}; allowed: {', '.join(allowed)}"
    return None


_NAMES: dict[int, tuple[list[Any], frozenset[str]]] = {}


def _names(options: list[Any]) -> frozenset[str]:
    """The option names of a list, memoised per list: every cell of an import checks against the same list."""
    kept = _NAMES.get(id(options))
    if kept is None or kept[0] is not options:
        if len(_NAMES) > 1024:
            _NAMES.clear()
        kept = _NAMES[id(options)] = (options, frozenset(c.name for c in options))
    return kept[1]


def _special(question: Question, value: str) -> str | None:
    """Times, dates and times, locations, ranges and triggers, judged as the web form judges them."""
    if question.type not in ("time", "datetime", "geopoint", "geotrace", "geoshape", "range", "trigger"):
        return None
    problem = form_types.value_error(question.type, value, question.parameters)
    return f'"{value}" is not a {question.type} answer: {problem}' if problem else None


def put(data: dict[str, Any], path: str, value: Any) -> None:
    *groups, last = path.split("/")
    for part in groups:
        data = data.setdefault(part, {})
    data[last] = value


def get_path(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def timestamp(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- CSV cells that a spreadsheet would run ---------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    """A CSV cell Excel or LibreOffice will not run as a formula (OWASP "CSV injection"): ``'`` before a cell that
    starts with ``= + - @``, a tab or a carriage return, also after leading quotes, so that :func:`unescape_formula`
    gives every cell back. A plain number (``-5``, ``+3.5``, ``1e-3``) runs nothing and stays as it is, so numeric
    answers remain numbers in the spreadsheet."""
    if text.lstrip("'").startswith(FORMULA_START) and not _DECIMAL.match(text):
        return "'" + text
    return text


def unescape_formula(text: str) -> str:
    """The cell :func:`escape_formula` was given."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START) else text
