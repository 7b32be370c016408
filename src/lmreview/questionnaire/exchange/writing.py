"""Writing submissions in KoboToolbox's export layout: one table per section (the root, each repeat), as an XLSX
workbook or as CSV."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lmreview.errors import LmreviewError
from lmreview.questionnaire.exchange.layout import (
    KOBO_COPY_FIELDS,
    KOBO_REPEAT_COLUMNS,
    VALIDATION_STATUS,
    ExportRow,
    Scope,
    all_repeats,
    escape_formula,
    get_path,
    scope_of,
    sheet_name,
)
from lmreview.questionnaire.long_lists import LONG_LIST
from lmreview.questionnaire.xlsform import FormDefinition, Question


@dataclass
class _Out:
    scope: Scope
    section: str  # Kobo's section name, written in _parent_table_name
    sheet: str
    header: list[str]
    rows: list[list[str | int]] = field(default_factory=list)


_GEO_SUFFIXES = ("latitude", "longitude", "altitude", "precision")


def merged_options(lists: Sequence[Sequence[str]]) -> list[str]:
    """The options of a select over its versions, oldest first, as Kobo lists them: an option a later version added
    comes after the option it follows there (v1 french, italian, american + v2 french, american, british gives
    french, italian, american, british)."""
    merged: list[str] = []
    for options in lists:
        previous: str | None = None
        for option in options:
            if option not in merged:
                merged.insert(merged.index(previous) + 1 if previous in merged else 0, option)
            previous = option
    return merged


class _Writer:
    def __init__(
        self, definition: FormDefinition, language: str | None, versions: Sequence[FormDefinition] = ()
    ) -> None:
        self.definition = definition
        self.versions = [*versions, definition]  # oldest first, the newest last
        self.language = language
        self.by_path = definition.by_path()
        self._choices: dict[str, list[str]] = {}  # the option columns of each select_multiple, by path
        self.outs: dict[str, _Out] = {}
        taken: list[str] = []
        for question in [None, *all_repeats(definition)]:
            scope = self.with_dropped(scope_of(definition, question))
            section = question.name if question else (definition.title or definition.form_id)
            taken.append(sheet_name(section, taken))
            header = [h for q in scope.fields for h in self.headers(q)]
            header += [*KOBO_COPY_FIELDS, "_index"] if question is None else list(KOBO_REPEAT_COLUMNS)
            self.outs[scope.path] = _Out(scope, section, taken[-1], header)

    def with_dropped(self, scope: Scope) -> Scope:
        """The table's fields and, after them, those only older versions have (newest first), as Kobo lists them."""
        fields = list(scope.fields)
        for version in reversed(self.versions[:-1]):
            repeat = None
            if scope.question is not None:
                repeat = next((r for r in all_repeats(version) if r.name == scope.question.name), None)
                if repeat is None:
                    continue
            names = {q.name for q in fields}
            fields += [q for q in scope_of(version, repeat).fields if q.name not in names]
        return Scope(scope.question, fields, scope.repeats)

    def headers(self, question: Question) -> list[str]:
        header, parts = question.path, question.path.split("/")
        if self.language is not None:  # Kobo's label headers: the label of each group, then the question's
            header = "/".join(self.by_path["/".join(parts[:i])].label(self.language) for i in range(1, len(parts) + 1))
        if question.type == "geopoint":  # Kobo's copies of the parts: _where_latitude … beside where
            group, slash, name = header.rpartition("/")
            return [header, *(f"{group}{slash}_{name}_{suffix}" for suffix in _GEO_SUFFIXES)]
        if question.type != "select_multiple":
            return [header]
        return [header, *(f"{header}/{self.choice(question, c)}" for c in self.choices(question))]

    def choices(self, question: Question) -> list[str]:
        """The option names of a select_multiple in every version of the form, one column each; none for a long
        list (over ``LONG_LIST`` options: a list of 50,000 villages would be 50,000 columns, beyond what a
        spreadsheet holds), whose answers are in the one column of the question, which the import reads."""
        if question.path not in self._choices:
            lists = []
            for version in self.versions:
                same = version.by_path().get(question.path)
                if same is not None and same.type == "select_multiple":
                    lists.append([c.name for c in version.options(same.list_name)])
            merged = merged_options(lists)
            self._choices[question.path] = merged if len(merged) <= LONG_LIST else []
        return self._choices[question.path]

    def choice(self, question: Question, name: str) -> str:
        label = self.definition.choice_label(question.list_name or "", name, self.language) if self.language else None
        return label or name

    def offered(self, question: Question, version: FormDefinition) -> set[str] | None:
        """The options an older version a row was answered with offered for a select_multiple (None: all of them).
        As Kobo does, the newest version's select holds every option of every version."""
        if version is self.definition:
            return None
        same = version.by_path().get(question.path)
        return {c.name for c in version.options(same.list_name)} if same is not None else None

    def cells(self, scope: Scope, data: dict[str, Any], version: FormDefinition) -> list[str | int]:
        cells: list[str | int] = []
        for question in scope.fields:
            value = get_path(data, scope.rel(question))
            text = value if isinstance(value, str) else ""
            if question.type == "select_one" and text:
                text = self.choice(question, text)
            if question.type == "geopoint":
                parts = text.split()
                cells += [text, *(parts[i] if i < len(parts) else "" for i in range(4))]
                continue
            if question.type != "select_multiple":
                cells.append(text)
                continue
            tokens = text.split()
            cells.append(" ".join(self.choice(question, t) for t in tokens))
            offered = self.offered(question, version)  # Kobo leaves the columns of options not offered empty
            cells += [
                ("1" if c in tokens else "0") if text and (offered is None or c in offered) else ""
                for c in self.choices(question)
            ]
        return cells

    def add(self, row: ExportRow) -> None:
        status = VALIDATION_STATUS.get(row.review_state, "")
        if self.language is not None:
            status = status.removeprefix("validation_status_").replace("_", " ").title()  # "Not Approved"
        when = row.submitted_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") if row.submitted_at else ""
        kobo = "_uuid" in row.meta or "_id" in row.meta  # imported from Kobo: its own _id, _status, __version__
        row_id: str | int = row.meta.get("_id", row.row_id) if kobo else row.row_id
        state = (
            row.meta.get("_status", "") if kobo else ("submitted_via_web" if row.status == "submitted" else row.status)
        )
        copies: list[str | int] = [
            *(row_id, row.instance_id.removeprefix("uuid:"), row.meta.get("_submission_time", when) if kobo else when),
            *(status, row.meta.get("_notes", "")),
            state,
            row.meta.get("_submitted_by") or row.meta.get("SubmitterName", ""),
            *(row.meta.get("__version__", "") if kobo else row.version, row.meta.get("_tags", ""), row.instance_id),
        ]
        version = next((d for d in reversed(self.versions) if d.version == row.version), self.definition)
        version = self.definition if version.version == self.definition.version else version
        self.add_rows(self.outs[""], row.data, None, copies, version)

    def add_rows(
        self,
        out: _Out,
        data: dict[str, Any],
        parent: tuple[str, int] | None,
        copies: list[Any],
        version: FormDefinition,
    ) -> None:
        """A row for this record, numbered like Kobo (one counter per table), then the rows of its repeats."""
        index = len(out.rows) + 1
        cells = self.cells(out.scope, data, version)
        out.rows.append([*cells, *copies, index] if parent is None else [*cells, index, *parent, *copies])
        for repeat in out.scope.repeats:
            entries = get_path(data, out.scope.rel(repeat))
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    self.add_rows(self.outs[repeat.path], entry, (out.section, index), copies, version)


def _kobo_csv(out: _Out) -> bytes:
    """Kobo's CSV dialect; a cell that would start a formula gets a leading ``'`` (see ``escape_formula``)."""
    table: list[Sequence[str | int]] = [out.header, *out.rows]
    lines = ('"' + '";"'.join(escape_formula(str(c)).replace('"', '""') for c in cells) + '"\r\n' for cells in table)
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
    definition: FormDefinition,
    submissions: Sequence[ExportRow],
    fmt: str,
    language: str | None = None,
    versions: Sequence[FormDefinition] = (),
) -> bytes:
    """Submissions in KoboToolbox's export layout: ``fmt`` "xlsx" (a sheet per repeat) or "csv".

    A CSV is one ``;``-separated table when the form has no repeat, else a zip with one CSV per table (named like
    the sheets). Headers are question names ("XML values and headers", groups joined by ``/``), which
    :func:`read_responses` reads back; with ``language``, headers and choices are labels in that language, for
    people to read (KoboToolbox's "Labels" export, which cannot be imported again). ``versions`` are the form's
    older versions, oldest first: a select_multiple has a column for every option any version offered.
    """
    if fmt not in ("xlsx", "csv"):
        raise LmreviewError(f'unknown export format "{fmt}"; use xlsx or csv')
    writer = _Writer(definition, language, versions)
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
