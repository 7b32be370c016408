"""``lmreview audit``: the numbers of a report that do not add up, or that differ from the portfolio."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from lmreview.analysis.audit import audit_text
from lmreview.analysis.documents import read_document
from lmreview.cli.common import console, print_json, state
from lmreview.figures import plural
from lmreview.portfolio.stats import PortfolioStats, portfolio_stats


def audit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The report: a .txt (UTF-8), .docx or .pdf file.")],
    portfolio: Annotated[
        str | None,
        typer.Option("--portfolio", "-p", help="Also compare the figures with this portfolio's statistics."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print the findings as JSON: [{"location", "claim", "expected", "rule"}].')
    ] = False,
) -> None:
    """Check the numbers of a report: shares and totals that do not add up, and figures that differ from the data.

    Shares are recomputed from their counts and totals and compared at the printed precision; with --portfolio,
    shares, counts, budgets, means and medians printed next to a region, category, year or line are compared with
    lmreview's figures. Exit status 0 whether or not something is found; 2 for a file that cannot be read.

    Example: lmreview audit draft-report.docx --portfolio lm2016
    """
    document = read_document(file)
    figures: PortfolioStats | None = None
    if portfolio is not None:
        with state(ctx).session() as session:
            figures = portfolio_stats(session, portfolio)
    result = audit_text(document.blocks, figures)
    if as_json:
        print_json([finding.as_json() for finding in result.findings])
        return
    if result.findings:
        table = Table("where", "printed", "expected", "rule")
        for finding in result.findings:
            cells = (finding.location, finding.claim, finding.expected, finding.rule)
            table.add_row(*(Text(cell) for cell in cells))  # printed text, never markup: "[see Annex 2] 5 (40%)"
        console.print(table)
    n = len({(finding.location, finding.claim) for finding in result.findings})  # a number may break two rules
    against = f" or differ from portfolio {figures.portfolio}" if figures else ""
    verb = "does" if n == 1 else "do"
    summary = f"{plural(n, 'number')} {verb} not add up{against} in {document.name} (checked {result.checked}"
    if result.not_compared:
        summary += f"; {plural(result.not_compared, 'figure')} about other projects not compared"
    console.print(summary + ")", markup=False, soft_wrap=True)
