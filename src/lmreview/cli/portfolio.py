"""``lmreview portfolio``: import and browse the portfolio register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli.common import console, err, print_json, progress_bar, state
from lmreview.figures import fmt_number, fmt_quantity, plural
from lmreview.portfolio import categories, importing, service
from lmreview.portfolio.schemas import REVISION_TYPES
from lmreview.portfolio.values import parse_date

app = typer.Typer(help="Import and browse portfolios of projects.", no_args_is_help=True)


def _show_value(value: object) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, Decimal):
        return fmt_quantity(value)
    return str(value)


def print_import_report(report: importing.ImportReport) -> None:
    for warning in report.warnings:
        err.print(str(warning), markup=False, soft_wrap=True)
    verb = "Would import" if report.dry_run else "Imported"
    console.print(
        f"{verb} {Path(report.filename).name} into portfolio {report.portfolio}: "
        f"{len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged"
        + (f", {plural(len(report.warnings), 'warning')}" if report.warnings else ""),
        markup=False,
        soft_wrap=True,
    )
    for change in report.updated:
        for c in change.changes:
            console.print(
                f"  {change.code}: {c.field}: {_show_value(c.before)} → {_show_value(c.after)}",
                markup=False,
                soft_wrap=True,
            )
    if report.not_in_file:
        console.print(
            f"  {plural(len(report.not_in_file), 'project')} of the portfolio "
            f"{'is' if len(report.not_in_file) == 1 else 'are'} not in the file and "
            f"{'was' if len(report.not_in_file) == 1 else 'were'} kept: " + ", ".join(report.not_in_file),
            markup=False,
            soft_wrap=True,
        )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8), XLSX, or IATI activity XML file.")],
    portfolio: Annotated[
        str | None, typer.Option("--portfolio", "-p", help="Portfolio name (default: the file's name).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and report; write nothing.")] = False,
) -> None:
    """Import projects; re-importing updates them by code and prints what changed.

    Example: lmreview portfolio import projects-2016.xlsx --portfolio lm2016
    """
    st = state(ctx)
    with progress_bar("importing") as progress, st.session(immediate=not dry_run) as session:
        report = importing.import_file(
            session, file, portfolio=portfolio, actor=st.settings.actor, dry_run=dry_run, progress=progress
        )
    print_import_report(report)


@app.command("list")
def list_(
    ctx: typer.Context,
    portfolio: Annotated[str | None, typer.Option("--portfolio", "-p", help="List this portfolio's projects.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the portfolios, or the projects of one portfolio.

    Example: lmreview portfolio list --portfolio lm2016
    """
    with state(ctx).session() as session:
        if portfolio is None:
            summaries = service.list_portfolios(session)
            if as_json:
                print_json(
                    [{"portfolio": s.name, "projects": s.projects, "budget_usd": s.budget_usd} for s in summaries]
                )
                return
            if not summaries:
                console.print("No portfolios yet: lmreview portfolio import FILE")
                return
            table = Table("portfolio", "projects", "budget (USD)", "last import")
            for s in summaries:
                table.add_row(
                    s.name,
                    str(s.projects),
                    fmt_number(s.budget_usd),
                    s.imported_at.strftime("%Y-%m-%d %H:%M") if s.imported_at else "–",
                )
            console.print(table)
            return
        projects = service.list_projects(session, portfolio)
        if as_json:
            print_json([service.project_summary(p) for p in projects])
            return
        table = Table("code", "year", "line", "budget (USD)", "region", "category", "months", "title")
        for p in projects:
            table.add_row(
                p.code,
                _show_value(p.funding_year),
                _show_value(p.fund_line),
                fmt_number(p.budget_usd),
                p.region.name if p.region else "–",
                p.category.name if p.category else "–",
                _show_value(p.duration_months),
                p.title,
            )
        console.print(table)
        console.print(f"{len(projects)} projects")


@app.command("show")
def show(
    ctx: typer.Context,
    portfolio: Annotated[str, typer.Argument(help="Portfolio name.")],
    code: Annotated[str, typer.Argument(help="Project code.")],
) -> None:
    """Print one project with its revisions and change history.

    Example: lmreview portfolio show lm2016 LM.0181
    """
    from lmreview.evidence.links import project_documents

    with state(ctx).session() as session:
        p = service.get_project(session, portfolio, code)
        rows = [
            ("code", p.code),
            ("title", p.title),
            ("funding year", p.funding_year),
            ("fund line", p.fund_line),
            ("budget (USD)", fmt_number(p.budget_usd, 2) if p.budget_usd is not None else None),
            ("countries", "; ".join(c.name for c in p.countries)),
            ("region", p.region.name if p.region else None),
            ("category", p.category.name if p.category else None),
            ("objective", p.objective),
            ("start – end", f"{_show_value(p.start_date)} – {_show_value(p.end_date)}"),
            ("planned + NCE months", f"{_show_value(p.planned_months)} + {_show_value(p.nce_months)}"),
            ("duration (months)", f"{_show_value(p.duration_months)} ({p.duration_rule or 'no dates'})"),
            ("status", p.status),
            *((k, v) for k, v in (p.extra or {}).items()),
        ]
        table = Table(show_header=False, box=None)
        for label, value in rows:
            table.add_row(label, _show_value(value))
        console.print(table)
        for r in p.revisions:
            console.print(f"revision: {r.type} {_show_value(r.date)} {r.reason or ''} {r.note or ''}".rstrip())
        for event in service.project_history(session, p):
            console.print(f"{event.at:%Y-%m-%d %H:%M} {event.actor}: {event.summary}", markup=False)
        documents = project_documents(session, [p.code])
    if documents:
        console.print(f"documents in the evidence library ({len(documents)}):")
    for found in documents:
        d = found.document
        console.print(
            f"  [{d['id']}] {d['title']} ({d['type']}, {d['year'] or 'no year'})", markup=False, soft_wrap=True
        )
        for item in found.items:
            number = f" {item['number']}" if item["number"] else ""
            pages = ", ".join(str(n) for n in item["pages"])
            console.print(f"    {item['kind']}{number} (p. {pages}): {item['text']}", markup=False, soft_wrap=True)


@app.command("revise")
def revise(
    ctx: typer.Context,
    portfolio: Annotated[str, typer.Argument(help="Portfolio name.")],
    code: Annotated[str, typer.Argument(help="Project code.")],
    type_: Annotated[str, typer.Option("--type", help=f"One of: {', '.join(REVISION_TYPES)}.")],
    date: Annotated[str | None, typer.Option("--date", help="Date of the revision, YYYY-MM-DD.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Main reason, e.g. COVID-19.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="What changed.")] = None,
) -> None:
    """Record a revision of a project (budget, duration, results matrix, project info).

    Example: lmreview portfolio revise lm2022 LM.0430 --type duration --date 2021-03-01 --reason COVID-19
    """
    st = state(ctx)
    when: dt.date | None = None
    if date:
        try:
            when = parse_date(date)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--date") from None
    with st.session() as session:
        service.add_revision(
            session, portfolio, code, type=type_, date=when, reason=reason, note=note, actor=st.settings.actor
        )
    console.print(f"Recorded a {type_} revision of {code}.")


@app.command("delete-project")
def delete_project(
    ctx: typer.Context,
    portfolio: Annotated[str, typer.Argument(help="Portfolio name.")],
    code: Annotated[str, typer.Argument(help="Project code.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a project (kept in the audit log with all its values).

    Example: lmreview portfolio delete-project lm2016 LM.0251 --yes
    """
    st = state(ctx)
    if not yes and not typer.confirm(f"Delete {code} from {portfolio}?"):
        raise typer.Exit(1)
    with st.session() as session:
        service.delete_project(session, portfolio, code, actor=st.settings.actor)
    console.print(f"Deleted {code} from {portfolio}.")


@app.command("categorise")
def categorise(
    ctx: typer.Context,
    portfolio: Annotated[str, typer.Argument(help="Portfolio name.")],
    codes: Annotated[list[str], typer.Argument(help="Project codes.")],
    category: Annotated[str | None, typer.Option("--category", "-c", help="Category (created if new).")] = None,
    none: Annotated[bool, typer.Option("--none", help="Take the projects out of any category.")] = False,
) -> None:
    """Put projects in a thematic category (or out of any with --none).

    Example: lmreview portfolio categorise lm2022 LM.0357 LM.0412 --category "Policy development"
    """
    if (category is None) == (not none):
        raise typer.BadParameter("give --category NAME or --none", param_hint="--category")
    st = state(ctx)
    with st.session() as session:
        for code in codes:
            categories.set_category(session, portfolio, code, None if none else category, actor=st.settings.actor)
    console.print(f"{plural(len(codes), 'project')} now in {category or 'no category'}.", markup=False)


@app.command("categories")
def categories_(
    ctx: typer.Context,
    portfolio: Annotated[str, typer.Argument(help="Portfolio name.")],
    keywords: Annotated[
        list[str] | None,
        typer.Option("--keywords", "-k", help="CATEGORY=word;word* (suggestion rule; CATEGORY= removes it)."),
    ] = None,
    suggest: Annotated[bool, typer.Option("--suggest", help="Suggest categories for uncategorised projects.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the categories with their projects and keyword rules; set rules; show suggestions (never applied).

    Example: lmreview portfolio categories lm2022 -k "Ethical recruitment=recruit*;employer*" --suggest
    """
    st = state(ctx)
    with st.session() as session:
        for rule in keywords or []:
            name, sep, words = rule.partition("=")
            if not sep or not name.strip():
                raise typer.BadParameter(f"{rule!r}: write CATEGORY=word;word", param_hint="--keywords")
            categories.set_keywords(session, portfolio, name, words.split(";"), actor=st.settings.actor)
        listed = categories.list_categories(session, portfolio)
        found = categories.suggestions(session, portfolio) if suggest else []
    if as_json:
        print_json(
            {
                "categories": [{"category": c.name, "projects": c.projects, "keywords": c.keywords} for c in listed],
                "suggestions": [
                    {"code": s.code, "current": s.current, "category": s.category, "matched": s.matched} for s in found
                ],
            }
        )
        return
    table = Table("category", "projects", "keywords")
    for c in listed:
        table.add_row(c.name, str(c.projects), "; ".join(c.keywords) or "–")
    console.print(table)
    if suggest:
        if not found:
            console.print("No suggestion: no uncategorised project matches a rule (or two rules tie).")
        for s in found:
            console.print(
                f"  {s.code} → {s.category} (matches {', '.join(s.matched)}): {s.title}", markup=False, soft_wrap=True
            )
        if found:
            console.print("Suggestions only: accept one with lmreview portfolio categorise PORTFOLIO CODE -c CATEGORY")
