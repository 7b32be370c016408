"""``lmreview form``: questionnaires (XLSForms) and their versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmreview import access
from lmreview.cli.common import console, err, print_json, state
from lmreview.errors import BadInput
from lmreview.figures import plural
from lmreview.files import open_input, read_input
from lmreview.questionnaire import attachments, forms, responses, reviews, submissions

app = typer.Typer(help="Questionnaires: add XLSForms, list them, start from a template.", no_args_is_help=True)


def _print_added(added: forms.AddedForm) -> None:
    for warning in added.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    if added.outcome == "unchanged":
        console.print(f"Form {added.form} is unchanged (version {added.version}).")
        return
    verb = "Added form" if added.outcome == "created" else "Added a new version of form"
    console.print(
        f"{verb} {added.form}: version {added.version}, {added.questions} questions, "
        f"languages: {', '.join(added.languages)}."
        + (f" Attached: {', '.join(added.attachments)}." if added.attachments else ""),
        markup=False,
    )


@app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="XLSForm: .xlsx or .xls (survey, choices, settings sheets) or pyxform .md.")
    ],
    name: Annotated[str | None, typer.Option("--name", help="Form name (default: the form_id setting).")] = None,
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            "--attach",
            help="A file the form reads (CSV, XML or GeoJSON: select_one_from_file, pulldata(), instance()); "
            "repeat for several.",
        ),
    ] = None,
) -> None:
    """Add a questionnaire, or a new version of it when the form already exists.

    Example: lmreview form add idf-lm-2022.xlsx
    Example: lmreview form add households.xlsx --attach villages.csv --attach prices.csv
    """
    st = state(ctx)
    data = read_input(file)
    files: dict[str, bytes] = {}
    for path in attach or []:
        try:
            size = path.stat().st_size if path.is_file() else 0
        except OSError:
            size = 0
        problem = attachments.size_problem(str(path), size)
        if problem is not None:
            raise BadInput([problem])
        files[path.name] = read_input(path)
    with st.session() as session:
        added = forms.add_form(session, data, str(file), actor=st.settings.actor, name=name, files=files)
    _print_added(added)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the questionnaires with their newest version and number of submissions.

    Example: lmreview form list --json
    """
    with state(ctx).session() as session:
        found = forms.list_forms(session)
    if as_json:
        print_json(
            [
                {
                    "form": f.name,
                    "title": f.title,
                    "version": f.version,
                    "versions": f.versions,
                    "languages": f.languages,
                    "questions": f.questions,
                    "submissions": f.submissions,
                }
                for f in found
            ]
        )
        return
    if not found:
        console.print("No forms yet: lmreview form add FILE, or lmreview form templates")
        return
    table = Table("form", "version", "versions", "questions", "languages", "submissions", "title")
    for f in found:
        table.add_row(
            f.name, f.version, str(f.versions), str(f.questions), ", ".join(f.languages), str(f.submissions), f.title
        )
    console.print(table)


@app.command("templates")
def templates_(
    ctx: typer.Context,
    add: Annotated[str | None, typer.Option("--add", help="Add this template as a form.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write this template as an XLSX to edit (with --name).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Template to write with --out.")] = None,
) -> None:
    """List the questionnaire templates shipped with lmreview; add one, or write it as an XLSX to edit.

    Example: lmreview form templates --out my-review.xlsx --name idf-lm-2022
    """
    if add is not None:
        st = state(ctx)
        with st.session() as session:
            _print_added(forms.add_template(session, add, actor=st.settings.actor))
        return
    if out is not None:
        if name is None:
            raise typer.BadParameter("--out needs --name TEMPLATE", param_hint="--name")
        out.write_bytes(forms.template_xlsx(name))
        console.print(f"Wrote {out}: edit it in Excel, then lmreview form add {out}")
        return
    table = Table("template", "title", "about")
    for t in forms.templates():
        table.add_row(t.name, t.title, t.description)
    console.print(table)


@app.command("download")
def download(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Form name.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="XLSX file to write, or a .zip for the workbook with the files attached to it."),
    ],
    version: Annotated[str | None, typer.Option("--version", help="Version (default: the newest).")] = None,
) -> None:
    """Write a form's XLSForm as XLSX, to edit and add again as a new version; with --out FILE.zip, the workbook
    and the files attached to the version (CSV, XML, GeoJSON) side by side.

    Example: lmreview form download idf_lm_2022 --out idf.xlsx
    Example: lmreview form download household --out household.zip
    """
    package = out.suffix.lower() == ".zip"
    with state(ctx).session() as session:
        chosen = forms.get_version(forms.get_form(session, name), version)
        data = forms.form_package(chosen, name) if package else forms.form_xlsx(chosen)
        label = chosen.version
        attached = [f.filename for f in chosen.files]
        missing = forms.missing_files(chosen)
    out.write_bytes(data)
    if package:
        files = f" with {plural(len(attached), 'attached file')} ({', '.join(attached)})" if attached else ""
        console.print(f"Wrote {out} (form {name}, version {label}){files}.", markup=False, soft_wrap=True)
    else:
        console.print(f"Wrote {out} (form {name}, version {label}).", markup=False, soft_wrap=True)
        if attached:
            console.print(
                f"The version has files attached ({', '.join(attached)}): --out FILE.zip gives them too.",
                markup=False,
                soft_wrap=True,
            )
    if missing:
        err.print(
            f"warning: this version was added before lmreview kept attached files: {', '.join(missing)} "
            "are not stored (their rows are); keep them beside the workbook to add a later version",
            markup=False,
            soft_wrap=True,
        )


@app.command("import-responses")
def import_responses(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="KoboToolbox export (XLSX/CSV), ODK Central export (CSV/zip), or XLSX.")],
    form: Annotated[str, typer.Option("--form", help="The form the responses answer.")],
    review: Annotated[str | None, typer.Option("--review", "-r", help="Review they belong to.")] = None,
) -> None:
    """Import existing responses; importing the same file again changes nothing.

    Without --review, the answers go to the one review that uses the form; when no review uses it, they stay with
    the form (respondent-level: lmreview tabulate --form NAME counts them).

    Example: lmreview form import-responses kobo-export.xlsx --form idf_lm_2022 --review lm2022-review
    """
    st = state(ctx)
    # a zip is read member by member, never whole; the write lock is taken first (beside a web server's writes)
    with open_input(file) as data, st.session(immediate=True) as session:
        done = submissions.import_responses(
            session,
            form,
            data,
            str(file),
            actor=st.settings.actor,
            review=review,
            media_limit=st.settings.max_media_bytes,
            visible=access.acting_visible(session),
        )
    result = done.result
    for warning in result.warnings:
        err.print(str(warning), markup=False, soft_wrap=True)
    console.print(
        f"Imported {file.name} into form {form}: {plural(len(result.created), 'submission')} created, "
        f"{len(result.updated)} updated, {len(result.unchanged)} unchanged"
        + (f", {len(result.attached)} attached to review {done.review}" if result.attached and done.review else "")
        + (f"; {plural(result.files_stored, 'media file')} stored" if result.files_stored else ""),
        markup=False,
    )
    if done.attached:
        console.print(f"The submissions are attached to review {done.review}, the one review that uses form {form}.")
    elif done.review is None:
        console.print(
            f"No review uses form {form}: the submissions stay with the form; "
            f"lmreview tabulate --form {form} counts each as one respondent.",
            markup=False,
        )


@app.command("export-responses")
def export_responses(
    ctx: typer.Context,
    form: Annotated[str, typer.Option("--form", help="The form whose responses to export.")],
    out: Annotated[Path, typer.Option("--out", help="File to write (.xlsx, .csv, or .zip for CSV with repeats).")],
    fmt: Annotated[
        str, typer.Option("--format", help="xlsx or csv (Kobo's layout), or zip: the CSV with the media files.")
    ] = "xlsx",
    review: Annotated[str | None, typer.Option("--review", "-r", help="Only this review's submissions.")] = None,
    original: Annotated[bool, typer.Option("--original", help="The values as submitted, before corrections.")] = False,
    drafts: Annotated[bool, typer.Option("--drafts", help="Include drafts not yet submitted.")] = False,
) -> None:
    """Export the responses in KoboToolbox's layout (XLSX: one sheet per repeat; CSV: a zip when there are repeats).

    Example: lmreview form export-responses --form idf_lm_2022 --format xlsx --out responses.xlsx
    """
    with state(ctx).session() as session:
        found = reviews.get_review(session, review) if review else None
        data = responses.export_responses(session, form, fmt, review=found, original=original, drafts=drafts)
    out.write_bytes(data)
    kind = "a zip of CSV files" if data.startswith(b"PK") and fmt == "csv" else fmt.upper()
    kind = "CSV and media files in a zip" if fmt == "zip" else kind
    console.print(f"Wrote {out} ({kind}).")
