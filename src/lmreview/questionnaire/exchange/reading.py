"""Reading an export back into instance documents: each column mapped to a question (or to the tool's own meta
columns), each value checked against the form, repeat tables attached to their parent rows."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lmreview.errors import BadInput, Problem
from lmreview.questionnaire import form_types
from lmreview.questionnaire.exchange.files import Sheet, Source, detect, media_name, sheets_of
from lmreview.questionnaire.exchange.layout import (
    KOBO_COPY_FIELDS,
    ODK_META,
    ImportedSubmission,
    Scope,
    all_repeats,
    get_path,
    norm,
    put,
    repeat_around,
    scope_of,
    sheet_name,
    timestamp,
    value_problem,
)
from lmreview.questionnaire.xlsform import FormDefinition, Question

_KOBO_META = {
    *KOBO_COPY_FIELDS,
    *("meta/instanceID", "meta/deprecatedID", "formhub/uuid", "_xform_id_string", "_attachments", "_geolocation"),
    *("_duration", "_media_count", "_total_media", "_media_all_received", "_version_"),
    *("start", "end", "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber", "audit"),
}
_ODK_META = {*ODK_META, "instanceID", "instanceName", "deprecatedID"}
_TRUE, _FALSE = {"1", "true", "TRUE", "True"}, {"", "0", "false", "FALSE", "False"}
_NO_REPEATS = ", which a table of one row per submission cannot hold; it is not imported"


@dataclass
class _Column:
    index: int
    header: str
    kind: str  # value | note | option | meta | link | geo (ODK's parts of a geopoint) | derived (Kobo's copies of
    # them) | inner (a field of a repeat in a table that cannot hold it)
    question: Question | None = None
    rel: str = ""  # the question's path in the table's record; for "inner", the repeat's name
    choice: str = ""


@dataclass
class _Record:
    row: int
    data: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


ENCRYPTED = "missing encrypted form data"  # ODK Central's Status of a submission it could not decrypt


_GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
_KOBO_GEO = {"latitude": "Latitude", "longitude": "Longitude", "altitude": "Altitude", "precision": "Accuracy"}


def _geo_part(header: str, names: dict[str, Question]) -> tuple[Question, str] | None:
    """A column holding one part of a geopoint: ODK ``where-Latitude`` (its parts are the answer), Kobo
    ``_where_latitude`` (beside the answer, which is in ``where``)."""
    base, dash, part = header.rpartition("-")
    if dash and part in _GEO_PARTS and base in names and names[base].type == "geopoint":
        return names[base], part
    group, slash, last = header.rpartition("/")
    for suffix, part in _KOBO_GEO.items():
        name = last.removeprefix("_").removesuffix(f"_{suffix}")
        if last.startswith("_") and last.endswith(f"_{suffix}"):
            key = f"{group}{slash}{name}"
            if key in names and names[key].type == "geopoint":
                return names[key], part
    return None


class NoQuestionColumns(BadInput):
    """No column of the export names a question of the form: the export of another form, most likely."""

    def __init__(self, problem: Problem, headers: list[str]) -> None:
        super().__init__([problem], "1 error; nothing was written")
        self.headers = headers  # the export's columns that are neither questions nor the tool's own


class _Reader:
    def __init__(
        self, definition: FormDefinition, filename: str, versions: Mapping[str, FormDefinition] | None = None
    ) -> None:
        self.definition = definition
        self.filename = filename
        self.versions = dict(versions or {})  # every version of the form: a row is checked with the one that asked
        self.problems: list[Problem] = []
        self.matched = 0  # columns, over every table, that name a question (not a note)
        self.unknown: list[str] = []  # the root table's columns that name nothing
        fields = [q for q in definition.walk() if q.type not in ("group", "repeat")]
        counts = Counter(q.name for q in fields)
        self.unique = {q.name: q for q in fields if counts[q.name] == 1}
        self.labels = {norm(text) for q in definition.walk() for text in q.labels.values()}

    def error(self, file: str, row: int, column: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(file, row, column, message, severity))

    def names(self, scope: Scope, fields: list[Question]) -> dict[str, Question]:
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

    def columns(self, sheet: Sheet, scope: Scope, source: str) -> list[_Column]:
        names = self.names(scope, scope.fields)
        for key, dropped in self.older_names(scope).items():
            names.setdefault(key, dropped)
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
            elif base in names and names[base].type == "select_multiple" and self.is_choice(names[base], choice):
                columns.append(_Column(index, header, "option", names[base], scope.rel(names[base]), choice))
            elif header.endswith("_URL") and getattr(names.get(header[:-4]), "type", "") in form_types.MEDIA_TYPES:
                columns.append(_Column(index, header, "derived", names[header[:-4]], scope.rel(names[header[:-4]])))
            elif (geo := _geo_part(header, names)) is not None:
                part_kind = "derived" if source == "kobo" else "geo"
                columns.append(_Column(index, header, part_kind, geo[0], scope.rel(geo[0]), geo[1]))
            elif kind is not None:
                columns.append(_Column(index, header, kind))
            elif header in inner:
                repeat = repeat_around(self.definition, inner[header])
                columns.append(_Column(index, header, "inner", inner[header], repeat.name if repeat else ""))
            elif header:
                unknown.append(header)
                labels += norm(header) in self.labels or norm(header.rsplit("/", 1)[-1]) in self.labels
        if labels and labels >= sum(1 for c in columns if c.question is not None):
            how = "export again from KoboToolbox with 'XML values and headers'"
            how = how if source == "kobo" else "use the question names (the name column of the form) as headers"
            message = f"the headers are question labels, not names; {how}"
            raise BadInput([Problem(sheet.file, sheet.table.header_row, "-", message)])
        for column in columns:
            if column.kind == "inner":
                message = f"this column belongs to the repeat {column.rel}{_NO_REPEATS}"
                self.error(sheet.file, sheet.table.header_row, column.header, message, "warning")
        self.matched += sum(1 for c in columns if c.kind in ("value", "option", "inner"))
        if scope.question is None:
            self.unknown = unknown
        form, row = self.definition.form_id, sheet.table.header_row
        if len(unknown) == 1:
            message = f"unknown column {unknown[0]}: no question of the form {form} has this name"
            self.error(sheet.file, row, unknown[0], message + "; its values are not imported", "warning")
        elif unknown:
            message = f"{len(unknown)} columns match no question of the form {form}: {', '.join(unknown)}"
            self.error(sheet.file, row, "-", message + "; their values are not imported", "warning")
        return columns

    def older_names(self, scope: Scope) -> dict[str, Question]:
        """The headers naming a question that only older versions of the form have (a question since dropped):
        its answers are still answers, in the rows of those versions."""
        found: dict[str, Question] = {}
        current = {q.name for q in scope.fields}
        for version in self.versions.values():
            if version.version == self.definition.version:
                continue
            repeat = None
            if scope.question is not None:
                repeat = next((r for r in all_repeats(version) if r.name == scope.question.name), None)
                if repeat is None:
                    continue
            same = scope_of(version, repeat)
            dropped = [q for q in same.fields if q.name not in current]
            for key, question in self.names(same, dropped).items():
                found.setdefault(key, question)
        return found

    def is_choice(self, question: Question, name: str) -> bool:
        """Whether ``name`` is an option of the select in some version of the form (an option column), rather than
        a column Kobo adds for an appearance (the ``literacy`` widget's ``q/Word at flash``)."""
        if question.answers_of:
            return True
        definitions = [self.definition, *self.versions.values()]
        return (
            any(
                c.name == name
                for d in definitions
                if (q := d.by_path().get(question.path)) is not None
                for c in d.options(q.list_name)
            )
            or name == "other"
        )

    def version_of(self, columns: list[_Column], cells: list[str]) -> FormDefinition:
        """The form version a row was answered with (Kobo ``__version__``, ODK ``FormVersion``, or the copy of it on
        a repeat row), when lmreview has it; else the newest."""
        for column in columns:
            if column.header in ("__version__", "FormVersion", "_submission___version__"):
                found = self.versions.get(cells[column.index])
                if found is not None:
                    return found
        return self.definition

    def record(self, sheet: Sheet, columns: list[_Column], number: int, cells: list[str]) -> _Record:
        record = _Record(number)
        asked = self.version_of(columns, cells)
        geo: dict[str, tuple[_Column, dict[str, str]]] = {}
        summaries = {c.question.path: c for c in columns if c.kind == "value" and c.question is not None}
        options: dict[str, tuple[_Column, list[str], set[str]]] = {}
        for column in columns:
            value, question = cells[column.index], column.question
            if column.kind == "meta" and value:
                record.meta[column.header] = value
            elif column.kind == "link":
                record.links[column.header] = value
            elif column.kind == "value" and value and question is not None:
                if question.type in form_types.MEDIA_TYPES:  # the file's name, also when the cell is Kobo's URL
                    value = media_name(value)
                if problem := value_problem(asked, asked.by_path().get(question.path, question), value):
                    self.error(sheet.file, number, column.header, problem)
                put(record.data, column.rel, value)
            elif column.kind == "option" and question is not None:
                _, selected, covered = options.setdefault(question.path, (column, [], set()))
                covered.add(column.choice)
                if value in _TRUE:
                    selected.append(column.choice)
                    problem = value_problem(asked, asked.by_path().get(question.path, question), column.choice)
                    if question.path not in summaries and problem:
                        self.error(sheet.file, number, column.header, f"{problem}; this column is not imported")
                elif value not in _FALSE:
                    self.error(sheet.file, number, column.header, f'"{value}" is neither 1 (selected) nor 0')
            elif column.kind == "geo" and question is not None:
                geo.setdefault(question.path, (column, {}))[1][column.choice] = value
            elif column.kind == "inner" and value:
                message = f'"{value}" is an answer in the repeat {column.rel}{_NO_REPEATS}'
                self.error(sheet.file, number, column.header, message)
        for path, (first, selected, covered) in options.items():
            summary, question = summaries.get(path), first.question
            if summary is None and question is not None:  # "Separate columns" only: the value is the 1s
                chosen = [c for c in selected if not value_problem(asked, question, c)]
                if chosen:
                    put(record.data, first.rel, " ".join(chosen))
            elif summary and set((said := cells[summary.index]).split()) & covered != set(selected):
                message = f'the option columns {summary.header}/… say "{" ".join(selected)}" but {summary.header}'
                message += f' says "{said}"; {summary.header} is kept'
                self.error(sheet.file, number, summary.header, message, "warning")
        for path, (column, parts) in geo.items():  # ODK's geopoint columns: one answer "lat lon altitude accuracy"
            if path in summaries or not (parts.get("Latitude") or parts.get("Longitude")) or column.question is None:
                continue
            value = " ".join(parts.get(p, "") for p in _GEO_PARTS[:2]) + "".join(
                f" {parts[p]}" for p in _GEO_PARTS[2:] if parts.get(p)
            )
            if problem := value_problem(asked, column.question, value):
                self.error(sheet.file, number, column.header, problem)
            put(record.data, column.rel, value)
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
        value, column = (get_path(record.data, code.path), code.name) if code else (None, "project_code")
        if not isinstance(value, str) or not value:
            return "", column
        return f"xlsx:{hashlib.sha256(f'{self.definition.form_id}:{value}'.encode()).hexdigest()}", column

    def read(self, container: str, sheets: list[Sheet]) -> list[ImportedSubmission]:
        if not sheets:
            raise BadInput([Problem(self.filename, 0, "-", "the workbook has no table")])
        root = sheets[0]
        if container == "zip":  # the table without links to a parent, <form_id>.csv first
            roots = [s for s in sheets if not {"PARENT_KEY", "_parent_index"} & set(s.table.header)] or sheets
            root = sorted(roots, key=lambda s: s.name.rsplit("/", 1)[-1] != f"{self.definition.form_id}.csv")[0]
        source = detect(root.table.header)
        if source is None and container != "xlsx":
            message = "this table is neither a KoboToolbox export (no _uuid, _submission_time… column) nor an ODK "
            message += "Central export (no KEY, SubmissionDate… column); a filled one-row-per-project table must be an"
            raise BadInput([Problem(root.file, root.table.header_row, "-", message + " XLSX workbook")])
        source = source or "xlsx"
        others = [] if source == "xlsx" else [s for s in sheets if s is not root]
        if source == "odk" and container == "zip" and root.name.rsplit("/", 1)[-1] != f"{self.definition.form_id}.csv":
            message = f"the zip holds the export of {root.name}, not of the form {self.definition.form_id}"
            self.error(self.filename, 0, "-", message, "warning")
        columns = self.columns(root, scope_of(self.definition, None), source)
        code = next((q for q in self.definition.walk() if q.name == "project_code"), None)
        submissions: list[ImportedSubmission] = []
        seen: dict[str, int] = {}
        keyed: dict[str, dict[str, _Record]] = {"": {}}
        encrypted = 0
        for number, cells in root.table.rows:
            record = self.record(root, columns, number, cells)
            if source == "odk" and record.meta.get("Status") == ENCRYPTED:
                encrypted += 1
                continue
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
            if (submitted_at := timestamp(raw_time) if raw_time else None) is None and raw_time:
                column = "_submission_time" if source == "kobo" else "SubmissionDate"
                self.error(root.file, number, column, f'"{raw_time}" is not a date and time', "warning")
            version = record.meta.get("__version__") or record.meta.get("FormVersion") or None
            submissions.append(
                ImportedSubmission(instance_id, record.data, record.meta, source, number, submitted_at, version)
            )
        if encrypted:
            verb = "row has" if encrypted == 1 else "rows have"
            message = f"{encrypted} {verb} {ENCRYPTED} and {'was' if encrypted == 1 else 'were'} skipped"
            self.error(root.file, 0, "Status", message, "warning")
        used, missing = self.read_repeats(others, source, keyed)
        missing = missing if container in ("csv", "zip") else []  # Kobo's XLSX has no sheet for a repeat never filled
        for sheet in (s for s in others if s not in used):
            self.error(sheet.file, 0, "-", "this table matches no repeat of the form; it is not imported", "warning")
        if self.matched == 0:
            raise NoQuestionColumns(self.no_match(root, source, missing), self.unknown)
        if missing:
            self.error(self.filename, 0, "-", self.missing_repeats(container, source, missing), "warning")
        return submissions

    def no_match(self, root: Sheet, source: str, missing: list[Question]) -> Problem:
        """Why nothing can be imported: the columns are another form's, or the repeats holding the questions are
        in files that did not come."""
        form = self.definition.form_id
        if missing and not self.unknown:
            message = f"no column of the main table is a question of the form {form}, and "
            return Problem(self.filename, 0, "-", message + self.missing_repeats("", source, missing))
        message = f"no column of this export is a question of the form {form}"
        if self.unknown:
            shown = ", ".join(self.unknown[:8]) + (", …" if len(self.unknown) > 8 else "")
            message += f" (its columns: {shown}); it looks like the export of another form"
        else:
            message += "; it holds only the columns the tool adds itself"
        return Problem(root.file, root.table.header_row, "-", message)

    def missing_repeats(self, container: str, source: str, missing: list[Question]) -> str:
        """The repeats whose table is not in the file, named as the tool names their file or sheet."""
        repeats = ", ".join(r.name for r in missing)
        if source == "kobo" and container == "csv":
            message = "KoboToolbox's CSV export holds the main table only: the answers in the repeat "
            return message + f"{repeats} are not in it and are not imported; export XLSX to import them"
        odk = source == "odk"
        files = [f"{self.definition.form_id}-{r.name}.csv" if odk else f"{sheet_name(r.name)}.csv" for r in missing]
        verb = "is" if len(files) == 1 else "are"
        message = f"{', '.join(files)} {verb} missing: the answers in the repeat {repeats} are not imported"
        return message + ('; export ODK Central\'s "All data tables" (a zip) to import them' if odk else "")

    def read_repeats(
        self, sheets: list[Sheet], source: str, keyed: dict[str, dict[str, _Record]]
    ) -> tuple[list[Sheet], list[Question]]:
        """Attach each repeat table's rows to their parent record (the root's or an enclosing repeat's); return the
        tables used and the repeats with no table."""
        used: list[Sheet] = []
        missing: list[Question] = []
        link, key = ("_parent_index", "_index") if source == "kobo" else ("PARENT_KEY", "KEY")
        for repeat in all_repeats(self.definition):
            sheet = self.sheet_for(repeat, [s for s in sheets if s not in used])
            if sheet is None:
                missing.append(repeat)
                continue
            used.append(sheet)
            parent = repeat_around(self.definition, repeat)
            parent_scope, parents = scope_of(self.definition, parent), keyed.get(parent.path if parent else "", {})
            own = keyed.setdefault(repeat.path, {})
            columns = self.columns(sheet, scope_of(self.definition, repeat), source)
            for number, cells in sheet.table.rows:
                record = self.record(sheet, columns, number, cells)
                owner = parents.get(reference := record.links.get(link, ""))
                if owner is None:
                    table = f"sheet {parent.name}" if parent else "the main table"
                    self.error(sheet.file, number, link, f'no row of {table} has {key} "{reference}"')
                    continue
                entries = get_path(owner.data, parent_scope.rel(repeat))
                if not isinstance(entries, list):
                    put(owner.data, parent_scope.rel(repeat), entries := [])
                entries.append(record.data)
                if record.links.get(key):
                    own.setdefault(record.links[key], record)
        return used, missing

    def sheet_for(self, repeat: Question, sheets: list[Sheet]) -> Sheet | None:
        """The sheet (Kobo) or CSV (ODK ``<form>-<repeat>.csv``, ours ``<repeat>.csv``) holding a repeat's rows."""
        names = {repeat.name, sheet_name(repeat.name)}
        odk = re.compile(rf".*-{re.escape(repeat.name)}(~\d+)?\.csv")
        for sheet in sorted(sheets, key=lambda s: s.name):
            base = sheet.name.rsplit("/", 1)[-1]
            if base in names or base.removesuffix(".csv") in names or odk.fullmatch(base):
                return sheet
        scope = scope_of(self.definition, repeat)
        known = self.names(scope, scope.fields)
        best, best_score = None, 0
        for sheet in sheets:  # a renamed sheet: the one whose headers name most of the repeat's questions
            if (score := sum(header in known for header in sheet.table.header)) > best_score:
                best, best_score = sheet, score
        return best


def read_responses(
    data: Source, filename: str, definition: FormDefinition, versions: Mapping[str, FormDefinition] | None = None
) -> tuple[list[ImportedSubmission], list[Problem]]:
    """Submissions from a KoboToolbox or ODK Central export, or a filled one-row-per-project workbook.

    Raises BadInput when the file as a whole cannot be read; returns the row-level problems (errors and warnings)
    with the submissions, so the caller can refuse the whole import when any of them is an error. A workbook row
    without ids is identified by ``xlsx:`` and the SHA-256 of ``<form_id>:<project code>``, so re-imports match.
    ``versions`` (version string -> definition) are the form's versions: each row is checked against the version
    named in its ``__version__`` / ``FormVersion``, the newest (``definition``) when it names none lmreview has.
    """
    container, sheets = sheets_of(data, filename)
    reader = _Reader(definition, filename, versions)
    submissions = reader.read(container, sheets)
    return submissions, reader.problems


def question_columns(definition: FormDefinition, headers: list[str]) -> int:
    """How many of ``headers`` name a question of ``definition`` (or an option column of one): to tell which form
    an export that matches none of another form's questions belongs to."""
    reader = _Reader(definition, "")
    fields = [q for q in definition.walk() if q.type not in ("group", "repeat", "note")]
    names = reader.names(scope_of(definition, None), fields)
    multiple = {key for key, q in names.items() if q.type == "select_multiple"}
    return sum(1 for h in headers if h in names or h.rpartition("/")[0] in multiple)
