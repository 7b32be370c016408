"""``lmreview ratings``: criteria ratings of a review and their triangulated scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmreview.analysis.ratings import ratings_summary
from lmreview.cli.common import console, err, print_json, state
from lmreview.errors import BadInput, Problem
from lmreview.figures import fmt_number
from lmreview.files import read_input
from lmreview.questionnaire import reviews
from lmreview.ratings import service

app = typer.Typer(help="Criteria ratings (DAC criteria) from several sources, weighted.", no_args_is_help=True)
ReviewOption = Annotated[str, typer.Option("--review", "-r", help="Review name.")]


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: subject, criterion, source, score, rationale, weight.")],
    review: ReviewOption,
    scale: Annotated[
        str, typer.Option("--scale", help="six-point (1-6), four-level (weak..good), or a scale you added.")
    ] = "six-point",
) -> None:
    """Import ratings; a score for the same subject, criterion and source replaces the earlier one.

    Example: lmreview ratings import scores.xlsx --review ilo-hle
    """
    st = state(ctx)
    data = read_input(file)
    with st.session() as session:
        found = reviews.get_review(session, review)
        result = service.import_ratings(session, found, data, str(file), actor=st.settings.actor, scale_name=scale)
    for warning in result.warnings:
        err.print(str(warning), markup=False, soft_wrap=True)
    console.print(
        f"Imported {file.name} into review {review}: {result.created} added, {result.replaced} replaced, "
        f"{result.unchanged} unchanged; sources: "
        + ", ".join(f"{name} (weight {fmt_number(w, 0) if w == int(w) else w})" for name, w in result.sources.items()),
        markup=False,
        soft_wrap=True,
    )


@app.command("weights")
def weights(
    ctx: typer.Context,
    review: ReviewOption,
    assignments: Annotated[list[str] | None, typer.Argument(help='SOURCE=WEIGHT, e.g. "evaluation team=4".')] = None,
) -> None:
    """Show or set the weight of each source.

    Example: lmreview ratings weights --review ilo-hle "staff survey=1" "synthesis report=2" "evaluation team=4"
    """
    st = state(ctx)
    parsed: dict[str, str] = {}
    for item in assignments or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BadInput([Problem(item, 0, "-", 'write SOURCE=WEIGHT, e.g. "evaluation team=4"')])
        parsed[name.strip()] = value
    with st.session() as session:
        found = reviews.get_review(session, review)
        if parsed:
            service.set_weights(session, found, parsed, actor=st.settings.actor)
        current = ratings_summary(session, found).weights
    for name, weight in current.items():
        console.print(f"{name}: {weight.normalize():f}", markup=False)


@app.command("summary")
def summary(
    ctx: typer.Context,
    review: ReviewOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (scores unrounded).")] = False,
) -> None:
    """The triangulated score of each criterion: weighted mean over sources, unweighted mean, range, n.

    Example: lmreview ratings summary --review ilo-hle --json
    """
    with state(ctx).session() as session:
        result = ratings_summary(session, reviews.get_review(session, review))
    if as_json:
        print_json(result.as_json())
        return
    if not result.subjects:
        console.print(f"No ratings yet: lmreview ratings import FILE --review {review}")
        return
    weights = ", ".join(f"{k} {v.normalize():f}" for k, v in result.weights.items())
    console.print(f"Review {review}, scale {result.scale}; weights: {weights}", markup=False, soft_wrap=True)
    table = Table("subject", "criterion", "weighted", "mean", "range", "sources", "n/a")
    for subject in result.subjects:
        for c in subject.criteria:
            span = f"{fmt_number(c.low, 0)}–{fmt_number(c.high, 0)}" if c.low is not None else "–"
            table.add_row(
                subject.subject,
                c.criterion,
                fmt_number(c.weighted, 2),
                fmt_number(c.mean, 2),
                span,
                str(len(c.scored)),
                str(len(c.sources) - len(c.scored)),
            )
    console.print(table)


@app.command("scales")
def scales(
    ctx: typer.Context,
    add: Annotated[str | None, typer.Option("--add", help="Name of a new scale.")] = None,
    level: Annotated[list[str] | None, typer.Option("--level", help="A level of the new scale: SCORE=label.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of the new scale.")] = None,
    no_na: Annotated[bool, typer.Option("--no-na", help="The new scale has no N/A.")] = False,
) -> None:
    """List the rating scales, or add one.

    Example: lmreview ratings scales --add three-point --level 1=weak --level 2=fair --level 3=strong
    """
    st = state(ctx)
    with st.session() as session:
        if add is not None:
            service.add_scale(session, add, level or [], actor=st.settings.actor, title=title, allows_na=not no_na)
        found = [(s.name, s.title, s.levels, s.allows_na) for s in service.list_scales(session)]
    table = Table("scale", "title", "levels", "N/A")
    for name, scale_title, levels, allows_na in found:
        table.add_row(
            name, scale_title, ", ".join(f"{lv['score']} {lv['label']}" for lv in levels), "yes" if allows_na else "no"
        )
    console.print(table)
