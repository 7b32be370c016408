"""The management-response matrix: exported as XLSX (one row per key action) or DOCX (the table a unit fills in
and signs), and imported back from the XLSX a unit filled in.

An import reads the whole sheet and collects every problem (an unknown review or recommendation number, a date
that does not exist such as 31/02, a stance or status not in the list, an action of another recommendation) before
writing anything; with any problem it writes nothing. Unchanged cells change nothing, and "No response yet" never
takes a response back; a row without an action id adds a key action each time it is imported, so export the matrix
afresh after an import.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.errors import BadInput, Problem
from lmreview.questionnaire.models import Review
from lmreview.store.models import User
from lmreview.store.users import can
from lmreview.tables import normalise_header, read_table, workbook_bytes
from lmreview.tracking import service, values
from lmreview.tracking.models import Action, Recommendation

COLUMNS = (
    "Review",
    "No.",
    "Recommendation",
    "Responsible units",
    "Priority",
    "Response",
    "Response text",
    "Responded by",
    "Action id",
    "Key action",
    "Action unit",
    "Due date",
    "Status",
    "Progress comment",
)
REQUIRED = ("review", "no.")
DOCUMENT = re.compile(r"^document (\d+)$")


def matrix_rows(session: Session, recs: list[Recommendation]) -> list[list[Any]]:
    """One row per key action (a recommendation without actions has one row with the action cells empty)."""
    rows: list[list[Any]] = []
    for rec in recs:
        head = [
            service.source_name(session, rec),
            rec.number,
            rec.text,
            "; ".join(rec.units),
            rec.priority or "",
            values.STANCE_LABELS[rec.stance],
            rec.response_text or "",
            rec.responded_by or "",
        ]
        actions: list[Action | None] = list(rec.actions) or [None]
        for action in actions:
            if action is None:
                rows.append([*head, "", "", "", None, "", ""])
            else:
                status = values.STATUS_LABELS[action.status]
                rows.append([*head, action.id, action.description, action.unit or "", action.due_date, status, ""])
    return rows


def export_xlsx(session: Session, recs: list[Recommendation]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Matrix"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = matrix_rows(session, recs)
    for row in rows:
        sheet.append(row)
    last = max(len(rows) + 1, 2)
    for column, choices in (("F", values.STANCE_LABELS), ("M", values.STATUS_LABELS)):
        listed = ",".join(choices.values())
        check = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True)
        check.add(f"{column}2:{column}{last + 200}")
        sheet.add_data_validation(check)
    for row in sheet.iter_rows(min_row=2, min_col=12, max_col=12):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    widths = (10, 6, 60, 20, 10, 18, 40, 18, 9, 50, 14, 12, 20, 40)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(65 + index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C2"
    about = book.create_sheet("How to fill in")
    for line in (
        ["Fill in the Response, Response text, Key action, Action unit, Due date, Status and Progress comment."],
        [f"Response: {', '.join(values.STANCE_LABELS.values())}."],
        [f"Status: {', '.join(values.STATUS_LABELS.values())}."],
        ["Dates as 2027-03-31 or 31/03/2027. Leave Action id empty for a new key action; add a row for each."],
        ["Do not change the Review and No. columns: they say which recommendation a row answers."],
    ):
        about.append(line)
    return workbook_bytes(book)


def export_docx(session: Session, recs: list[Recommendation], title: str) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.add_heading(f"Management response: {title}", level=1)
    doc.add_paragraph(
        "For each recommendation, the responsible unit states whether management agrees, partially agrees or "
        "disagrees, explains its position, and lists the key actions it will take with their unit and due date."
    )
    for rec in recs:
        doc.add_heading(f"Recommendation {rec.number}", level=2)
        doc.add_paragraph(rec.text)
        facts = [
            ("Responsible units", "; ".join(rec.units)),
            ("Priority", rec.priority or ""),
            ("Time implication", rec.time_implication or ""),
            ("Resource implication", rec.resource_implication or ""),
            ("Management response", values.STANCE_LABELS[rec.stance]),
            ("Explanation", rec.response_text or ""),
        ]
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in facts:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
            cells[0].paragraphs[0].runs[0].bold = True
        doc.add_paragraph()
        actions = doc.add_table(rows=1, cols=4)
        actions.style = "Table Grid"
        for cell, label in zip(actions.rows[0].cells, ("Key action", "Unit", "Due date", "Status"), strict=True):
            cell.text = label
            cell.paragraphs[0].runs[0].bold = True
        for action in rec.actions or []:
            cells = actions.add_row().cells
            cells[0].text = action.description
            cells[1].text = action.unit or ""
            cells[2].text = action.due_date.isoformat() if action.due_date else ""
            cells[3].text = values.STATUS_LABELS[action.status]
        for _ in range(max(0, 2 - len(rec.actions))):  # room to write new actions by hand
            actions.add_row()
    doc.add_paragraph()
    for line in ("Name and title:", "Signature:", "Date:"):
        paragraph = doc.add_paragraph(line + " " + "_" * 40)
        paragraph.runs[0].font.size = Pt(11)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@dataclass
class ImportReport:
    responses: int = 0
    actions_added: int = 0
    actions_changed: int = 0
    comments: int = 0
    rows: int = 0
    lines: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        """The counts, one line; a dry run says that nothing was written."""
        done = (
            f"{self.rows} rows: {self.responses} responses, {self.actions_added} key actions added, "
            f"{self.actions_changed} changed, {self.comments} progress comments"
        )
        return done + (" would be written (dry run: nothing was written)" if self.dry_run else "")


@dataclass
class _Row:
    number: int
    rec: Recommendation
    stance: str | None
    text: str
    by: str
    action: Action | None
    description: str
    unit: str
    due: dt.date | None
    status: str | None
    comment: str


def _access_problem(session: Session, user: User | None, review: Review | None, name: str) -> str | None:
    """Why ``user`` may not change the recommendations of ``review`` (None: they may, or no user is checked): a
    review they are no member of is "no review", as one that does not exist; a recommendation of an evidence
    document (``review`` None) is changed by a site reviewer."""
    if user is None:
        return None
    if review is None:
        return None if can(user, "reviewer") else f"this needs the reviewer role; you are a {user.role}"
    role = access.review_role(session, user, review.id)
    if role is None:
        return f"there is no review {name!r}"
    if access.ROLE_RANK[role] < access.ROLE_RANK["reviewer"]:
        return f"this needs the reviewer role in review {review.name}; you are a {role} there"
    return None


def _read(session: Session, data: bytes, filename: str, user: User | None = None) -> list[_Row]:
    table = read_table(data, filename)
    index = {normalise_header(name): i for i, name in enumerate(table.header)}
    missing = [c for c in REQUIRED if normalise_header(c) not in index]
    if missing:
        names = ", ".join(c.capitalize() for c in missing)
        raise BadInput([Problem(filename, table.header_row, "-", f"the matrix needs the column(s) {names}")])
    problems: list[Problem] = []
    reviews: dict[str, Review | None] = {}
    rows: list[_Row] = []
    stances: dict[int, tuple[int, str]] = {}  # the first row changing each recommendation's response

    for number, cells in table.rows:

        def cell(name: str, cells: list[str] = cells) -> str:
            i = index.get(normalise_header(name))
            return cells[i].strip() if i is not None else ""

        def problem(column: str, message: str, number: int = number) -> None:
            problems.append(Problem(filename, number, column, message))

        review_name, rec_number = cell("Review"), cell("No.")
        from_document = DOCUMENT.match(review_name)
        if from_document:  # a recommendation found in an evidence document, exported as "document N"
            refused = _access_problem(session, user, None, review_name)
            if refused:
                problem("Review", refused)
                continue
            rec = service.find_recommendation(session, None, rec_number, int(from_document[1]))
        else:
            if review_name not in reviews:
                reviews[review_name] = session.scalar(select(Review).where(Review.name == review_name))
            review = reviews[review_name]
            if review is None:
                problem("Review", f"there is no review {review_name!r}" if review_name else "the review is empty")
                continue
            refused = _access_problem(session, user, review, review_name)
            if refused:
                problem("Review", refused)
                continue
            rec = service.find_recommendation(session, review, rec_number)
        if rec is None:
            problem("No.", f"{'' if from_document else 'review '}{review_name} has no recommendation {rec_number!r}")
            continue
        stance = values.stance(cell("Response")) if cell("Response") else None
        if cell("Response") and stance is None:
            problem("Response", f"{cell('Response')!r} is not a response; use {values.stance_choices()}")
        text = cell("Response text")
        if stance in ("partially_agrees", "disagrees") and not text and not rec.response_text:
            problem("Response text", "say why management only partially agrees or disagrees")
        if stance == "no_response" or (stance == rec.stance and (not text or text == (rec.response_text or ""))):
            stance = None  # as exported, or a row the unit left: a response is not taken back through a matrix
        if stance is not None:
            earlier = stances.setdefault(rec.id, (number, f"{stance}|{text}"))
            if earlier[1] != f"{stance}|{text}":
                problem("Response", f"row {earlier[0]} gives another response to recommendation {rec.number}")
        action: Action | None = None
        if cell("Action id"):
            wanted = cell("Action id")
            action = next((a for a in rec.actions if str(a.id) == wanted), None)
            if action is None:
                problem("Action id", f"recommendation {rec.number} has no key action {wanted}")
        due: dt.date | None = None
        if cell("Due date"):
            due = values.date(cell("Due date"))
            if due is None:
                problem("Due date", f"{cell('Due date')!r} is not a date; write 2027-03-31 or 31/03/2027")
        status = values.status(cell("Status")) if cell("Status") else None
        if cell("Status") and status is None:
            problem("Status", f"{cell('Status')!r} is not a status; use {values.status_choices()}")
        description = cell("Key action")
        if action is None and not description and (cell("Due date") or cell("Status") or cell("Progress comment")):
            problem("Key action", "describe the new key action (or give the id of an existing one)")
        rows.append(
            _Row(
                number,
                rec,
                stance,
                text,
                cell("Responded by"),
                action,
                description,
                cell("Action unit"),
                due,
                status,
                cell("Progress comment"),
            )
        )
    if problems:
        raise BadInput(problems)
    return rows


def import_matrix(
    session: Session,
    data: bytes,
    filename: str,
    *,
    actor: str,
    user: User | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Apply a filled matrix: responses, new and changed key actions, progress comments; all or nothing. With
    ``user`` (the web's, or the CLI's run as ``--user NAME``), every row's review must be one they review. With
    ``dry_run`` every row is checked and applied inside a savepoint that is then rolled back: the report says what
    an import would do, and nothing is written."""
    rows = _read(session, data, filename, user if user is not None else access.acting_user(session))
    savepoint = session.begin_nested()
    report = _apply(session, rows, actor)
    report.dry_run = dry_run
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return report


def _apply(session: Session, rows: list[_Row], actor: str) -> ImportReport:
    report = ImportReport(rows=len(rows))
    responded: set[int] = set()
    for row in rows:
        rec = row.rec
        if row.stance is not None and rec.id not in responded:
            text = row.text or rec.response_text
            if (row.stance, text) != (rec.stance, rec.response_text):
                service.respond(session, rec.id, stance=row.stance, text=text, by=row.by or actor, actor=actor)
                report.responses += 1
                report.lines.append(f"recommendation {rec.number}: {values.STANCE_LABELS[row.stance].lower()}")
            responded.add(rec.id)
        if row.action is None and row.description:
            action = service.add_action(
                session,
                rec.id,
                description=row.description,
                unit=row.unit or None,
                due=row.due,
                status=row.status or "not_initiated",
                actor=actor,
            )
            report.actions_added += 1
            report.lines.append(f"recommendation {rec.number}: new key action {action.id}")
            if row.comment:
                service.update_action(session, action.id, actor=actor, comment=row.comment, author=row.by or actor)
                report.comments += 1
        elif row.action is not None:
            a = row.action
            changes: dict[str, Any] = {}
            if row.status and row.status != a.status:
                changes["status"] = row.status
            if row.due and row.due != a.due_date:
                changes["due"] = row.due
            if row.description and row.description != a.description:
                changes["description"] = row.description
            if row.unit and row.unit != (a.unit or ""):
                changes["unit"] = row.unit
            if changes or row.comment:
                service.update_action(
                    session, a.id, actor=actor, comment=row.comment or None, author=row.by or actor, **changes
                )
                report.actions_changed += bool(changes)
                report.comments += bool(row.comment)
                report.lines.append(
                    f"key action {a.id}: " + ", ".join([*changes, *(["comment"] if row.comment else [])])
                )
    return report
