"""The roster of a review: who answers for which project. Imported from CSV/XLSX with the portfolio's row rules
(every error at once, ``FILE:ROW:COLUMN``, nothing written when any row is wrong) or added one by one.

A respondent is matched on re-import by e-mail and project code (or name and project code when there is no
e-mail), so a corrected roster updates people instead of duplicating them.

Names and e-mail addresses end up in the headers of invitations, so they are checked where they come in: a name is
one line without ``<>,;"`` or control characters (a name such as ``Mallory <m@evil.example>, Ana`` could otherwise
add a recipient), an e-mail is one plain address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Respondent, Review
from lmreview.questionnaire.reviews import (
    RESPONDENT_STATUSES,
    entered_projects,
    projects_by_code,
    respondent_status,
    respondent_statuses,
    submissions_by_respondent,
)
from lmreview.store import audit
from lmreview.store.base import find_row
from lmreview.tables import normalise_header, read_table

COLUMNS = ("project_code", "name", "email", "role", "office", "language")
ALIASES = {"code": "project_code", "project": "project_code", "e_mail": "email", "mail": "email", "lang": "language"}
EMAIL = re.compile(r"^[^@\s<>,;\"()\[\]\\]+@[^@\s<>,;\"()\[\]\\]+\.[^@\s<>,;\"()\[\]\\]+$")
NAME_FORBIDDEN = '<>,;"'
LINE_BREAKS = ("Zl", "Zp")  # besides CR and LF: the Unicode line and paragraph separators
CONTROLS = ("Cc", "Cs")
# Direction overrides and invisible characters could make a name display as something else in a mail client. The
# zero-width (non-)joiners U+200C and U+200D stay allowed: Persian and Indic names need them.
INVISIBLE = (
    frozenset("\u200b\u200e\u200f\u2060\ufeff")
    | frozenset(map(chr, range(0x202A, 0x202F)))
    | frozenset(map(chr, range(0x2066, 0x206A)))
)
LIMITS = {"name": 200, "email": 254, "role": 120, "office": 200, "language": 80, "project_code": 80}


@dataclass
class RosterReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class RespondentRow:
    respondent: Respondent
    status: str
    project_title: str | None


def _key(email: str | None, name: str, code: str | None) -> tuple[str, str]:
    return ((email or name).casefold(), (code or "").casefold())


def import_roster(session: Session, review: Review, data: bytes, filename: str, *, actor: str) -> RosterReport:
    table = read_table(data, filename)
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, raw in enumerate(table.header):
        key = ALIASES.get(normalise_header(raw), normalise_header(raw))
        if key in COLUMNS:
            columns[key] = index
        elif raw:
            problems.append(Problem(filename, table.header_row, raw, "unknown column; ignored", severity="warning"))
    if "name" not in columns:
        raise BadInput([Problem(filename, table.header_row, "-", "the roster needs a name column")])
    projects = projects_by_code(session, review)
    rows: list[tuple[int, dict[str, str | None]]] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        values: dict[str, str | None] = {c: (cells[i].strip() or None) for c, i in columns.items()}
        header = {c: table.header[i] for c, i in columns.items()}
        errors = _check(values, projects, review)
        problems.extend(Problem(filename, number, header.get(c, c), m) for c, m in errors)
        person = _key(values.get("email"), values.get("name") or "", values.get("project_code"))
        if person in seen and values.get("name"):
            problems.append(
                Problem(filename, number, header.get("email", "name"), f"the same person as row {seen[person]}")
            )
        seen.setdefault(person, number)
        rows.append((number, values))
    if any(p.severity == "error" for p in problems):
        raise BadInput(problems)
    report = RosterReport(warnings=[p for p in problems if p.severity == "warning"])
    existing = {
        _key(r.email, r.name, r.project_code): r
        for r in session.scalars(select(Respondent).where(Respondent.review_id == review.id))
    }
    for _number, values in rows:
        code = values.get("project_code")
        project = projects.get(code.casefold()) if code else None
        fields = {
            "name": values["name"],
            "email": values.get("email"),
            "role": values.get("role"),
            "office": values.get("office"),
            "language": values.get("language"),
            "project_code": project.code if project else code,
            "project_id": project.id if project else None,
        }
        label = f"{fields['name']} ({fields['project_code'] or 'no project'})"
        found = existing.get(_key(fields["email"], fields["name"] or "", code))  # type: ignore[arg-type]
        if found is None:
            respondent = Respondent(review_id=review.id, **fields)
            session.add(respondent)
            report.created.append(label)
            continue
        changed = {k: v for k, v in fields.items() if getattr(found, k) != v}
        if not changed:
            report.unchanged.append(label)
            continue
        before = {k: getattr(found, k) for k in changed}
        for k, v in changed.items():
            setattr(found, k, v)
        report.updated.append(label)
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="respondent",
            entity_id=found.id,
            before=before,
            after=changed,
            summary=f"changed {', '.join(changed)} by importing {filename}",
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="review",
        entity_id=review.id,
        after={"roster": filename, "created": len(report.created), "updated": len(report.updated)},
        summary=f"imported the roster {filename}: {len(report.created)} added, {len(report.updated)} updated",
    )
    return report


def shown(text: str) -> str:
    """``text`` with its invisible characters written out (``\\n``, ``\\x00``), for a message about it."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a respondent's name (it goes into the To header of their invitation), or None."""
    if any(ch in "\r\n" or unicodedata.category(ch) in LINE_BREAKS for ch in name):
        return f'"{shown(name)}" is not one line: a name cannot hold a line break'
    if any(unicodedata.category(ch) in CONTROLS for ch in name):
        return f'"{shown(name)}" holds a control character'
    if any(ch in INVISIBLE for ch in name):
        return f'"{ascii(name)[1:-1]}" holds an invisible or text-direction character; type the name again'
    if any(ch in NAME_FORBIDDEN for ch in name):
        return (
            f'"{name}": a name cannot hold any of {" ".join(NAME_FORBIDDEN)} (it goes into the header of e-mails); '
            'write it as "Ana Silva" rather than "Silva, Ana"'
        )
    return None


def email_problem(email: str) -> str | None:
    """Why ``email`` is not one plain e-mail address, or None."""
    if not EMAIL.match(email):
        return f'"{shown(email)}" is not an e-mail address'
    if not email.isascii():
        return f'"{shown(email)}": lmreview sends mail over plain SMTP, which takes addresses in ASCII letters only'
    try:
        parsed = Address(addr_spec=email)
    except (ValueError, HeaderParseError):  # the email package's header defects
        return f'"{shown(email)}" is not an e-mail address'
    if parsed.addr_spec != email:
        return f'"{shown(email)}" is not an e-mail address'
    return None


def _check(values: dict[str, str | None], projects: dict[str, Project], review: Review) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    name = values.get("name")
    if not name:
        errors.append(("name", "the name is empty"))
    elif problem := name_problem(name):
        errors.append(("name", problem))
    email = values.get("email")
    if email and (problem := email_problem(email)):
        errors.append(("email", problem))
    code = values.get("project_code")
    if code and review.portfolio_id is not None and code.casefold() not in projects:
        errors.append(("project_code", f'"{code}" is not a project of the review\'s portfolio'))
    for column, limit in LIMITS.items():
        value = values.get(column)
        if value and len(value) > limit:
            errors.append((column, f"longer than {limit} characters"))
    return errors


def add_respondent(
    session: Session,
    review: Review,
    *,
    name: str,
    actor: str,
    email: str | None = None,
    project_code: str | None = None,
    role: str | None = None,
    office: str | None = None,
    language: str | None = None,
) -> Respondent:
    projects = projects_by_code(session, review)
    values: dict[str, str | None] = {
        "name": name.strip() or None,
        "email": (email or "").strip() or None,
        "project_code": (project_code or "").strip() or None,
        "role": role,
        "office": office,
        "language": language,
    }
    errors = _check(values, projects, review)
    if errors:
        raise BadInput([Problem("respondent", 0, column, message) for column, message in errors])
    code = values["project_code"]
    project = projects.get(code.casefold()) if code else None
    respondent = Respondent(
        review_id=review.id,
        name=values["name"] or "",
        email=values["email"],
        project_code=project.code if project else code,
        project_id=project.id if project else None,
        role=role or None,
        office=office or None,
        language=language or None,
    )
    session.add(respondent)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="respondent",
        entity_id=respondent.id,
        after={k: v for k, v in values.items() if v},
        summary=f"added respondent {respondent.name}",
    )
    return respondent


def list_respondents(session: Session, review: Review) -> list[RespondentRow]:
    submissions = submissions_by_respondent(session, review)
    entered = entered_projects(session, review)
    titles = dict(
        session.execute(select(Project.id, Project.title).where(Project.portfolio_id == review.portfolio_id)).all()
    )
    return [
        RespondentRow(
            r,
            respondent_status(r, submissions.get(r.id, []), entered),
            titles.get(r.project_id) if r.project_id else None,
        )
        for r in session.scalars(
            select(Respondent)
            .where(Respondent.review_id == review.id)
            .order_by(Respondent.project_code, Respondent.name, Respondent.id)
        )
    ]


def page_respondents(
    session: Session, review: Review, *, limit: int, offset: int = 0, status: str | None = None
) -> tuple[list[RespondentRow], int]:
    """One page of :func:`list_respondents` (same order, same statuses): the rows from ``offset`` on, at most
    ``limit``, of those whose status is ``status`` (any when None), and how many match in all. The statuses are read
    from plain rows for the whole roster (a filter needs them all); the respondents themselves, their invitations and
    their projects' titles only for the page."""
    if status is not None and status not in RESPONDENT_STATUSES:
        raise BadInput([Problem("status", 0, "-", f'"{status}" is not one of {", ".join(RESPONDENT_STATUSES)}')])
    statuses = respondent_statuses(session, review)
    matching = [id_ for id_, found in statuses.items() if status is None or found == status]
    ids = matching[offset : offset + limit]
    if not ids:
        return [], len(matching)
    people = {
        r.id: r
        for r in session.scalars(
            select(Respondent).where(Respondent.id.in_(ids)).options(selectinload(Respondent.invitations))
        )
    }
    projects = {r.project_id for r in people.values() if r.project_id is not None}
    titles = dict(session.execute(select(Project.id, Project.title).where(Project.id.in_(projects))).all())
    rows = [RespondentRow(people[i], statuses[i], titles.get(people[i].project_id or 0)) for i in ids]
    return rows, len(matching)


def get_respondent(session: Session, review: Review, respondent_id: int) -> Respondent:
    found = find_row(session, Respondent, respondent_id)
    if found is None or found.review_id != review.id:
        raise NotFound(f"review {review.name} has no respondent {respondent_id}")
    return found
