"""``lmreview stats``: portfolio statistics with their denominators."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli.common import console, print_json, state
from lmreview.figures import Summary, fmt_number, fmt_pct
from lmreview.portfolio.stats import portfolio_stats

LABELS = {
    "region": "Region",
    "fund_line": "Fund line",
    "funding_year": "Funding year",
    "category": "Category",
}


def _summary_row(label: str, s: Summary, places: int) -> list[str]:
    return [
        label,
        f"{s.n} of {s.of}",
        fmt_number(s.total, places),
        fmt_number(s.mean, places),
        fmt_number(s.median, places),
        fmt_number(s.min, places),
        fmt_number(s.max, places),
    ]


def stats(
    ctx: typer.Context,
    portfolio: Annotated[str, typer.Option("--portfolio", "-p", help="Portfolio name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (numbers unrounded).")] = False,
    rows: Annotated[
        bool, typer.Option("--rows", help='With --json: list the codes of the projects behind each figure ("rows").')
    ] = False,
) -> None:
    """Budget, duration and NCE summaries, and projects and budget by region, line, year and category.

    Example: lmreview stats --portfolio lm2016 --json --rows
    """
    if rows and not as_json:
        raise typer.BadParameter(
            "--rows lists the rows behind each figure in the JSON output: add --json", param_hint="--rows"
        )
    with state(ctx).session() as session:
        result = portfolio_stats(session, portfolio, rows=rows)
    if as_json:
        print_json(result.as_json(rows))
        return
    console.print(f"Portfolio {result.portfolio}: {result.projects} projects", markup=False)
    table = Table("", "n", "total", "mean", "median", "min", "max", title="Summaries over projects with a value")
    table.add_row(*_summary_row("Budget (USD)", result.budget_usd, 2))
    table.add_row(*_summary_row("Duration incl. NCE (months)", result.duration_months, 1))
    table.add_row(*_summary_row("No-cost extensions (months)", result.nce_months, 1))
    console.print(table)
    for left in result.excluded:
        console.print(f"Left out of duration and NCE: {left.code}, {left.reason}", markup=False)
    for name, shares in result.breakdowns.items():
        table = Table(
            LABELS[name],
            "projects",
            f"% of {result.projects}",
            "budget (USD)",
            f"% of {fmt_number(result.budget_usd.total)}",
            title=f"By {LABELS[name].lower()}",
        )
        for share in shares:
            table.add_row(
                share.value if share.value is not None else "(none)",
                str(share.projects),
                fmt_pct(share.pct),
                fmt_number(share.budget_usd),
                fmt_pct(share.budget_pct),
            )
        console.print(table)
