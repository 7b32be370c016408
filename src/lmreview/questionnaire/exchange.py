"""Submissions in and out: KoboToolbox and ODK Central exports, and a filled one-row-per-project workbook.

A submission is one JSON document shaped like the XForm instance: a group is a dict, a repeat a list of dicts, a
value the string the XForm holds ("3", "2024-05-01", "covid19 funding"). :func:`read_responses` turns an export back
into such documents and reports every value that does not fit the form at ``FILE:ROW:COLUMN``; nothing is dropped
silently. :func:`write_responses` writes KoboToolbox's "XML values and headers" layout, which Kobo users know and
:func:`read_responses` reads back unchanged. The layouts follow the tools' code (docs/research/kobo-odk-exports.md):

* KoboToolbox (kpi + formpack): question names as headers, group paths joined by ``/`` when "Include groups in
  headers" is on; a select_multiple gives a summary column and one 0/1 column per option (``q/option``); the main
  sheet ends with ``_id … meta/rootUuid, _index``; each repeat is a sheet named after the repeat (cut to 31
  characters) whose rows point at their parent's ``_index`` with ``_parent_index``, then ``_submission_<field>``
  copies. CSV: ``;``, every field quoted, CRLF, UTF-8 without BOM, main table only.
* ODK Central: ``SubmissionDate``, the fields with group paths joined by ``-``, ``KEY, SubmitterID … FormVersion``;
  the zip holds ``<form_id>.csv`` and ``<form_id>-<repeat>.csv``, whose rows carry ``PARENT_KEY`` and ``KEY``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmreview.errors import BadInput, LmreviewError, Problem
from lmreview.questionnaire.xlsform import FormDefinition, Question
from lmreview.tables import MAX_RATIO, MAX_UNCOMPRESSED, Table, read_sheets, read_table, read_workbook

KOBO_COPY_FIELDS = (
    *("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by"),
    *("__version__", "_tags", "meta/rootUuid"),
)
KOBO_REPEAT_COLUMNS = ("_index", "_parent_table_name", "_parent_index", *(f"_submission_{f}" for f in KOBO_COPY_FIELDS))
_KOBO_META = {
    *KOBO_COPY_FIELDS,
    *("meta/instanceID", "meta/deprecatedID", "formhub/uuid", "_xform_id_string", "_attachments", "_geolocation"),
    *("_duration", "_media_count", "_total_media", "_media_all_received", "_version_"),
    *("start", "end", "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber", "audit"),
}
ODK_META = (
    *("SubmissionDate", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected"),
    *("Status", "ReviewState", "DeviceID", "Edits", "FormVersion"),
)
_ODK_META = {*ODK_META, "instanceID", "instanceName", "deprecatedID"}
VALIDATION_STATUS = {  # lmreview's review state -> Kobo's _validation_status
    "approved": "validation_status_approved",
    "rejected": "validation_status_not_approved",
    "has_issues": "validation_status_on_hold",
}
_ODK_REVIEW_STATES = {"approved": "approved", "rejected": "rejected", "hasIssues": "has_issues", "edited": "received"}
MAX_MEMBERS = 1000
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE, _FALSE = {"1", "true", "TRUE", "True"}, {"", "0", "false", "FALSE", "False"}
_NO_REPEATS = ", which a table of one row per submission cannot hold; it is not imported"


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
class _Scope:
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


def _scope(definition: FormDefinition, question: Question | None) -> _Scope:
    items = list(_table_of(question.children if question else definition.survey))
    return _Scope(question, [q for q in items if q.type != "repeat"], [q for q in items if q.type == "repeat"])


def _all_repeats(definition: FormDefinition) -> list[Question]:
    return [q for q in definition.walk() if q.type == "repeat"]


def _repeat_around(definition: FormDefinition, question: Question) -> Question | None:
    """The innermost repeat holding a question (or a repeat), None at the top."""
    around = [r for r in _all_repeats(definition) if r is not question and any(q is question for q in r.walk())]
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


def _value_problem(definition: FormDefinition, question: Question, value: str) -> str | None:
    if question.type == "integer" and not _INTEGER.match(value):
        return f'"{value}" is not a whole number'
    if question.type == "decimal" and not _DECIMAL.match(value):
        return f'"{value}" is not a number'
    if question.type == "date":
        try:
            dt.date.fromisoformat(value if _DATE.match(value) else "")
        except ValueError:
            return f'"{value}" is not a date (YYYY-MM-DD)'
    if question.type in ("select_one", "select_multiple"):
        allowed = [c.name for c in definition.choices.get(question.list_name or "", [])]
        allowed += ["other"] if question.or_other and "other" not in allowed else []
        bad = [t for t in ([value] if question.type == "select_one" else value.split()) if t not in allowed]
        if bad:
            verb = "is not a choice" if len(bad) == 1 else "are not choices"
            names = ", ".join(f'"{b}"' for b in bad)
            return f"{names} {verb} of the list {question.list_name}; allowed: {', '.join(allowed)}"
    return None


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *groups, last = path.split("/")
    for part in groups:
        data = data.setdefault(part, {})
    data[last] = value


def _get(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _timestamp(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- reading ---------------------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    name: str  # sheet name, zip member name, or the file name
    file: str  # how problems name it
    table: Table


@dataclass
class _Column:
    index: int
    header: str
    kind: str  # value | note | option | meta | link | inner (a field of a repeat in a table that cannot hold it)
    question: Question | None = None
    rel: str = ""  # the question's path in the table's record; for "inner", the repeat's name
    choice: str = ""


@dataclass
class _Record:
    row: int
    data: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


def _open_zip(data: bytes, filename: str) -> zipfile.ZipFile:
    def refuse(message: str) -> BadInput:
        return BadInput([Problem(filename, 0, "-", message)])

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refuse("this zip file is damaged and cannot be opened") from None
    if len(infos) > MAX_MEMBERS:
        raise refuse(f"refused: the zip holds {len(infos)} files (limit {MAX_MEMBERS})")
    if (total := sum(info.file_size for info in infos)) > MAX_UNCOMPRESSED:
        raise refuse(f"refused: the zip expands to {total // 1024 // 1024} MiB")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refuse(f"refused: {info.filename} expands {info.file_size // max(info.compress_size, 1)} times")
    return archive


def _sheets(data: bytes, filename: str) -> tuple[str, list[_Sheet]]:
    """The tables of the file: ("xlsx", sheets) for a workbook, ("zip", CSV members) or ("csv", [the table])."""
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a zip starts with a member or, empty, its end
        return "csv", [_Sheet(filename, filename, read_table(data, filename))]
    sheets = []
    with _open_zip(data, filename) as archive:
        if "[Content_Types].xml" in archive.namelist():
            try:
                tables = read_workbook(data, filename)
            except BadInput:  # a later sheet may be free text (instructions): a filled workbook needs only the first
                first, (name, _) = read_table(data, filename), read_sheets(data, filename, first_only=True)[0]
                if _detect(first.header) is not None:
                    raise
                tables = {name: first}
            return "xlsx", [_Sheet(name, f"{filename}:{name}", table) for name, table in tables.items()]
        for info in archive.infolist():
            name = info.filename
            if not name.lower().endswith(".csv") or name.startswith(("media/", "files/")) or " - audit" in name:
                continue
            try:
                with archive.open(info) as member:
                    content = member.read(MAX_UNCOMPRESSED + 1)
            except Exception as exc:  # zlib, CRC and truncation errors all mean a damaged member
                raise BadInput([Problem(filename, 0, "-", f"{name} cannot be read ({type(exc).__name__})")]) from None
            sheets.append(_Sheet(name, f"{filename}:{name}", read_table(content, f"{filename}:{name}")))
    if not sheets:
        raise BadInput([Problem(filename, 0, "-", "this zip file holds no CSV table")])
    return "zip", sheets


def _detect(header: list[str]) -> str | None:
    names = set(header)
    if names & {"SubmissionDate", "KEY", "ReviewState", "SubmitterID", "FormVersion", "meta-instanceID"}:
        return "odk"
    if names & {"_uuid", "_id", "_submission_time", "_index", "__version__", "_validation_status", "meta/instanceID"}:
        return "kobo"
    return None


class _Reader:
    def __init__(self, definition: FormDefinition, filename: str) -> None:
        self.definition = definition
        self.filename = filename
        self.problems: list[Problem] = []
        fields = [q for q in definition.walk() if q.type not in ("group", "repeat")]
        counts = Counter(q.name for q in fields)
        self.unique = {q.name: q for q in fields if counts[q.name] == 1}
        self.labels = {_norm(text) for q in definition.walk() for text in q.labels.values()}

    def error(self, file: str, row: int, column: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(file, row, column, message, severity))

    def names(self, scope: _Scope, fields: list[Question]) -> dict[str, Question]:
        """Every header that names one of ``fields``: full path, path below the table (``/`` or ``-``), bare name."""
        names: dict[str, Question] = {}
        for question in fields:
            inside = not scope.path or question.path.startswith(scope.path + "/")
            rel = scope.rel(question) if inside else question.path
            for key in (question.path, rel, rel.replace("/", "-")):
                names.setdefault(key, question)
        for question in fields:
            if self.unique.get(question.name) is question:
                names.setdefault(question.name, question)
        return names

    @staticmethod
    def meta_kind(header: str, source: str, root: bool) -> str | None:
        if source == "kobo":
            if root and header in _KOBO_META:
                return "meta"
            links = header in ("_index", "_parent_index", "_parent_table_name") or header.startswith("_submission_")
            return "link" if links else None
        if source == "odk" and not root:
            return "link" if header in ("PARENT_KEY", "KEY") else None
        if source == "odk":
            return "meta" if header in _ODK_META or header.startswith("meta-") else None
        return None

    def columns(self, sheet: _Sheet, scope: _Scope, source: str) -> list[_Column]:
        names = self.names(scope, scope.fields)
        inner = self.names(scope, [q for r in scope.repeats for q in r.walk() if q.type not in ("group", "repeat")])
        columns: list[_Column] = []
        unknown: list[str] = []
        labels = 0
        for index, header in enumerate(sheet.table.header):
            base, _, choice = header.rpartition("/")
            question, kind = names.get(header), self.meta_kind(header, source, scope.question is None)
            if question is not None:
                kind = "note" if question.type == "note" else "value"
                columns.append(_Column(index, header, kind, question, scope.rel(question)))
            elif base in names and names[base].type == "select_multiple":
                columns.append(_Column(index, header, "option", names[base], scope.rel(names[base]), choice))
            elif kind is not None:
                columns.append(_Column(index, header, kind))
            elif header in inner:
                repeat = _repeat_around(self.definition, inner[header])
                columns.append(_Column(index, header, "inner", inner[header], repeat.name if repeat else ""))
            elif header:
                unknown.append(header)
                labels += _norm(header) in self.labels or _norm(header.rsplit("/", 1)[-1]) in self.labels
        if labels and labels >= sum(1 for c in columns if c.question is not None):
            how = "export again from KoboToolbox with 'XML values and headers'"
            how = how if source == "kobo" else "use the question names (the name column of the form) as headers"
            message = f"the headers are question labels, not names; {how}"
            raise BadInput([Problem(sheet.file, sheet.table.header_row, "-", message)])
        for column in columns:
            if column.kind == "inner":
                message = f"this column belongs to the repeat {column.rel}{_NO_REPEATS}"
                self.error(sheet.file, sheet.table.header_row, column.header, message, "warning")
        for header in unknown:
            message = f"unknown column {header}: no question of the form {self.definition.form_id} has this name"
            self.error(sheet.file, sheet.table.header_row, header, message + "; its values are not imported", "warning")
        return columns

    def record(self, sheet: _Sheet, columns: list[_Column], number: int, cells: list[str]) -> _Record:
        record = _Record(number)
        summaries = {c.question.path: c for c in columns if c.kind == "value" and c.question is not None}
        options: dict[str, tuple[_Column, list[str], set[str]]] = {}
        for column in columns:
            value, question = cells[column.index], column.question
            if column.kind == "meta" and value:
                record.meta[column.header] = value
            elif column.kind == "link":
                record.links[column.header] = value
            elif column.kind == "value" and value and question is not None:
                if problem := _value_problem(self.definition, question, value):
                    self.error(sheet.file, number, column.header, problem)
                _put(record.data, column.rel, value)
            elif column.kind == "option" and question is not None:
                _, selected, covered = options.setdefault(question.path, (column, [], set()))
                covered.add(column.choice)
                if value in _TRUE:
                    selected.append(column.choice)
                    problem = _value_problem(self.definition, question, column.choice)
                    if question.path not in summaries and problem:
                        self.error(sheet.file, number, column.header, f"{problem}; this column is not imported")
                elif value not in _FALSE:
                    self.error(sheet.file, number, column.header, f'"{value}" is neither 1 (selected) nor 0')
            elif column.kind == "inner" and value:
                message = f'"{value}" is an answer in the repeat {column.rel}{_NO_REPEATS}'
                self.error(sheet.file, number, column.header, message)
        for path, (first, selected, covered) in options.items():
            summary, question = summaries.get(path), first.question
            if summary is None and question is not None:  # "Separate columns" only: the value is the 1s
                chosen = [c for c in selected if not _value_problem(self.definition, question, c)]
                if chosen:
                    _put(record.data, first.rel, " ".join(chosen))
            elif summary and set((said := cells[summary.index]).split()) & covered != set(selected):
                message = f'the option columns {summary.header}/… say "{" ".join(selected)}" but {summary.header}'
                message += f' says "{said}"; {summary.header} is kept'
                self.error(sheet.file, number, summary.header, message, "warning")
        return record

    def instance_id(self, record: _Record, source: str, code: Question | None) -> tuple[str, str]:
        """The instance ID of a root record and the column it comes from ("" when it has none)."""
        meta = record.meta
        if source in ("kobo", "odk"):
            candidates = ("_uuid", "meta/instanceID", "meta/rootUuid")
            for column in candidates if source == "kobo" else ("KEY", "meta-instanceID", "instanceID"):
                if value := meta.get(column):
                    return (value if ":" in value else f"uuid:{value}"), column
            return "", "_uuid" if source == "kobo" else "KEY"
        value, column = (_get(record.data, code.path), code.name) if code else (None, "project_code")
        if not isinstance(value, str) or not value:
            return "", column
        return f"xlsx:{hashlib.sha256(f'{self.definition.form_id}:{value}'.encode()).hexdigest()}", column

    def read(self, container: str, sheets: list[_Sheet]) -> list[ImportedSubmission]:
        if not sheets:
            raise BadInput([Problem(self.filename, 0, "-", "the workbook has no table")])
        root = sheets[0]
        if container == "zip":  # the table without links to a parent, <form_id>.csv first
            roots = [s for s in sheets if not {"PARENT_KEY", "_parent_index"} & set(s.table.header)] or sheets
            root = sorted(roots, key=lambda s: s.name.rsplit("/", 1)[-1] != f"{self.definition.form_id}.csv")[0]
        source = _detect(root.table.header)
        if source is None and container != "xlsx":
            message = "this table is neither a KoboToolbox export (no _uuid, _submission_time… column) nor an ODK "
            message += "Central export (no KEY, SubmissionDate… column); a filled one-row-per-project table must be an"
            raise BadInput([Problem(root.file, root.table.header_row, "-", message + " XLSX workbook")])
        source = source or "xlsx"
        others = [] if source == "xlsx" else [s for s in sheets if s is not root]
        if source == "odk" and container == "zip" and root.name.rsplit("/", 1)[-1] != f"{self.definition.form_id}.csv":
            message = f"the zip holds the export of {root.name}, not of the form {self.definition.form_id}"
            self.error(self.filename, 0, "-", message, "warning")
        columns = self.columns(root, _scope(self.definition, None), source)
        code = next((q for q in self.definition.walk() if q.name == "project_code"), None)
        submissions: list[ImportedSubmission] = []
        seen: dict[str, int] = {}
        keyed: dict[str, dict[str, _Record]] = {"": {}}
        for number, cells in root.table.rows:
            record = self.record(root, columns, number, cells)
            instance_id, id_column = self.instance_id(record, source, code)
            keyed[""].setdefault(record.links.get("_index") or record.meta.get("KEY") or instance_id, record)
            if not instance_id:
                self.error(root.file, number, id_column, f"this row has no {id_column}, so it cannot be imported")
                continue
            if instance_id in seen:
                self.error(root.file, number, id_column, f"{instance_id} is already on row {seen[instance_id]}")
                continue
            seen[instance_id] = number
            raw_time = record.meta.get("_submission_time") or record.meta.get("SubmissionDate") or ""
            if (submitted_at := _timestamp(raw_time) if raw_time else None) is None and raw_time:
                column = "_submission_time" if source == "kobo" else "SubmissionDate"
                self.error(root.file, number, column, f'"{raw_time}" is not a date and time', "warning")
            version = record.meta.get("__version__") or record.meta.get("FormVersion") or None
            submissions.append(
                ImportedSubmission(instance_id, record.data, record.meta, source, number, submitted_at, version)
            )
        used = self.read_repeats(others, source, keyed)
        for sheet in (s for s in others if s not in used):
            self.error(sheet.file, 0, "-", "this table matches no repeat of the form; it is not imported", "warning")
        return submissions

    def read_repeats(self, sheets: list[_Sheet], source: str, keyed: dict[str, dict[str, _Record]]) -> list[_Sheet]:
        """Attach each repeat table's rows to their parent record (the root's or an enclosing repeat's)."""
        used: list[_Sheet] = []
        link, key = ("_parent_index", "_index") if source == "kobo" else ("PARENT_KEY", "KEY")
        for repeat in _all_repeats(self.definition):
            sheet = self.sheet_for(repeat, [s for s in sheets if s not in used])
            if sheet is None:
                continue
            used.append(sheet)
            parent = _repeat_around(self.definition, repeat)
            parent_scope, parents = _scope(self.definition, parent), keyed.get(parent.path if parent else "", {})
            own = keyed.setdefault(repeat.path, {})
            columns = self.columns(sheet, _scope(self.definition, repeat), source)
            for number, cells in sheet.table.rows:
                record = self.record(sheet, columns, number, cells)
                owner = parents.get(reference := record.links.get(link, ""))
                if owner is None:
                    table = f"sheet {parent.name}" if parent else "the main table"
                    self.error(sheet.file, number, link, f'no row of {table} has {key} "{reference}"')
                    continue
                entries = _get(owner.data, parent_scope.rel(repeat))
                if not isinstance(entries, list):
                    _put(owner.data, parent_scope.rel(repeat), entries := [])
                entries.append(record.data)
                if record.links.get(key):
                    own.setdefault(record.links[key], record)
        return used

    def sheet_for(self, repeat: Question, sheets: list[_Sheet]) -> _Sheet | None:
        """The sheet (Kobo) or CSV (ODK ``<form>-<repeat>.csv``, ours ``<repeat>.csv``) holding a repeat's rows."""
        names = {repeat.name, sheet_name(repeat.name)}
        odk = re.compile(rf".*-{re.escape(repeat.name)}(~\d+)?\.csv")
        for sheet in sorted(sheets, key=lambda s: s.name):
            base = sheet.name.rsplit("/", 1)[-1]
            if base in names or base.removesuffix(".csv") in names or odk.fullmatch(base):
                return sheet
        scope = _scope(self.definition, repeat)
        known = self.names(scope, scope.fields)
        best, best_score = None, 0
        for sheet in sheets:  # a renamed sheet: the one whose headers name most of the repeat's questions
            if (score := sum(header in known for header in sheet.table.header)) > best_score:
                best, best_score = sheet, score
        return best


def read_responses(
    data: bytes, filename: str, definition: FormDefinition
) -> tuple[list[ImportedSubmission], list[Problem]]:
    """Submissions from a KoboToolbox or ODK Central export, or a filled one-row-per-project workbook.

    Raises BadInput when the file as a whole cannot be read; returns the row-level problems (errors and warnings)
    with the submissions, so the caller can refuse the whole import when any of them is an error. A workbook row
    without ids is identified by ``xlsx:`` and the SHA-256 of ``<form_id>:<project code>``, so re-imports match.
    """
    container, sheets = _sheets(data, filename)
    reader = _Reader(definition, filename)
    submissions = reader.read(container, sheets)
    return submissions, reader.problems


# --- writing ---------------------------------------------------------------------------------------------------------


@dataclass
class _Out:
    scope: _Scope
    section: str  # Kobo's section name, written in _parent_table_name
    sheet: str
    header: list[str]
    rows: list[list[str | int]] = field(default_factory=list)


class _Writer:
    def __init__(self, definition: FormDefinition, language: str | None) -> None:
        self.definition = definition
        self.language = language
        self.by_path = definition.by_path()
        self.outs: dict[str, _Out] = {}
        taken: list[str] = []
        for question in [None, *_all_repeats(definition)]:
            scope = _scope(definition, question)
            section = question.name if question else (definition.title or definition.form_id)
            taken.append(sheet_name(section, taken))
            header = [h for q in scope.fields for h in self.headers(q)]
            header += [*KOBO_COPY_FIELDS, "_index"] if question is None else list(KOBO_REPEAT_COLUMNS)
            self.outs[scope.path] = _Out(scope, section, taken[-1], header)

    def headers(self, question: Question) -> list[str]:
        header, parts = question.path, question.path.split("/")
        if self.language is not None:  # Kobo's label headers: the label of each group, then the question's
            header = "/".join(self.by_path["/".join(parts[:i])].label(self.language) for i in range(1, len(parts) + 1))
        if question.type != "select_multiple":
            return [header]
        return [header, *(f"{header}/{self.choice(question, c.name)}" for c in self.choices(question))]

    def choices(self, question: Question) -> list[Any]:
        return self.definition.choices.get(question.list_name or "", [])

    def choice(self, question: Question, name: str) -> str:
        label = self.definition.choice_label(question.list_name or "", name, self.language) if self.language else None
        return label or name

    def cells(self, scope: _Scope, data: dict[str, Any]) -> list[str | int]:
        cells: list[str | int] = []
        for question in scope.fields:
            value = _get(data, scope.rel(question))
            text = value if isinstance(value, str) else ""
            if question.type == "select_one" and text:
                text = self.choice(question, text)
            if question.type != "select_multiple":
                cells.append(text)
                continue
            tokens = text.split()
            cells.append(" ".join(self.choice(question, t) for t in tokens))
            cells += [("1" if c.name in tokens else "0") if text else "" for c in self.choices(question)]
        return cells

    def add(self, row: ExportRow) -> None:
        status = VALIDATION_STATUS.get(row.review_state, "")
        if self.language is not None:
            status = status.removeprefix("validation_status_").replace("_", " ").title()  # "Not Approved"
        when = row.submitted_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") if row.submitted_at else ""
        copies: list[str | int] = [
            *(row.row_id, row.instance_id.removeprefix("uuid:"), when, status, row.meta.get("_notes", "")),
            "submitted_via_web" if row.status == "submitted" else row.status,
            row.meta.get("_submitted_by") or row.meta.get("SubmitterName", ""),
            *(row.version, row.meta.get("_tags", ""), row.instance_id),
        ]
        self.add_rows(self.outs[""], row.data, None, copies)

    def add_rows(self, out: _Out, data: dict[str, Any], parent: tuple[str, int] | None, copies: list[Any]) -> None:
        """A row for this record, numbered like Kobo (one counter per table), then the rows of its repeats."""
        index = len(out.rows) + 1
        cells = self.cells(out.scope, data)
        out.rows.append([*cells, *copies, index] if parent is None else [*cells, index, *parent, *copies])
        for repeat in out.scope.repeats:
            entries = _get(data, out.scope.rel(repeat))
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    self.add_rows(self.outs[repeat.path], entry, (out.section, index), copies)


def _kobo_csv(out: _Out) -> bytes:
    table: list[Sequence[str | int]] = [out.header, *out.rows]
    lines = ('"' + '";"'.join(str(c).replace('"', '""') for c in cells) + '"\r\n' for cells in table)
    return "".join(lines).encode("utf-8")


def _xlsx(outs: list[_Out]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    for out in outs:
        sheet = workbook.create_sheet(out.sheet)
        table: list[Sequence[str | int]] = [out.header, *out.rows]
        for cells in table:
            values: list[Any] = []
            for value in cells:
                if isinstance(value, str):
                    value = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                    value.data_type = "s"  # a text answer starting with "=" stays text, never a formula
                values.append(value)
            sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_responses(
    definition: FormDefinition, submissions: Sequence[ExportRow], fmt: str, language: str | None = None
) -> bytes:
    """Submissions in KoboToolbox's export layout: ``fmt`` "xlsx" (a sheet per repeat) or "csv".

    A CSV is one ``;``-separated table when the form has no repeat, else a zip with one CSV per table (named like
    the sheets). Headers are question names ("XML values and headers", groups joined by ``/``), which
    :func:`read_responses` reads back; with ``language``, headers and choices are labels in that language, for
    people to read (KoboToolbox's "Labels" export, which cannot be imported again).
    """
    if fmt not in ("xlsx", "csv"):
        raise LmreviewError(f'unknown export format "{fmt}"; use xlsx or csv')
    writer = _Writer(definition, language)
    for row in submissions:
        writer.add(row)
    outs = list(writer.outs.values())
    if fmt == "xlsx":
        return _xlsx(outs)
    if len(outs) == 1:
        return _kobo_csv(outs[0])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for out in outs:
            archive.writestr(f"{out.sheet}.csv", _kobo_csv(out))
    return buffer.getvalue()
