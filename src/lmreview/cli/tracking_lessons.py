"""``lmreview tracking lessons``: the library of lessons learned and good practices."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli.common import ROW_ID, console, print_json, state
from lmreview.tracking import from_evidence, lessons

app = typer.Typer(help="The library of lessons learned and good practices.", no_args_is_help=True)
ReviewOption = Annotated[str | None, typer.Option("--review", "-r", help="Only this review's.")]


def _template_fields(*values: str | None) -> dict[str, str | None]:
    """The options --context … --impact by the field each fills (lessons.LESSON_FIELDS, then PRACTICE_FIELDS)."""
    return dict(zip([*lessons.LESSON_FIELDS, *lessons.PRACTICE_FIELDS], values, strict=True))


def _split(items: list[str] | None) -> list[str]:
    return [part.strip() for item in items or [] for part in item.split(";") if part.strip()]


@app.command("add")
def lessons_add(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", help="lesson or good-practice.")],
    title: Annotated[str, typer.Option("--title")],
    text: Annotated[str, typer.Option("--text", help="The lesson or the practice, in a few sentences.")],
    context: Annotated[str | None, typer.Option("--context", help="Lesson: the context.")] = None,
    challenge: Annotated[
        str | None, typer.Option("--challenge", help="Lesson: the challenge or causal factor.")
    ] = None,
    users: Annotated[str | None, typer.Option("--users", help="Lesson: the users it is meant for.")] = None,
    relevance: Annotated[str | None, typer.Option("--relevance", help="Lesson: its relevance.")] = None,
    elements: Annotated[str | None, typer.Option("--elements", help="Good practice: what made it work.")] = None,
    replicability: Annotated[str | None, typer.Option("--replicability", help="Good practice.")] = None,
    objectives: Annotated[str | None, typer.Option("--objectives", help="Good practice: link to objectives.")] = None,
    impact: Annotated[str | None, typer.Option("--impact", help="Good practice: measurable impact.")] = None,
    review: Annotated[str | None, typer.Option("--review", "-r", help="The review it comes from.")] = None,
    document: Annotated[int | None, typer.Option("--document", help="The evidence document it comes from.")] = None,
    page: Annotated[int | None, typer.Option("--page", help="The page of that document.")] = None,
    project: Annotated[list[str] | None, typer.Option("--project", help="A project code it concerns.")] = None,
    theme: Annotated[list[str] | None, typer.Option("--theme", help="A theme it concerns.")] = None,
    year: Annotated[int | None, typer.Option("--year")] = None,
) -> None:
    """Add a lesson learned or a good practice, with its source.

    Example: lmreview tracking lessons add --kind good-practice --title "Joint labour inspections" --text "..."
    --document 3 --page 41 --project LM.0181 --elements "..." --replicability "..."
    """
    fields = _template_fields(context, challenge, users, relevance, elements, replicability, objectives, impact)
    st = state(ctx)
    with st.session() as session:
        lesson = lessons.add_lesson(
            session,
            kind=kind,
            title=title,
            text=text,
            actor=st.settings.actor,
            fields={k: v for k, v in fields.items() if v},
            review=review,
            document_id=document,
            page=page,
            projects=_split(project),
            themes=_split(theme),
            year=year,
        )
        label, lesson_id = lessons.KIND_LABELS[lesson.kind], lesson.id
    console.print(f"Added {label.lower()} {lesson_id}: {title}", markup=False)


@app.command("set")
def lessons_set(
    ctx: typer.Context,
    lesson_id: Annotated[
        int, typer.Argument(help="The lesson's or good practice's id (see `lessons list`).", **ROW_ID)
    ],
    title: Annotated[str | None, typer.Option("--title")] = None,
    text: Annotated[str | None, typer.Option("--text")] = None,
    context: Annotated[str | None, typer.Option("--context", help="Lesson: the context ('' clears).")] = None,
    challenge: Annotated[
        str | None, typer.Option("--challenge", help="Lesson: the challenge or causal factor.")
    ] = None,
    users: Annotated[str | None, typer.Option("--users", help="Lesson: the users it is meant for.")] = None,
    relevance: Annotated[str | None, typer.Option("--relevance", help="Lesson: its relevance.")] = None,
    elements: Annotated[str | None, typer.Option("--elements", help="Good practice: what made it work.")] = None,
    replicability: Annotated[str | None, typer.Option("--replicability", help="Good practice.")] = None,
    objectives: Annotated[str | None, typer.Option("--objectives", help="Good practice: link to objectives.")] = None,
    impact: Annotated[str | None, typer.Option("--impact", help="Good practice: measurable impact.")] = None,
    projects: Annotated[
        str | None, typer.Option("--projects", help="Project codes, separated by ; ('' clears).")
    ] = None,
    themes: Annotated[str | None, typer.Option("--themes", help="Themes, separated by ; ('' clears).")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1, max=9999)] = None,
    no_year: Annotated[bool, typer.Option("--no-year", help="Clear the year.")] = False,
) -> None:
    """Change a lesson or good practice; options not given stay as they are. The change is audited.

    Example: lmreview tracking lessons set 4 --title "Plan extensions at the design stage" --themes "management;design"
    """
    given = _template_fields(context, challenge, users, relevance, elements, replicability, objectives, impact)
    st = state(ctx)
    with st.session() as session:
        lesson = lessons.update_lesson(
            session,
            lesson_id,
            actor=st.settings.actor,
            title=title,
            text=text,
            fields={k: v for k, v in given.items() if v is not None},
            projects=None if projects is None else projects.split(";"),
            themes=None if themes is None else themes.split(";"),
            year=year,
            clear_year=no_year,
        )
        label = lessons.KIND_LABELS[lesson.kind].lower()
    console.print(f"Saved {label} {lesson_id}", markup=False)


@app.command("remove")
def lessons_remove(
    ctx: typer.Context,
    lesson_id: Annotated[int, typer.Argument(help="The lesson's or good practice's id.", **ROW_ID)],
) -> None:
    """Take a lesson or good practice out of the library (the audit log keeps what it said).

    Example: lmreview tracking lessons remove 4
    """
    st = state(ctx)
    with st.session() as session:
        title = lessons.remove_lesson(session, lesson_id, actor=st.settings.actor)
    console.print(f"Removed {lesson_id}: {title}", markup=False)


@app.command("import-evidence")
def lessons_import_evidence(
    ctx: typer.Context,
    document: Annotated[int | None, typer.Option("--document", help="Only this document's.")] = None,
) -> None:
    """Add the lessons and good practices the evidence library found in its documents, linked to their page.

    Example: lmreview tracking lessons import-evidence --document 1
    """
    st = state(ctx)
    with st.session() as session:
        report = from_evidence.import_lessons(session, actor=st.settings.actor, document_id=document)
    for skipped in report.skipped:
        console.print(f"skipped {skipped[1]} of {skipped[0]}: {skipped[2]}", markup=False)
    console.print(f"{len(report.added)} added, {len(report.skipped)} skipped", markup=False)


@app.command("list")
def lessons_list(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option("--search", "-s", help="Words that must all appear.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="lesson or good-practice.")] = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    theme: Annotated[str | None, typer.Option("--theme")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1, max=9999)] = None,
    review: ReviewOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search and filter the library.

    Example: lmreview tracking lessons list --search "recruitment fees" --kind good-practice
    """
    with state(ctx).session() as session:
        found = lessons.list_lessons(session, lessons.LessonFilters(search, kind, project, theme, year, review))
        rows = [lessons.lesson_json(session, lesson) for lesson in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Nothing matches.")
        return
    table = Table("id", "kind", "title", "source", "projects", "year")
    for row in rows:
        src = row["source"]
        where = src["review"] or (f"document {src['document_id']}, p. {src['page']}" if src["document_id"] else "")
        table.add_row(
            str(row["id"]),
            lessons.KIND_LABELS[row["kind"]].lower(),
            row["title"],
            where,
            ", ".join(row["projects"]),
            str(row["year"] or ""),
        )
    console.print(table)
