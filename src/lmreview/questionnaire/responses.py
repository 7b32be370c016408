"""Import and export of responses: KoboToolbox and ODK Central exports in, Kobo's layout out.

An import is one transaction: any error in the file and nothing is written. A submission is recognised by its
instance id (Kobo ``_uuid``, ODK ``KEY``), so importing the same export twice changes nothing, and importing a newer
export of the same survey updates the answers that changed, each change kept with the file it came from.
"""

from __future__ import annotations

import copy
import io
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire import engine, exchange, forms, media, reviews
from lmreview.questionnaire.models import Form, FormVersion, Review, Submission, SubmissionChange
from lmreview.questionnaire.xlsform import FormDefinition
from lmreview.store import audit
from lmreview.store.base import utcnow


@dataclass
class ResponseImport:
    form: str
    review: str | None
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # submissions stored before (without a review or a project) that this import attached to the review / project
    attached: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files_stored: int = 0  # files of media answers found in the export's zip and kept
    files_missing: int = 0  # media answers whose file the export does not hold (their names are kept)


def _leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(instance path, value) of every answer of a document: ``grp/q``, ``outcomes[2]/outcome``."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}{key}/")
    elif isinstance(data, list):
        base = prefix.rstrip("/")
        for index, item in enumerate(data, start=1):
            yield from _leaves(item, f"{base}[{index}]/")
    else:
        yield prefix.rstrip("/"), "" if data is None else str(data)


def _project_code(definition: FormDefinition, data: dict[str, Any]) -> str | None:
    for question in definition.walk():
        if question.name == "project_code" and "[" not in question.path:
            value: Any = data
            for part in question.path.split("/"):
                value = value.get(part) if isinstance(value, dict) else None
            return value if isinstance(value, str) and value else None
    return None


def _version(form: Form, wanted: str | None) -> FormVersion:
    for version in form.versions:
        if wanted is not None and version.version == wanted:
            return version
    return forms.latest_version(form)


def import_responses(
    session: Session,
    form_name: str,
    data: exchange.Source,
    filename: str,
    *,
    actor: str,
    review: Review | None = None,
    media_limit: int = media.DEFAULT_MAX_BYTES,
    visible: set[int] | None = None,
) -> ResponseImport:
    """Import an export (bytes, or an open file: a zip is then read member by member, see ``exchange.Source``)."""
    form = forms.get_form(session, form_name)
    definition = forms.definition_of(forms.latest_version(form))
    versions = {v.version: forms.definition_of(v) for v in form.versions}
    records, problems = exchange.read_responses(data, filename, definition, versions)
    projects: dict[str, Project] = reviews.projects_by_code(session, review) if review is not None else {}
    name = Path(filename).name
    existing = {
        s.instance_id: s
        for s in session.scalars(
            select(Submission).where(Submission.instance_id.in_([r.instance_id for r in records] or [""]))
        )
    }
    known = {v.version for v in form.versions}
    unknown_versions: set[str] = set()
    for record in records:
        found = existing.get(record.instance_id)
        if found is not None and found.form_version.form_id != form.id:
            problems.append(
                Problem(filename, record.row, "-", f"submission {record.instance_id} belongs to another form")
            )
        elif (
            found is not None
            and visible is not None
            and found.review_id is not None
            and found.review_id not in visible
            and (review is None or found.review_id != review.id)
        ):
            # a submission of a review the caller may not see: neither changed nor named
            message = f"submission {record.instance_id} is already in lmreview and is not yours to change"
            problems.append(Problem(filename, record.row, "-", message))
        if record.version and record.version not in known and record.version not in unknown_versions:
            unknown_versions.add(record.version)
            problems.append(
                Problem(
                    filename,
                    record.row,
                    "-",
                    f"form version {record.version!r} is not in lmreview (it has {', '.join(sorted(known))}); "
                    "these submissions are read with the newest (the export's version column names a form version "
                    "that was never added to lmreview: add it with lmreview form add to read them with it)",
                    severity="warning",
                )
            )
        code = _project_code(definition, record.data)
        if review is not None and code and code.casefold() not in projects:
            problems.append(
                Problem(
                    filename,
                    record.row,
                    "project_code",
                    f'"{code}" is not a project of the portfolio of review {review.name}',
                    severity="warning",
                )
            )
    if any(p.severity == "error" for p in problems):
        raise BadInput(problems)
    result = ResponseImport(form.name, review.name if review else None, warnings=problems)
    for record in records:
        code = _project_code(definition, record.data)
        project = projects.get(code.casefold()) if code else None
        found = existing.get(record.instance_id)
        if found is None:
            submission = Submission(
                instance_id=record.instance_id,
                form_version_id=_version(form, record.version).id,
                review_id=review.id if review else None,
                project_id=project.id if project else None,
                status="submitted",
                review_state=exchange.review_state(record),
                source=record.source,
                data=record.data,
                original=copy.deepcopy(record.data),
                meta=record.meta,
                submitted_at=record.submitted_at,
            )
            session.add(submission)
            result.created.append(record.instance_id)
            continue
        if (review is not None and found.review_id is None) or (project is not None and found.project_id is None):
            found.review_id = found.review_id or (review.id if review else None)
            found.project_id = found.project_id or (project.id if project else None)
            result.attached.append(record.instance_id)
        before, after = dict(_leaves(found.data)), dict(_leaves(record.data))
        changed = sorted(p for p in set(before) | set(after) if before.get(p, "") != after.get(p, ""))
        if not changed:  # the source's own columns (Kobo _id, ODK SubmitterID…) are kept from the first import
            result.unchanged.append(record.instance_id)
            continue
        for path in changed:
            session.add(
                SubmissionChange(
                    submission_id=found.id,
                    path=path,
                    old=before.get(path) or None,
                    new=after.get(path) or None,
                    actor=actor,
                    reason=f"re-imported from {name}",
                )
            )
        found.data = record.data
        if project is not None:
            found.project_id = project.id
        result.updated.append(record.instance_id)
    session.flush()
    _attach_files(session, result, records, definition, data, name, media_limit)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="form",
        entity_id=form.id,
        after={
            "files": result.files_stored,
            "file": name,
            "created": len(result.created),
            "updated": len(result.updated),
            "attached": len(result.attached),
        },
        summary=f"imported {len(result.created)} submissions and updated {len(result.updated)} from {name}",
    )
    return result


def _attach_files(
    session: Session,
    result: ResponseImport,
    records: list[exchange.ImportedSubmission],
    definition: FormDefinition,
    data: exchange.Source,
    name: str,
    limit: int,
) -> None:
    """Store the files the answers name that the export's zip holds (ODK Central's ``media/`` folder); count the
    ones it does not hold. A file lmreview does not accept (too large, not the kind the question asks for) is left
    out with a warning: its answer keeps the name, as when the file is missing."""
    wanted = [(r, media.media_answers(definition, r.data)) for r in records]
    if not any(found for _r, found in wanted):
        return
    archive = exchange.open_zip(data, name) if exchange.is_zip(data) else None
    members = exchange.media_members(archive) if archive is not None else {}
    by_instance = {
        s.instance_id: s
        for s in session.scalars(
            select(Submission).where(Submission.instance_id.in_([r.instance_id for r, _ in wanted]))
        )
    }
    try:
        for record, answers in wanted:
            submission = by_instance.get(record.instance_id)
            if submission is None:
                continue
            for path, (question, filename) in answers.items():
                candidates = members.get(filename, [])
                key = record.instance_id.removeprefix("uuid:")
                info = next((i for i in candidates if key in i.filename), candidates[0] if candidates else None)
                if info is None or archive is None:
                    result.files_missing += 1
                    continue
                try:
                    with archive.open(info) as member:
                        content = member.read(limit + 1)
                except Exception as exc:  # zlib, CRC and truncation errors: a damaged member, left out
                    damage = type(exc).__name__
                    message = f"{filename} is not kept: {info.filename} cannot be read from the zip ({damage})"
                    result.warnings.append(Problem(name, record.row, path, message, severity="warning"))
                    result.files_missing += 1
                    continue
                problem = media.problem_with(question, filename, content, limit)
                if media.safe_name(filename) != filename:
                    problem = "lmreview keeps file names without folders, control characters or %"
                if problem:
                    message = f"{filename} is not kept: {problem}"
                    result.warnings.append(Problem(name, record.row, path, message, severity="warning"))
                    result.files_missing += 1
                    continue
                kept = media.store(session, submission, question, path, filename, content, limit=limit, where=name)
                if kept.filename != filename:  # another file of the submission has this name: the answer follows
                    changed = copy.deepcopy(submission.data)
                    engine.set_path(changed, path, kept.filename)
                    submission.data = changed
                result.files_stored += 1
    finally:
        if archive is not None:
            archive.close()
    if result.files_missing:
        count = result.files_missing
        message = f"{count} media {'file is' if count == 1 else 'files are'} not in the export"
        message += (
            " (the answers keep the file names; export from ODK Central with media files, as a zip, to bring them)"
        )
        result.warnings.append(Problem(name, 0, "-", message, severity="warning"))


def export_responses(
    session: Session,
    form_name: str,
    fmt: str,
    *,
    review: Review | None = None,
    original: bool = False,
    drafts: bool = False,
    language: str | None = None,
) -> bytes:
    """The form's submissions in Kobo's layout; ``original`` gives the values as submitted or imported. ``zip`` is
    the CSV tables with the files the answers name, under ``media/INSTANCE/NAME`` (which the import reads back)."""
    if fmt not in ("csv", "xlsx", "zip"):
        raise BadInput([Problem("--format", 0, "-", f'"{fmt}" is not an export format; use csv, xlsx or zip')])
    form = forms.get_form(session, form_name)
    definition = forms.definition_of(forms.latest_version(form))
    query = (
        select(Submission)
        .join(FormVersion, Submission.form_version_id == FormVersion.id)
        .where(FormVersion.form_id == form.id)
        .order_by(Submission.id)
    )
    if review is not None:
        query = query.where(Submission.review_id == review.id)
    if not drafts:
        query = query.where(Submission.status == "submitted")
    found = list(session.scalars(query))
    rows = [
        exchange.ExportRow(
            instance_id=s.instance_id,
            data=dict(s.original or s.data) if original else dict(s.data),
            meta=dict(s.meta or {}),
            submitted_at=s.submitted_at,
            version=s.form_version.version,
            status=s.status,
            review_state=s.review_state,
            row_id=s.id,
        )
        for s in found
    ]
    older = [forms.definition_of(v) for v in form.versions[:-1]]
    table_format = "csv" if fmt == "zip" else fmt
    tables = exchange.write_responses(definition, rows, table_format, language=language, versions=older)
    if fmt != "zip":
        return tables
    return _with_files(session, definition, found, tables, original=original)


def _with_files(
    session: Session, definition: FormDefinition, found: list[Submission], tables: bytes, *, original: bool
) -> bytes:
    """A zip of the CSV ``tables`` (one table or the zip of several) and every stored file the answers name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if tables.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(tables)) as inner:
                for info in inner.infolist():
                    archive.writestr(info.filename, inner.read(info))
        else:
            archive.writestr(f"{exchange.sheet_name(definition.form_id, [])}.csv", tables)
        for submission in found:
            stored = {f.filename for f in media.files_of(session, submission.id)}
            data = (submission.original or submission.data) if original else submission.data
            names = {name for _question, name in media.media_answers(definition, data).values()}
            folder = submission.instance_id.removeprefix("uuid:").replace("/", "_")
            for name in sorted(names & stored):
                _row, content = media.read(session, submission.id, name)
                # photos, recordings and videos are compressed already: stored as they are, not deflated again
                archive.writestr(f"media/{folder}/{name}", content, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


# --- answers entered from a document ---------------------------------------------------------------------------------

DOCUMENT = reviews.DOCUMENT


def enter_from_document(
    session: Session,
    review: Review,
    project_code: str,
    data: dict[str, Any],
    *,
    document: str,
    actor: str,
    meta: dict[str, Any] | None = None,
) -> Submission:
    """Answers a reviewer entered for a project from one of its documents (e.g. the final report) because no
    questionnaire came back: a submitted submission with source ``document``. The analysis counts it; the response
    rate does not (it is not a response), and says how many projects were entered this way."""
    if review.form is None:
        raise BadInput([Problem("--review", 0, "-", f"review {review.name} has no questionnaire yet")])
    if not document.strip():
        raise BadInput([Problem("--document", 0, "-", "name the document the answers were taken from")])
    project = reviews.projects_by_code(session, review).get(project_code.casefold())
    if project is None:
        raise BadInput([Problem("--project", 0, "-", f"{project_code} is not a project of review {review.name}")])
    version = forms.latest_version(review.form)
    evaluation = engine.evaluate(forms.definition_of(version), data)
    if evaluation.errors:
        raise BadInput([Problem(path, 0, "-", message) for path, message in evaluation.errors.items()])
    submission = Submission(
        instance_id=f"uuid:{uuid.uuid4()}",
        form_version_id=version.id,
        form_version=version,
        review_id=review.id,
        project_id=project.id,
        status="submitted",
        review_state="received",
        source=DOCUMENT,
        data=evaluation.data,
        original=copy.deepcopy(evaluation.data),
        meta={**(meta or {}), "document": document.strip(), "entered_by": actor},
        submitted_at=utcnow(),
    )
    session.add(submission)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="submission",
        entity_id=submission.id,
        after={"project": project.code, "source": DOCUMENT, "document": document.strip()},
        summary=f"entered the answers of {project.code} from {document.strip()}",
    )
    return submission
