"""``lmreview tracking``: the recommendations register, management responses, key actions and their follow-up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli import tracking_lessons
from lmreview.cli.common import console, print_json, state
from lmreview.errors import BadInput, Problem
from lmreview.files import read_input
from lmreview.tracking import from_evidence, mail, matrix, service, values
from lmreview.tracking import report as tracking_report
from lmreview.tracking.status import tracking_status

app = typer.Typer(help="Follow-up: recommendations, management responses, key actions.", no_args_is_help=True)
recs_app = typer.Typer(help="The recommendations register.", no_args_is_help=True)
action_app = typer.Typer(help="Key actions and their progress.", no_args_is_help=True)
unit_app = typer.Typer(help="Responsible units and the address their links and reminders go to.", no_args_is_help=True)
app.add_typer(recs_app, name="recs")
app.add_typer(action_app, name="action")
app.add_typer(unit_app, name="unit")
app.add_typer(tracking_lessons.app, name="lessons")

ReviewOption = Annotated[str | None, typer.Option("--review", "-r", help="Only this review's recommendations.")]


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    day = values.date(value)
    if day is None:
        raise BadInput(
            [Problem(option, 0, "-", f"{value!r} is not a date; write 2027-03-31 or 31/03/2027")],
            message=f"{option}: {value!r} is not a date",
        )
    return day


def _split(items: list[str] | None) -> list[str]:
    return [part.strip() for item in items or [] for part in item.split(";") if part.strip()]


@recs_app.command("add")
def recs_add(
    ctx: typer.Context,
    number: Annotated[str, typer.Option("--number", "-n", help="Its number in the report, such as 3.")],
    text: Annotated[str, typer.Option("--text", help="The recommendation.")],
    review: Annotated[str | None, typer.Option("--review", "-r", help="The review it belongs to.")] = None,
    document: Annotated[
        int | None, typer.Option("--document", help="Or: the evidence document it was found in.")
    ] = None,
    page: Annotated[int | None, typer.Option("--page", help="The page of that document.")] = None,
    rationale: Annotated[str | None, typer.Option("--rationale", help="Why (the finding it rests on).")] = None,
    unit: Annotated[list[str] | None, typer.Option("--unit", help="A responsible unit (repeat for several).")] = None,
    priority: Annotated[str | None, typer.Option("--priority", help="high, medium or low.")] = None,
    time: Annotated[str | None, typer.Option("--time", help="Time implication, such as short term.")] = None,
    resources: Annotated[str | None, typer.Option("--resources", help="Resource implication.")] = None,
    project: Annotated[list[str] | None, typer.Option("--project", help="A project code it concerns.")] = None,
    theme: Annotated[list[str] | None, typer.Option("--theme", help="A theme (code) it concerns.")] = None,
    year: Annotated[int | None, typer.Option("--year", help="The year it was made.", min=1900, max=2200)] = None,
) -> None:
    """Add a recommendation of a review (or one found in an evidence document) to the register.

    Example: lmreview tracking recs add -r r16 -n 1 --text "Publish a results framework" --unit PARDEV --priority high
    """
    st = state(ctx)
    with st.session() as session:
        rec = service.add_recommendation(
            session,
            review,
            number=number,
            text=text,
            actor=st.settings.actor,
            document_id=document,
            page=page,
            rationale=rationale,
            units=_split(unit),
            priority=priority,
            time_implication=time,
            resource_implication=resources,
            projects=_split(project),
            themes=_split(theme),
            year=year,
        )
        rec_id, source = rec.id, service.source_name(session, rec)
    console.print(f"Added recommendation {number} of {source} (id {rec_id}).", markup=False)


@recs_app.command("list")
def recs_list(
    ctx: typer.Context,
    review: ReviewOption = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only this response: agrees, partially agrees, …")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only those addressed to this unit.")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2200)] = None,
    theme: Annotated[str | None, typer.Option("--theme")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The recommendations with their response and key actions.

    Example: lmreview tracking recs list --review r16 --status disagrees
    """
    today = dt.date.today()
    with state(ctx).session() as session:
        recs = service.list_recommendations(session, service.RecFilters(review, status, unit, year, theme))
        rows = [service.recommendation_json(session, r, today) for r in recs]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No recommendations: lmreview tracking recs add --review NAME --number N --text TEXT")
        return
    table = Table("id", "source", "no.", "recommendation", "units", "priority", "response", "actions", "overdue")
    for row in rows:
        text = row["text"] if len(row["text"]) <= 70 else row["text"][:69] + "…"
        table.add_row(
            str(row["id"]),
            row["source"],
            row["number"],
            text,
            ", ".join(row["units"]),
            row["priority"] or "",
            values.STANCE_LABELS[row["response"]["stance"]].lower(),
            str(len(row["actions"])),
            str(sum(a["overdue"] for a in row["actions"])),
        )
    console.print(table)


@recs_app.command("show")
def recs_show(ctx: typer.Context, rec_id: Annotated[int, typer.Argument(help="The recommendation's id.")]) -> None:
    """A recommendation: its fields, response, key actions with their comments, and its history.

    Example: lmreview tracking recs show 4
    """
    today = dt.date.today()
    with state(ctx).session() as session:
        rec = service.get_recommendation(session, rec_id)
        data = service.recommendation_json(session, rec, today)
        events = [(e.at, e.actor, e.summary) for e in service.history(session, rec)]
    out = console.print
    page = f", page {data['page']}" if data["page"] else ""
    out(f"Recommendation {data['number']} of {data['source']}{page} (id {data['id']})", markup=False)
    out(data["text"], markup=False, soft_wrap=True)
    for label, key in (("rationale", "rationale"), ("priority", "priority"), ("time", "time_implication")):
        if data[key]:
            out(f"{label}: {data[key]}", markup=False, soft_wrap=True)
    if data["resource_implication"]:
        out(f"resources: {data['resource_implication']}", markup=False, soft_wrap=True)
    for label, key in (("units", "units"), ("projects", "projects"), ("themes", "themes")):
        if data[key]:
            out(f"{label}: {', '.join(data[key])}", markup=False)
    response = data["response"]
    out(f"response: {values.STANCE_LABELS[response['stance']].lower()}", markup=False, end="")
    out(f" ({response['by']}, {response['on']})" if response["by"] else "", markup=False)
    if response["text"]:
        out(f"  {response['text']}", markup=False, soft_wrap=True)
    out(f"key actions: {len(data['actions'])}")
    for a in data["actions"]:
        late = f", overdue by {a['days_overdue']} days" if a["overdue"] else ""
        out(
            f"  [{a['id']}] {a['description']} — {a['unit'] or 'no unit'}, due {a['due_date'] or 'no date'}, "
            f"{values.STATUS_LABELS[a['status']].lower()}{late}",
            markup=False,
            soft_wrap=True,
        )
        for c in a["comments"]:
            attached = f" [{c['file']}]" if c["file"] else ""
            out(f"      {c['on']} {c['author']}: {c['text']}{attached}", markup=False, soft_wrap=True)
    out("history:")
    for at, actor, summary in events:
        out(f"  {at:%Y-%m-%d %H:%M} {actor}: {summary}", markup=False, soft_wrap=True)


@recs_app.command("import-evidence")
def recs_import_evidence(
    ctx: typer.Context,
    document: Annotated[int | None, typer.Option("--document", help="Only this document's.")] = None,
) -> None:
    """Add the recommendations (and the responses to them) that the evidence library found in its documents, each
    linked to its page; those already in the register are left alone.

    Example: lmreview tracking recs import-evidence --document 3
    """
    st = state(ctx)
    with st.session() as session:
        report = from_evidence.import_evidence(session, actor=st.settings.actor, document_id=document)
    for rec_id, source, number in report.added:
        console.print(f"added {rec_id}: recommendation {number} of {source}", markup=False)
    for source, number, why in report.skipped:
        console.print(f"skipped recommendation {number} of {source}: {why}", markup=False)
    console.print(f"{len(report.added)} added, {len(report.skipped)} skipped", markup=False)


@recs_app.command("set")
def recs_set(
    ctx: typer.Context,
    rec_id: Annotated[int, typer.Argument(help="The recommendation's id.")],
    text: Annotated[str | None, typer.Option("--text")] = None,
    rationale: Annotated[str | None, typer.Option("--rationale")] = None,
    units: Annotated[str | None, typer.Option("--units", help="Responsible units, separated by ;.")] = None,
    priority: Annotated[str | None, typer.Option("--priority")] = None,
    time: Annotated[str | None, typer.Option("--time", help="Time implication.")] = None,
    resources: Annotated[str | None, typer.Option("--resources", help="Resource implication.")] = None,
    projects: Annotated[str | None, typer.Option("--projects", help="Project codes, separated by ;.")] = None,
    themes: Annotated[str | None, typer.Option("--themes", help="Themes, separated by ;.")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2200)] = None,
) -> None:
    """Correct a recommendation's fields (an empty value clears an optional one); the change is audited.

    Example: lmreview tracking recs set 4 --units "PARDEV; RO Bangkok" --priority medium
    """
    given: dict[str, str | int | None] = {"text": text, "rationale": rationale, "units": units, "priority": priority}
    given |= {"time_implication": time, "resource_implication": resources, "projects": projects, "themes": themes}
    given["year"] = year
    changes: dict[str, str | list[str] | int | None] = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise BadInput([Problem("recs set", 0, "-", "name a field to change, e.g. --text or --units")])
    st = state(ctx)
    with st.session() as session:
        rec = service.update_recommendation(session, rec_id, changes, actor=st.settings.actor)
        number = rec.number
    console.print(f"Recommendation {number}: saved.", markup=False)


@app.command("respond")
def respond(
    ctx: typer.Context,
    rec_id: Annotated[int, typer.Argument(help="The recommendation's id.")],
    stance: Annotated[str, typer.Option("--stance", help="agrees, partially agrees, disagrees or no response.")],
    text: Annotated[str | None, typer.Option("--text", help="The management response.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who responded (default: you).")] = None,
    on: Annotated[str | None, typer.Option("--on", help="When (default: today).")] = None,
) -> None:
    """Record the management response to a recommendation (replaces an earlier one; the history keeps both).

    Example: lmreview tracking respond 4 --stance "partially agrees" --text "Within the current budget" --by PARDEV
    """
    st = state(ctx)
    day = parse_date(on, "--on")
    with st.session() as session:
        rec = service.respond(
            session, rec_id, stance=stance, text=text, by=by or st.settings.actor, actor=st.settings.actor, on=day
        )
        shown = values.STANCE_LABELS[rec.stance].lower()
        number = rec.number
    console.print(f"Recommendation {number}: management {shown}.", markup=False)


@action_app.command("add")
def action_add(
    ctx: typer.Context,
    rec_id: Annotated[int, typer.Argument(help="The recommendation's id.")],
    description: Annotated[str, typer.Option("--description", "-d", help="The key action.")],
    unit: Annotated[str | None, typer.Option("--unit", help="The unit responsible for it.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date: 2027-03-31 or 31/03/2027.")] = None,
    status: Annotated[str, typer.Option("--status", help="not initiated, initiated, completed, …")] = "not_initiated",
) -> None:
    """Add a key action to a recommendation.

    Example: lmreview tracking action add 4 -d "Draft the guidance note" --unit PARDEV --due 2027-06-30
    """
    st = state(ctx)
    day = parse_date(due, "--due")
    with st.session() as session:
        action = service.add_action(
            session, rec_id, description=description, unit=unit, due=day, status=status, actor=st.settings.actor
        )
        action_id = action.id
    console.print(f"Added key action {action_id} to recommendation {rec_id}.", markup=False)


@action_app.command("update")
def action_update(
    ctx: typer.Context,
    action_id: Annotated[int, typer.Argument(help="The key action's id.")],
    status: Annotated[str | None, typer.Option("--status", help="not initiated, initiated, completed, …")] = None,
    due: Annotated[str | None, typer.Option("--due", help="A new due date.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m", help="A progress comment.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A document attached to the comment.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="The comment's date (default: today).")] = None,
) -> None:
    """Change a key action and/or add a dated progress comment (with an optional file); the change is audited.

    Example: lmreview tracking action update 7 --status completed -m "Note issued" --file note.pdf
    """
    st = state(ctx)
    new_due = parse_date(due, "--due")
    day = parse_date(on, "--on")
    attached = (file.name, read_input(file)) if file is not None else None
    with st.session() as session:
        action = service.update_action(
            session,
            action_id,
            actor=st.settings.actor,
            status=status,
            due=new_due,
            description=description,
            unit=unit,
            comment=comment,
            attachment=attached,
            on=day,
        )
        shown = values.STATUS_LABELS[action.status].lower()
    console.print(f"Key action {action_id}: {shown}.", markup=False)


@unit_app.command("set")
def unit_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The unit's name, as the recommendations give it.")],
    email: Annotated[str, typer.Option("--email", help="The one address its links and reminders go to.")],
) -> None:
    """Record a unit's e-mail address.

    Example: lmreview tracking unit set PARDEV --email pardev@example.org
    """
    st = state(ctx)
    with st.session() as session:
        service.set_unit(session, name, email=email, actor=st.settings.actor)
    console.print(f"Unit {name}: {email}", markup=False)


@unit_app.command("list")
def unit_list(ctx: typer.Context) -> None:
    """The units, their address and when they were last reminded.

    Example: lmreview tracking unit list
    """
    with state(ctx).session() as session:
        rows = [(u.name, u.email or "", u.last_reminded_at) for u in service.list_units(session)]
    table = Table("unit", "e-mail", "last reminded")
    for name, email, reminded in rows:
        table.add_row(name, email, f"{reminded:%Y-%m-%d %H:%M}" if reminded else "never")
    console.print(table)


@app.command("status")
def status(
    ctx: typer.Context,
    review: ReviewOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit's key actions.")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2200)] = None,
    theme: Annotated[str | None, typer.Option("--theme")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Responses by stance, key actions by status, the implementation rate (completed ÷ due) and overdue actions.

    Example: lmreview tracking status --review r16 --json
    """
    with state(ctx).session() as session:
        figures = tracking_status(session, service.RecFilters(review, None, unit, year, theme))
    data = figures.as_json()
    if as_json:
        print_json(data)
        return
    out = console.print
    out(f"Recommendations: {data['recommendations']}")
    out("Responses: " + ", ".join(f"{values.STANCE_LABELS[k].lower()} {v}" for k, v in data["responses"].items()))
    actions = data["actions"]
    out(
        f"Key actions: {actions['total']} ("
        + ", ".join(f"{values.STATUS_LABELS[k].lower()} {actions[k]}" for k in values.STATUS_LABELS)
        + f"); overdue {actions['overdue']}"
    )
    rate = figures.rate
    if rate is None:
        out("Implementation rate: – (no key action is due yet)")
    else:
        out(
            f"Implementation rate: {float(rate) * 100:.1f}% ({len(figures.completed_due)} completed of "
            f"{len(figures.due)} due: actions {', '.join(map(str, figures.due))})"
        )
    for late in figures.late:
        out(
            f"  overdue {late.days} days: action {late.action_id} ({late.review} rec. {late.number}), "
            f"{late.unit or 'no unit'}, due {late.due_date}: {late.description}",
            markup=False,
            soft_wrap=True,
        )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A management-response matrix (XLSX) filled in by a unit.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and print what would change; write nothing.")
    ] = False,
) -> None:
    """Read a filled matrix: responses, new and changed key actions, progress comments. Every problem is listed as
    FILE:ROW:COLUMN and then nothing is written.

    Example: lmreview tracking import pardev-matrix.xlsx --dry-run
    """
    st = state(ctx)
    data = read_input(file)
    with st.session() as session:
        report = matrix.import_matrix(session, data, file.name, actor=st.settings.actor, dry_run=dry_run)
    for line in report.lines:
        console.print(f"  {line}", markup=False, soft_wrap=True)
    console.print(report.summary(), markup=False)


@app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write (.xlsx or .docx).")],
    review: ReviewOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only the recommendations addressed to this unit.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="xlsx or docx (default: from the file name).")] = None,
) -> None:
    """Write the management-response matrix: XLSX (one row per key action, to fill in and import) or DOCX (the
    table a unit fills in and signs).

    Example: lmreview tracking export --review r16 --unit PARDEV -o pardev-matrix.xlsx
    """
    kind = (fmt or output.suffix.lstrip(".")).lower()
    if kind not in ("xlsx", "docx"):
        raise BadInput([Problem(str(output), 0, "-", "the matrix is written as .xlsx or .docx")])
    with state(ctx).session() as session:
        recs = service.list_recommendations(session, service.RecFilters(review=review, unit=unit))
        if kind == "xlsx":
            data = matrix.export_xlsx(session, recs)
        else:
            data = matrix.export_docx(session, recs, review or "all reviews")
    output.write_bytes(data)
    console.print(f"Wrote {output} ({len(recs)} recommendations).", markup=False)


@app.command("report")
def report_(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write (.html or .pdf).")],
    review: ReviewOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit's key actions.")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2200)] = None,
    theme: Annotated[str | None, typer.Option("--theme")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="html or pdf (default: from the file name).")] = None,
) -> None:
    """Write the status report for a board: the figures, each recommendation with its response and key actions,
    the overdue actions by age.

    Example: lmreview tracking report --review r16 -o follow-up.pdf
    """
    kind = (fmt or output.suffix.lstrip(".")).lower()
    if kind not in ("html", "pdf"):
        raise BadInput([Problem(str(output), 0, "-", "the status report is written as .html or .pdf")])
    with state(ctx).session() as session:
        data = tracking_report.render(session, service.RecFilters(review, None, unit, year, theme), kind)
    output.write_bytes(data)
    console.print(f"Wrote {output}.", markup=False)


@app.command("send")
def send(
    ctx: typer.Context,
    rec_id: Annotated[int | None, typer.Argument(help="One recommendation's id (or use --review).")] = None,
    review: Annotated[str | None, typer.Option("--review", "-r", help="Every recommendation of this review.")] = None,
    dry_run: Annotated[Path | None, typer.Option("--dry-run", help="Write .eml files into DIR instead.")] = None,
) -> None:
    """E-mail each responsible unit a personal link to answer a recommendation (stance, reason, key actions).

    Example: lmreview tracking send --review r16 --dry-run outbox/
    """
    if (rec_id is None) == (review is None):
        raise BadInput([Problem("send", 0, "-", "name one recommendation id or --review NAME")])
    st = state(ctx)
    with st.session() as session:
        if rec_id is not None:
            recs = [service.get_recommendation(session, rec_id)]
        else:
            recs = service.list_recommendations(session, service.RecFilters(review=review))
        results = mail.send_links(session, st.settings, recs, actor=st.settings.actor, dry_run=dry_run)
    for r in results:
        where = f" <{r.email}>" if r.email else ""
        console.print(f"{r.outcome}: {r.unit}{where}" + (f" ({r.detail})" if r.detail else ""), markup=False)
    console.print(f"{sum(r.outcome in ('sent', 'written') for r in results)} links sent.", markup=False)


@app.command("remind")
def remind(
    ctx: typer.Context,
    due_within: Annotated[
        int, typer.Option("--due-within", help="Also actions due within DAYS days.", min=0, max=3650)
    ] = 30,
    dry_run: Annotated[Path | None, typer.Option("--dry-run", help="Write .eml files into DIR instead.")] = None,
) -> None:
    """E-mail each responsible unit its overdue key actions and those due soon (one message a unit).

    Example: lmreview tracking remind --due-within 14 --dry-run outbox/
    """
    st = state(ctx)
    with st.session() as session:
        results = mail.remind(session, st.settings, actor=st.settings.actor, due_within=due_within, dry_run=dry_run)
    if not results:
        console.print("No key action is overdue or due soon.")
        return
    for r in results:
        where = f" <{r.email}>" if r.email else ""
        detail = f" ({r.detail})" if r.detail else ""
        console.print(f"{r.outcome}: {r.unit}{where}: {r.overdue} overdue, {r.upcoming} due soon{detail}", markup=False)
