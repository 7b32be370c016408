"""Questionnaires: add a form (a new version on every changed upload), list them, the shipped templates.

A form is named by its XLSForm ``form_id`` (or ``--name``). Uploading it again with changed content adds a version;
the same content again changes nothing. Like ODK Central, a version string (``settings/version``) names one content
only: a changed form that keeps its version is refused, so a submission's version always means one questionnaire.
A form without a version gets one from the upload time (``2026-11-23.1``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.questionnaire.models import Form, FormVersion, FormVersionFile, Submission
from lmreview.questionnaire.xlsform import FormDefinition
from lmreview.questionnaire.xlsform import parse_form as parse_xlsform
from lmreview.questionnaire.xlsform_sheets import read_markdown, xls_to_xlsx
from lmreview.store import audit
from lmreview.tables import workbook_bytes

FORM_NAME_CHARS = "letters, digits, '_', '-' or '.'"


@dataclass
class AddedForm:
    form: str
    version: str
    outcome: str  # created | new version | unchanged
    warnings: list[str]
    questions: int
    languages: list[str]
    attachments: list[str] | None = None  # the files attached to the version


@dataclass
class FormSummary:
    name: str
    title: str | None
    versions: int
    version: str
    languages: list[str]
    questions: int
    submissions: int
    updated_at: dt.datetime


@dataclass
class Template:
    name: str
    title: str
    description: str


def _questions(definition: FormDefinition) -> int:
    return sum(1 for q in definition.walk() if q.type not in ("group", "repeat", "note", "calculate") and not q.is_meta)


def add_form(
    session: Session,
    data: bytes,
    filename: str,
    *,
    actor: str,
    name: str | None = None,
    files: Mapping[str, bytes] | None = None,
) -> AddedForm:
    """Add a form, or a new version of it. ``files`` are the files attached to it (CSV, XML, GeoJSON, by name):
    their rows are kept with the version, and a version is the workbook and its files together."""
    parsed = parse_xlsform(data, filename, name, files)
    definition = parsed.definition
    if not definition.form_id or len(definition.form_id) > 80:
        raise BadInput([Problem(filename, 0, "-", "the form needs a form_id of at most 80 characters; pass --name")])
    sha = _content_hash(data, files or {})
    form = session.scalar(select(Form).where(Form.name == definition.form_id))
    latest = form.versions[-1] if form is not None and form.versions else None
    if latest is not None and latest.sha256 == sha:
        return AddedForm(
            form.name if form else "", latest.version, "unchanged", list(latest.warnings), _questions(definition), []
        )
    version = definition.version or _automatic_version(session, form)
    if form is not None and any(v.version == version for v in form.versions):
        raise BadInput(
            [
                Problem(
                    f"{filename}:settings",
                    2,
                    "version",
                    f'form {form.name} already has a version "{version}" with other content; '
                    "give this one a new version in the settings sheet",
                )
            ]
        )
    definition.version = version
    outcome = "new version" if form is not None else "created"
    if form is None:
        form = Form(name=definition.form_id, title=definition.title, versions=[])
        session.add(form)
    form.title = definition.title
    form.versions.append(
        FormVersion(
            version=version,
            filename=Path(filename).name,
            file_format=parsed.file_format,
            source=data,
            sha256=sha,
            definition=definition.to_json(),
            xform=parsed.xform,
            warnings=parsed.warnings,
            actor=actor,
            files=[
                FormVersionFile(
                    filename=Path(filename).name,
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=len(content),
                    content=content,
                )
                for filename, content in sorted((files or {}).items(), key=lambda item: Path(item[0]).name)
            ],
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create" if outcome == "created" else "update",
        entity="form",
        entity_id=form.id,
        after={
            "version": version,
            "filename": Path(filename).name,
            "sha256": sha,
            **({"attachments": definition.attachments} if definition.attachments else {}),
        },
        summary=f"{'created' if outcome == 'created' else 'added'} version {version} from {Path(filename).name}",
    )
    return AddedForm(
        form.name,
        version,
        outcome,
        parsed.warnings,
        _questions(definition),
        definition.languages,
        definition.attachments,
    )


def _content_hash(data: bytes, files: Mapping[str, bytes]) -> str:
    """The SHA-256 of the workbook alone, or of the workbook and each attached file (by name) when there are any."""
    if not files:
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256(hashlib.sha256(data).digest())
    for filename in sorted(files, key=lambda f: Path(f).name):
        digest.update(f"\0{Path(filename).name}\0".encode())
        digest.update(hashlib.sha256(files[filename]).digest())
    return digest.hexdigest()


def _automatic_version(session: Session, form: Form | None) -> str:
    today = dt.date.today().isoformat()
    taken = {v.version for v in form.versions} if form is not None else set()
    number = 1
    while f"{today}.{number}" in taken:
        number += 1
    return f"{today}.{number}"


def get_form(session: Session, name: str) -> Form:
    form = session.scalar(select(Form).where(Form.name == name))
    if form is None:
        names = session.scalars(select(Form.name).order_by(Form.name)).all()
        hint = f"; forms: {', '.join(names)}" if names else "; add one with `lmreview form add FILE`"
        raise NotFound(f"there is no form {name!r}{hint}")
    return form


def latest_version(form: Form) -> FormVersion:
    return form.versions[-1]


def get_version(form: Form, version: str | None) -> FormVersion:
    if version is None:
        return latest_version(form)
    for candidate in form.versions:
        if candidate.version == version:
            return candidate
    raise NotFound(f"form {form.name} has no version {version!r}; it has {', '.join(v.version for v in form.versions)}")


def definition_of(version: FormVersion) -> FormDefinition:
    return FormDefinition.from_json(version.definition)


def list_forms(session: Session) -> list[FormSummary]:
    counts = dict(
        session.execute(
            select(FormVersion.form_id, func.count(Submission.id))
            .join(Submission, Submission.form_version_id == FormVersion.id)
            .group_by(FormVersion.form_id)
        ).all()
    )
    summaries = []
    for form in session.scalars(select(Form).order_by(Form.name)):
        latest = latest_version(form)
        definition = definition_of(latest)
        summaries.append(
            FormSummary(
                name=form.name,
                title=form.title,
                versions=len(form.versions),
                version=latest.version,
                languages=definition.languages,
                questions=_questions(definition),
                submissions=counts.get(form.id, 0),
                updated_at=latest.created_at,
            )
        )
    return summaries


# --- templates and XLSX downloads ------------------------------------------------------------------------------------


def _template_files() -> dict[str, bytes]:
    folder = resources.files("lmreview.questionnaire") / "templates"
    return {Path(entry.name).stem: entry.read_bytes() for entry in folder.iterdir() if entry.name.endswith(".md")}


def templates() -> list[Template]:
    found = []
    for name, data in sorted(_template_files().items()):
        text = data.decode("utf-8")
        first = text.splitlines()[0].lstrip("# ").strip() if text.startswith("#") else name
        settings = read_markdown(text, name).get("settings") or [(0, {})]
        title = settings[0][1].get("form_title", name)
        found.append(
            Template(name=name, title=title, description=(first.partition(":")[2].strip() or first).rstrip(",;"))
        )
    return found


def template_source(name: str) -> bytes:
    files = _template_files()
    if name not in files:
        raise NotFound(f"there is no template {name!r}; templates: {', '.join(sorted(files))}")
    return files[name]


def add_template(session: Session, name: str, *, actor: str, form_name: str | None = None) -> AddedForm:
    return add_form(session, template_source(name), f"{name}.md", actor=actor, name=form_name)


def markdown_to_xlsx(text: str, filename: str) -> bytes:
    """An XLSForm workbook from pyxform's Markdown tables, to edit in Excel and upload again."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    header: list[str] | None = None
    sheet = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if cells[0]:
            sheet, header = workbook.create_sheet(cells[0]), None
            continue
        if sheet is None:
            raise BadInput([Problem(filename, 0, "-", "a Markdown XLSForm starts with a sheet name: | survey |")])
        sheet.append(cells[1:])
        if header is None:
            header = cells[1:]
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"
    return workbook_bytes(workbook)


def form_xlsx(version: FormVersion) -> bytes:
    """The version's workbook as XLSX: as uploaded, or converted from an Excel 97-2003 ``.xls`` or Markdown form."""
    if version.file_format == "xlsx":
        return version.source
    if version.file_format == "xls":
        return xls_to_xlsx(version.source, version.filename)
    return markdown_to_xlsx(version.source.decode("utf-8"), version.filename)


def missing_files(version: FormVersion) -> list[str]:
    """The files a version read when it was added that lmreview did not keep (versions added before it kept them:
    their rows are in the definition, the files themselves are not)."""
    kept = {f.filename for f in version.files}
    return [name for name in version.definition.get("attachments", []) if name not in kept]


def form_package(version: FormVersion, name: str) -> bytes:
    """A zip of the version as it was added: its workbook as XLSX (``NAME-VERSION.xlsx``) and each attached file
    under its own name, beside it, so that ``lmreview form add NAME-VERSION.xlsx --attach FILE…`` adds it again."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(re.sub(r"[^\w.-]+", "_", f"{name}-{version.version}") + ".xlsx", form_xlsx(version))
        for attached in version.files:
            archive.writestr(attached.filename, attached.content)
    return buffer.getvalue()


def template_xlsx(name: str) -> bytes:
    return markdown_to_xlsx(template_source(name).decode("utf-8"), f"{name}.md")
