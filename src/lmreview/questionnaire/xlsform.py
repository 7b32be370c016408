"""XLSForms: read a questionnaire (XLSX, or pyxform's Markdown tables), validate it, and describe it.

pyxform is the reference validator and writes the XForm (for ODK/Enketo/Kobo); its errors become
``FILE:SHEET:ROW: message`` lines. lmreview then builds its own :class:`FormDefinition` from the same sheets: the
tree of questions its web forms render, validate and export. The definition is plain JSON (stored with each form
version), so a stored submission can always be read with the version it was made with.

pyxform does not look inside expressions; lmreview parses every ``relevant``, ``constraint``, ``calculation``,
``required``, ``choice_filter``, ``default`` and ``repeat_count`` with :mod:`lmreview.questionnaire.expressions`
and reports a bad one at its row and column.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lmreview.errors import BadInput, Problem
from lmreview.questionnaire import attachments, expressions, form_types
from lmreview.questionnaire.xlsform_sheets import Rows, read_source

DEFAULT_LANGUAGE = "default"
QUESTION_TYPES = form_types.SERVED
STRUCTURE_TYPES = ("group", "repeat")
# Filled by the device in ODK/Kobo; lmreview records start/end/today itself and keeps the others from imports.
META_TYPES = form_types.META
ALIASES = {
    "string": "text",
    "int": "integer",
    "select one": "select_one",
    "select multiple": "select_multiple",
    "begin_group": "begin group",
    "end_group": "end group",
    "begin_repeat": "begin repeat",
    "end_repeat": "end repeat",
    "hidden": "calculate",
}
EXPRESSION_COLUMNS = ("relevant", "constraint", "calculation", "choice_filter", "repeat_count")
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"", "no", "false", "false()", "0"}
_ROW = re.compile(r"^\[row : (\d+)\]\s*")
_SHEET = re.compile(r"'(survey|choices|settings)' sheet")
_LANG_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$")


@dataclass
class Choice:
    name: str
    labels: dict[str, str]
    filters: dict[str, str] = field(default_factory=dict)  # other columns of the choices sheet, for choice_filter


@dataclass
class Question:
    """A question, a group or a repeat of the survey sheet; ``path`` is its place in the instance (``grp/q``)."""

    type: str
    name: str
    path: str
    row: int
    labels: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    required: str | None = None  # "true()" or an expression
    required_messages: dict[str, str] = field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_messages: dict[str, str] = field(default_factory=dict)
    calculation: str | None = None
    default: str | None = None
    read_only: bool = False
    choice_filter: str | None = None
    appearance: str | None = None
    list_name: str | None = None
    or_other: bool = False
    repeat_count: str | None = None
    parameters: str | None = None  # a range's "start=1 end=10 step=1"; an image's "max-pixels=1024"
    accept: str | None = None  # a file question's body::accept: ".pdf,.docx" or "image/*"
    children: list[Question] = field(default_factory=list)

    @property
    def is_meta(self) -> bool:
        return self.type in META_TYPES

    @property
    def answers_of(self) -> str | None:
        """For ``select_one ${name}``: the question (inside an earlier repeat) whose answers are the options."""
        name = self.list_name or ""
        return name[2:-1] if name.startswith("${") and name.endswith("}") else None

    def label(self, language: str) -> str:
        return pick(self.labels, language) or self.name

    def walk(self) -> Iterator[Question]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class FormDefinition:
    form_id: str
    title: str
    version: str
    default_language: str
    languages: list[str]
    survey: list[Question]
    choices: dict[str, list[Choice]]
    style: str = ""  # settings/style: "pages" shows one page at a time, as Enketo does
    # the files attached to the form (their names), and the rows of those read by pulldata() or instance('name'),
    # by the name expressions use (fruits.csv -> fruits); a select_one_from_file's options are in ``choices``
    attachments: list[str] = field(default_factory=list)
    instances: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @functools.cached_property
    def secondary_instances(self) -> dict[str, list[dict[str, str]]]:
        """What ``instance('name')`` and ``pulldata('name', ...)`` read: each choice list (``name``, ``label`` in
        the default language, and its other columns), then the attached files."""
        lists = {
            name: [{**c.filters, "name": c.name, "label": pick(c.labels, self.default_language) or ""} for c in options]
            for name, options in self.choices.items()
        }
        return {**lists, **self.instances}

    @property
    def paged(self) -> bool:
        return "pages" in self.style.split()

    def walk(self) -> Iterator[Question]:
        for question in self.survey:
            yield from question.walk()

    def by_name(self) -> dict[str, Question]:
        return {q.name: q for q in self.walk()}

    def by_path(self) -> dict[str, Question]:
        return {q.path: q for q in self.walk()}

    def options(self, list_name: str | None) -> list[Choice]:
        """The choices of a list. List names are case-sensitive; definitions stored before that was kept hold a
        select's list name in lower case, so a list found only case-insensitively is found when it is the only one.
        Every lookup of a list (the engine, imports and exports, tabulation) goes through here."""
        name = list_name or ""
        if name in self.choices:
            return self.choices[name]
        alike = [options for key, options in self.choices.items() if key.lower() == name.lower()]
        return alike[0] if len(alike) == 1 else []

    def choice_label(self, list_name: str, name: str, language: str) -> str:
        for choice in self.options(list_name):
            if choice.name == name:
                return pick(choice.labels, language) or name
        return name

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v or k not in ("attachments", "instances")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormDefinition:
        def question(d: dict[str, Any]) -> Question:
            return Question(**{**d, "children": [question(c) for c in d.get("children", [])]})

        return cls(
            form_id=data["form_id"],
            title=data["title"],
            version=data["version"],
            default_language=data["default_language"],
            languages=list(data["languages"]),
            survey=[question(q) for q in data["survey"]],
            choices={k: [Choice(**c) for c in v] for k, v in data["choices"].items()},
            style=data.get("style", ""),
            attachments=list(data.get("attachments", [])),
            instances=dict(data.get("instances", {})),
        )


@dataclass
class ParsedForm:
    definition: FormDefinition
    xform: str
    warnings: list[str]
    file_format: str


def language_code(language: str) -> str:
    """ "Français (fr)" -> "fr"; a language without a code is its own name."""
    match = _LANG_CODE.search(language)
    return match[1] if match else language


def pick(texts: dict[str, str], language: str) -> str | None:
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()), None)


# --- validation with pyxform -----------------------------------------------------------------------------------------


def _pyxform(data: bytes, file_format: str, filename: str) -> tuple[str, list[str]]:
    """pyxform's judgement of the form, as ``xls2xform`` gives it: the XML root keeps pyxform's default name (or the
    settings' ``name``); lmreview's ``form_id`` is not an XML name and is never handed over as one."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        result = convert(xlsform=data, file_type=f".{file_format}", warnings=warnings, pretty_print=True)
    except PyXFormError as exc:
        message = str(exc)
        if "multiple survey elements named 'data'" in message:
            message += " pyxform names the form's XML root 'data', so no question, group or repeat may be called data"
        raise BadInput([_located(filename, message)]) from None
    except Exception as exc:  # pyxform can fail with other errors on odd sheets; the user still gets a line
        message = f"pyxform cannot read this form ({type(exc).__name__}: {exc})"
        raise BadInput([Problem(filename, 0, "-", message)]) from None
    return result.xform, [_ROW.sub("", w) if isinstance(w, str) else str(w) for w in warnings]


def _located(filename: str, message: str) -> Problem:
    match = _ROW.match(message)
    row = int(match[1]) if match else 0
    sheet_match = _SHEET.search(message)
    sheet = sheet_match[1] if sheet_match else "survey"
    return Problem(f"{filename}:{sheet}", row, "-", _ROW.sub("", message))


# --- building the definition -----------------------------------------------------------------------------------------


# pyxform's own alias tables say which headers name the same column (``relevance``, ``bind::relevant``,
# ``requiredMsg``, ``list name`` ...). pyxform turns a header into a path such as ("bind", "relevant"); these are the
# paths lmreview reads, under its own names. Columns it does not read (media, sms, guidance_hint) are left to pyxform.
SURVEY_COLUMNS: dict[tuple[str, ...], str] = {
    ("type",): "type",
    ("name",): "name",
    ("label",): "label",
    ("hint",): "hint",
    ("bind", "required"): "required",
    ("bind", "jr:requiredMsg"): "required_message",
    ("bind", "relevant"): "relevant",
    ("bind", "constraint"): "constraint",
    ("bind", "jr:constraintMsg"): "constraint_message",
    ("bind", "calculate"): "calculation",
    ("bind", "readonly"): "read_only",
    ("default",): "default",
    ("choice_filter",): "choice_filter",
    ("control", "appearance"): "appearance",
    ("control", "jr:count"): "repeat_count",
    ("parameters",): "parameters",
    ("control", "accept"): "accept",
}
CHOICES_COLUMNS: dict[tuple[str, ...], str] = {("list name",): "list_name", ("name",): "name", ("label",): "label"}
TRANSLATABLE = ("label", "hint", "required_message", "constraint_message")
_SETTINGS = {"title": "form_title", "id_string": "form_id"}  # pyxform's settings names -> the ones read here


def _snake(text: str) -> str:
    return "_".join(text.split()).lower()


def header_path(header: str, aliases: dict[str, Any], double_colon: bool) -> tuple[str, ...]:
    """The column a header names, as pyxform reads it: split on "::" (on ":" in a sheet without any "::"), the first
    part in snake_case and through pyxform's alias table, so ``bind::relevant``, ``relevance`` and ``relevant`` are
    all ("bind", "relevant"), and ``constraint_message::French (fr)`` is ("bind", "jr:constraintMsg", "French (fr)")."""
    if double_colon:
        tokens = [t.strip() for t in header.split("::")]
    else:
        tokens = [t.strip() for t in header.split(":")]
        if "jr" in tokens[:-1]:  # "jr:count", "bind:jr:constraintMsg"
            at = tokens.index("jr")
            tokens[at : at + 2] = [f"jr:{tokens[at + 1]}"]
    first = _snake(tokens[0])
    alias = aliases.get(first, first)
    return (*(alias if isinstance(alias, tuple) else (alias,)), *tokens[1:])


def canonical_rows(rows: Rows, aliases: dict[str, Any], columns: dict[tuple[str, ...], str]) -> Rows:
    """Rows keyed by lmreview's column names (``relevant``, ``label::French (fr)``); a header naming no column
    lmreview reads keeps its own text (the choices' extra columns that a ``choice_filter`` reads by name)."""
    headers = dict.fromkeys(key for _row, cells in rows for key in cells)
    double_colon = any("::" in header for header in headers)
    names: dict[str, str | None] = {}
    for header in headers:
        path = header_path(header, aliases, double_colon)
        if columns.get(path[:1]) in TRANSLATABLE or columns.get(path[:2]) in TRANSLATABLE:
            size = 1 if path[:1] in columns else 2
            column, language = columns[path[:size]], "::".join(path[size:])
            names[header] = f"{column}::{language}" if language else column
        elif path in columns:
            names[header] = columns[path]
        elif path[0] in {p[0] for p in columns} or path[0] in ("media", "sms_field", "guidance_hint", "list_name"):
            names[header] = None  # a column pyxform knows and lmreview does not use (media, guidance ...)
        else:
            names[header] = header
    return [(row, {name: value for key, value in cells.items() if (name := names[key])}) for row, cells in rows]


def _translated(cells: dict[str, str], column: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for key, value in cells.items():
        base, _, language = key.partition("::")
        if base == column:
            texts[language.strip() or DEFAULT_LANGUAGE] = value
    return texts


def _get(cells: dict[str, str], column: str) -> str | None:
    value = cells.get(column)
    return (value.strip() or None) if value is not None else None


def _select_type(kind: str) -> tuple[str, list[str]] | None:
    """A select type under any of pyxform's names ("select one from yesNo", "select all that apply yesNo",
    "select1 yesNo") as ("select_one" | "select_multiple", the words after it); None for other types. The names for
    choices from a file are left out: :meth:`_Builder.from_file` reads those."""
    from pyxform import aliases, constants

    ours = {constants.SELECT_ONE: "select_one", constants.SELECT_ALL_THAT_APPLY: "select_multiple"}
    lowered = kind.lower()
    for name in sorted(aliases.select, key=len, reverse=True):
        if lowered.startswith(f"{name} ") and aliases.select[name] in ours and "file" not in name:
            return ours[aliases.select[name]], kind[len(name) :].split()
    return None


_FROM_FILE = (
    *("select_one_external", "select one external", "select_one_from_file", "select_multiple_from_file"),
    *("select one from file", "select multiple from file"),
)
# Functions of ODK's XPath that lmreview does not evaluate: a form using one is refused with the function named.
ODK_FUNCTIONS = {
    *("digest", "base64-decode", "area", "distance", "geofence"),
    *("decimal-time", "jr:choice-name", "choice-name", "randomize"),
    *("checklist", "weighted-checklist", "current", "sort", "extract-signed", "version"),
}
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _quotes(text: str | None) -> str | None:
    """An expression with typographic quotes (‘other’, “yes”, which a spreadsheet puts in as one types) as the
    plain quotes XPath reads."""
    return text.translate(_QUOTES) if text else text


def _flag(value: str | None) -> str | None:
    """``required``/``read_only`` cells: yes/true become "true()", no/empty become None, else an expression."""
    if value is None or value.strip().lower() in FALSE_WORDS:
        return None
    if value.strip().lower() in TRUE_WORDS:
        return "true()"
    return value.strip()


class _Builder:
    def __init__(self, filename: str, sheets: dict[str, Rows], tables: Mapping[str, attachments.Table]) -> None:
        from pyxform import aliases

        self.filename = filename
        self.tables = tables  # the attached files, by file name
        self.instances: dict[str, list[dict[str, str]]] = {}  # those read by pulldata() or instance(), by stem
        self.sheets = {
            "survey": canonical_rows(sheets.get("survey", []), aliases.survey_header, SURVEY_COLUMNS),
            "choices": canonical_rows(sheets.get("choices", []), aliases.list_header, CHOICES_COLUMNS),
            # select_one_external's options: pyxform writes them to itemsets.csv for ODK Collect; lmreview reads
            # them here as it reads the choices sheet
            "external_choices": canonical_rows(
                sheets.get("external_choices", []), aliases.list_header, CHOICES_COLUMNS
            ),
        }
        self.problems: list[Problem] = []
        self.languages: list[str] = []
        self.features: dict[str, list[int]] = {}  # an unsupported feature -> the rows that use it
        self.declared: dict[str, str] = {}  # csv-external / xml-external rows: instance name -> file name
        self.last_saved: list[tuple[int, str, str]] = []  # (row, column, question) of each ${last-saved#question}

    def problem(self, sheet: str, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(f"{self.filename}:{sheet}", row, column, message))

    def note_languages(self, cells: dict[str, str]) -> None:
        for key in cells:
            if "::" in key and key.partition("::")[0] in TRANSLATABLE:
                language = key.partition("::")[2].strip()
                if language and language not in self.languages:
                    self.languages.append(language)

    def choices(self) -> dict[str, list[Choice]]:
        lists: dict[str, list[Choice]] = {}
        for _row, cells in [*self.sheets.get("choices", []), *self.sheets.get("external_choices", [])]:
            self.note_languages(cells)
            list_name, name = _get(cells, "list_name"), _get(cells, "name")
            if not list_name or not name:
                continue  # pyxform reports these
            known = set(CHOICES_COLUMNS.values())
            filters = {k: v for k, v in cells.items() if "::" not in k and k not in known and v.strip()}
            lists.setdefault(list_name, []).append(Choice(name, _translated(cells, "label"), filters))
        return lists

    def survey(self, choices: dict[str, list[Choice]]) -> list[Question]:
        root: list[Question] = []
        stack: list[tuple[Question | None, list[Question]]] = [(None, root)]
        for row, cells in self.sheets.get("survey", []):
            self.note_languages(cells)
            raw = " ".join((_get(cells, "type") or "").split())
            if not raw:
                continue
            kind = ALIASES.get(raw.lower(), raw)  # a list name keeps its case: XLSForm list names are case-sensitive
            if kind.lower() in ("end group", "end repeat", "end loop", "end_loop"):
                if len(stack) > 1:
                    stack.pop()
                continue
            parent = stack[-1][0]
            name = _get(cells, "name") or ""
            path = f"{parent.path}/{name}" if parent else name
            question = self.question(row, cells, kind, name, path, choices)
            if question is None:
                continue
            stack[-1][1].append(question)
            if question.type in STRUCTURE_TYPES:
                stack.append((question, question.children))
            elif question.or_other:
                other = Question(
                    type="text",
                    name=f"{name}_other",
                    path=f"{path}_other",
                    row=row,
                    labels=dict.fromkeys(question.labels, "Specify other.") or {},
                    relevant=f"selected(${{{name}}}, 'other')",
                )
                stack[-1][1].append(other)
        return root

    def unsupported(self, row: int, feature: str) -> None:
        self.features.setdefault(feature, []).append(row)

    def question(
        self, row: int, cells: dict[str, str], kind: str, name: str, path: str, choices: dict[str, list[Choice]]
    ) -> Question | None:
        list_name, or_other = None, False
        lowered = kind.lower()
        select = None if lowered.startswith(_FROM_FILE) else _select_type(kind)
        if lowered in ("begin group", "begin repeat"):
            base = lowered.split()[1]
        elif select is not None:
            base, words = select
            if not words:
                self.problem("survey", row, "type", f'"{kind}" needs a choice list: {base} LIST_NAME')
                return None
            list_name = words[0]
            or_other = " ".join(words[1:]).lower() in ("or_other", "or other", "or specify other")
            if or_other:
                options = choices.setdefault(list_name, [])
                if not any(c.name == "other" for c in options):
                    options.append(Choice("other", dict.fromkeys(self.languages, "Other") or {}))
        elif lowered.startswith("rank ") and len(kind.split()) == 2:  # rank LIST: every option, in order
            base, list_name = "rank", kind.split()[1]
        elif lowered.startswith(("select_one_external ", "select one external ")) and len(kind.split()) >= 2:
            base, list_name = "select_one", kind.split()[-1]
            if list_name not in choices:
                self.problem("survey", row, "type", f'"{kind}": the external_choices sheet has no list {list_name}')
                return None
        elif lowered.startswith(_FROM_FILE):
            from_file = self.from_file(row, kind, cells, choices)
            if from_file is None:
                return None
            base, list_name = from_file
        elif lowered.startswith(("csv-external", "xml-external")) and len(kind.split()) == 2:
            self.declared[kind.split()[1]] = f"{kind.split()[1]}.{lowered[:3]}"
            self.table(row, "type", self.declared[kind.split()[1]], kind)
            return None
        elif lowered in ("csv-external", "xml-external") and name:  # the usual spelling: the file's name in "name"
            self.declared[name] = f"{name}.{lowered[:3]}"
            self.table(row, "type", self.declared[name], f'"{kind}" {name}')
            return None
        elif lowered.startswith(("begin loop", "begin_loop")):
            self.unsupported(row, "loops (begin loop)")
            return None
        else:
            words = kind.split()  # "phone number", "add date prompt"; "rank LIST" has its list after the type
            found = next((k for n in range(len(words), 0, -1) if (k := form_types.classify(" ".join(words[:n])))), None)
            if found is None:
                supported = ", ".join((*QUESTION_TYPES, "begin group", "begin repeat"))
                self.problem("survey", row, "type", f'"{kind}" questions are not supported; use one of {supported}')
                return None
            if found.unsupported:
                self.unsupported(row, found.unsupported)
                return None
            base = found.type or "text"
        question = Question(
            type=base,
            name=name,
            path=path,
            row=row,
            labels=_translated(cells, "label"),
            hints=_translated(cells, "hint"),
            required=_flag(_quotes(_get(cells, "required"))),
            required_messages=_translated(cells, "required_message"),
            relevant=_quotes(_get(cells, "relevant")),
            constraint=_quotes(_get(cells, "constraint")),
            constraint_messages=_translated(cells, "constraint_message"),
            calculation=_quotes(_get(cells, "calculation")),
            default=_quotes(_get(cells, "default")),
            read_only=_flag(_get(cells, "read_only")) is not None,
            choice_filter=_quotes(_get(cells, "choice_filter")),
            appearance=_get(cells, "appearance"),
            list_name=list_name,
            or_other=or_other,
            repeat_count=_quotes(_get(cells, "repeat_count")),
            parameters=_get(cells, "parameters") if base in ("range", *form_types.MEDIA_TYPES) else None,
            accept=_get(cells, "accept") if base in form_types.MEDIA_TYPES else None,
        )
        for column in (*EXPRESSION_COLUMNS, "required"):
            text = getattr(question, column)
            if text and text != "true()":
                self.check_expression(row, column, text, name, choices)
        if question.appearance and "search(" in question.appearance:  # options from a CSV through the appearance
            self.unsupported(row, "the search() appearance (use select_one_from_file with a choice_filter)")
        if question.default and "${last-saved#" in question.default:
            for wanted in re.findall(r"\$\{last-saved#([^}]+)\}", question.default):
                self.last_saved.append((row, "default", wanted))
        default = question.default
        if default and not re.fullmatch(r"\$\{last-saved#[^}]+\}", default.strip()):
            from lmreview.questionnaire.engine import dynamic_default  # the engine reads the definition built here

            if dynamic_default(default, question.type):  # an expression: refused now if it cannot be evaluated
                self.check_expression(row, "default", default, name, choices)
        return question

    def table(self, row: int, column: str, filename: str, used_by: str) -> attachments.Table | None:
        """An attached file a row reads, or a problem naming the file when it is not attached."""
        found = self.tables.get(filename)
        if found is None:
            message = (
                f"{used_by} reads the file {filename}, which is not attached: add it with the form "
                f"(lmreview form add FORM --attach {filename}, or with the form on the upload page)"
            )
            self.problem("survey", row, column, message)
        return found

    def from_file(
        self, row: int, kind: str, cells: dict[str, str], choices: dict[str, list[Choice]]
    ) -> tuple[str, str] | None:
        """``select_one_from_file FILE``: a select whose options are the rows of an attached file, their ``name``
        and ``label`` columns, or the columns its ``parameters`` name (``value=code label=title``)."""
        words = kind.split()
        if "external" in kind.lower() or len(words) < 2 or words[-1].lower() == "file":
            self.problem("survey", row, "type", f'"{kind}" needs the name of an attached file: {words[0]} FILE.csv')
            return None
        base = "select_multiple" if "multiple" in kind.lower() else "select_one"
        filename = words[-1]
        table = self.table(row, "type", filename, f'"{kind}"')
        if table is None:
            return None
        columns = dict(p.split("=", 1) for p in (_get(cells, "parameters") or "").split() if "=" in p)
        value, label = columns.get("value", "name"), columns.get("label", "label")
        list_name = filename if (value, label) == ("name", "label") else f"{filename} value={value} label={label}"
        if list_name not in choices:
            present = attachments.columns(table)
            missing = [c for c in (value, label) if c not in present]
            if missing:
                message = (
                    f'"{kind}": {filename} has no column "{missing[0]}" (its columns: {", ".join(sorted(present))})'
                )
                self.problem("survey", row, "type", message)
                return None
            options: dict[str, Choice] = {}
            for r in table:
                if r.get(value) and r[value] not in options:
                    labels = {DEFAULT_LANGUAGE: r.get(label) or r[value]}
                    for key, text in r.items():
                        if key.startswith(f"{label}::") and text:
                            labels[key.partition("::")[2].strip()] = text
                    filters = {k: v for k, v in r.items() if k not in (value, label) and "::" not in k and v}
                    options[r[value]] = Choice(r[value], labels, filters)
            choices[list_name] = list(options.values())
        return base, list_name

    def check_lookups(self, row: int, column: str, tree: expressions.Expr, choices: dict[str, list[Choice]]) -> None:
        """Each pulldata() and instance() names a file attached (or a choice list), and the columns it reads."""
        stems = {attachments.instance_name(f): f for f in self.tables}
        for node in expressions.walk(tree):
            if isinstance(node, expressions.Call) and node.name == "pulldata":
                literal = [a.value if isinstance(a, expressions.Literal) else None for a in node.args]
                name, wanted = literal[0], [c for c in literal[1:3] if isinstance(c, str)]
            elif isinstance(node, expressions.Lookup):
                name, wanted = node.instance, [node.column]
            else:
                continue
            if not isinstance(name, str):
                continue  # a file named by an answer: it reads nothing when no such file is attached
            call = f"{'pulldata' if isinstance(node, expressions.Call) else 'instance'}('{name}')"
            if name in stems:
                table = self.tables[stems[name]]
                self.instances[name] = table
                present = attachments.columns(table)
                where = stems[name]
            elif name in choices:
                present = {"name", "label"}.union(*(c.filters.keys() for c in choices[name]))
                where = f"the choice list {name}"
            elif name in self.declared:
                continue  # declared by a csv-external or xml-external row, which names the missing file already
            else:
                self.table(row, column, f"{name}.csv", call)
                continue
            for wanted_column in wanted:
                if wanted_column not in present:
                    message = f'{call} reads the column "{wanted_column}", which {where} does not have'
                    self.problem("survey", row, column, f"{message} (its columns: {', '.join(sorted(present))})")

    def check_expression(self, row: int, column: str, text: str, name: str, choices: dict[str, list[Choice]]) -> None:
        for wanted in re.findall(r"\$\{last-saved#([^}]+)\}", text):
            self.last_saved.append((row, column, wanted))
        try:
            tree = expressions.parse(text, names=column == "choice_filter")
            self.check_lookups(row, column, tree, choices)
        except expressions.ExpressionError as exc:
            unknown = re.match(r'unknown function "([\w:.-]+)\(\)"', str(exc))
            if unknown and unknown[1] in ODK_FUNCTIONS:
                self.unsupported(row, f"the function {unknown[1]}()")
                return
            self.problem("survey", row, column, f'question "{name}": {exc}' if name else str(exc))


def _settings(sheets: dict[str, Rows]) -> dict[str, str]:
    """The settings row, under the names read here: pyxform's aliases (``set_form_title``) become ``form_title``."""
    from pyxform import aliases

    rows = sheets.get("settings", [])
    cells = rows[0][1].items() if rows else []
    named = {aliases.settings_header.get(_snake(k), _snake(k)): v.strip() for k, v in cells}
    return {_SETTINGS.get(k, k): v for k, v in named.items()}


def _unsupported(filename: str, features: dict[str, list[int]]) -> Problem:
    """One reason a form cannot be served: the features lmreview lacks, each with the rows that use it."""

    def rows(numbers: list[int]) -> str:
        shown = ", ".join(str(n) for n in numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
        return f"row{'s' if len(numbers) > 1 else ''} {shown}"

    (first, first_rows), *others = features.items()
    message = f"lmreview cannot serve this form: it uses {first} ({rows(first_rows)}), which lmreview does not support"
    if others:
        message += "; it also uses " + "; ".join(f"{name} ({rows(numbers)})" for name, numbers in others)
    return Problem(f"{filename}:survey", first_rows[0], "type", message)


def parse_form(
    data: bytes, filename: str, name: str | None = None, files: Mapping[str, bytes] | None = None
) -> ParsedForm:
    """Validate an XLSForm and describe it; raises BadInput with every problem found. ``files`` are the files
    attached to the form by name (the CSV, XML or GeoJSON tables of select_one_from_file, pulldata(), instance())."""
    file_format, sheets = read_source(data, filename)
    if "survey" not in sheets:
        raise BadInput([Problem(filename, 0, "-", "an XLSForm has a sheet named survey (and usually choices)")])
    settings = _settings(sheets)
    form_id = name or settings.get("form_id") or re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename).stem)
    xform, warnings = _pyxform(data, file_format, filename)
    tables = attachments.read_attachments(files or {})
    builder = _Builder(filename, sheets, tables)
    choices = builder.choices()
    survey = builder.survey(choices)
    names = {q.name for root in survey for q in root.walk()}
    for row, column, wanted in dict.fromkeys(builder.last_saved):  # a default expression is listed twice
        if wanted not in names:
            builder.problem("survey", row, column, f"${{last-saved#{wanted}}}: the form has no question {wanted}")
    if builder.features:
        raise BadInput([_unsupported(filename, builder.features)], "1 error; the form was not added")
    if builder.problems:
        raise BadInput(builder.problems)
    # Plain "label" columns are in the default language: a form without translations has that one language.
    default_language = settings.get("default_language") or (builder.languages or [DEFAULT_LANGUAGE])[0]
    languages = builder.languages or [default_language]
    if default_language not in languages:
        languages.insert(0, default_language)
    definition = FormDefinition(
        form_id=form_id,
        title=settings.get("form_title") or form_id,
        version=settings.get("version") or "",
        default_language=default_language,
        languages=languages,
        survey=survey,
        choices=choices,
        style=settings.get("style", ""),
        attachments=sorted(tables),
        instances=builder.instances,
    )
    return ParsedForm(definition, xform, warnings, file_format)
