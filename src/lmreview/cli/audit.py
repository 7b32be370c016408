"""``lmreview audit``: the numbers of a report that do not add up, or that differ from the data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from lmreview.analysis.audit import audit_figures, audit_text
from lmreview.analysis.documents import read_document
from lmreview.cli.common import console, print_json, state
from lmreview.figures import plural


def audit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The report: a .txt (UTF-8), .docx or .pdf file.")],
    portfolio: Annotated[
        str | None,
        typer.Option("--portfolio", "-p", help="Also compare the figures with this portfolio's statistics."),
    ] = None,
    review: Annotated[
        str | None,
        typer.Option(
            "--review",
            "-r",
            help="Also compare the figures next to a choice label with this review's answers (and, without "
            "--portfolio, with its portfolio).",
        ),
    ] = None,
    form: Annotated[
        str | None, typer.Option("--form", help="Like --review, for the one review that uses this form.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print the findings as JSON: [{"location", "claim", "expected", "rule"}].')
    ] = False,
) -> None:
    """Check the numbers of a report: shares and totals that do not add up, and figures that differ from the data.

    Shares are recomputed from their counts and totals and compared at the printed precision; with --portfolio,
    shares, counts, budgets, means and medians printed next to a region, category, year or line are compared with
    lmreview's figures; with --review (or --form), shares, counts and denominators printed next to a choice label of
    the questionnaire ("Covid-19 was a challenge for 3 of 7 projects (43%)", a table row "Lack of funding | 4 | 57%")
    are compared with the tabulation of its question. Exit status 0 whether or not something is found; 2 for a file
    that cannot be read or an unknown portfolio, review or form.

    Example: lmreview audit draft-report.docx --review lm2016-review
    """
    document = read_document(file)
    figures, survey = None, None
    if portfolio is not None or review is not None or form is not None:  # else the store is never opened
        with state(ctx).session() as session:
            figures, survey = audit_figures(session, portfolio=portfolio, review=review, form=form, what=file.name)
    result = audit_text(document.blocks, figures, survey)
    if as_json:
        print_json([finding.as_json() for finding in result.findings])
        return
    if result.findings:
        table = Table("where", "printed", "expected", "rule")
        for finding in result.findings:
            cells = (finding.location, finding.claim, finding.expected, finding.rule)
            table.add_row(*(Text(cell) for cell in cells))  # printed text, never markup: "[see Annex 2] 5 (40%)"
        console.print(table)
    n = len({(f.location, f.claim, f.expected) for f in result.findings})  # a number may break two rules
    data = [f"review {survey.review}"] if survey else []
    data += [f"portfolio {figures.portfolio}"] if figures else []
    against = f" or differ from {' and '.join(data)}" if data else ""
    verb = "does" if n == 1 else "do"
    summary = f"{plural(n, 'number')} {verb} not add up{against} in {document.name} (checked {result.checked}"
    if result.not_compared:
        about = "other data" if survey else "other projects"
        summary += f"; {plural(result.not_compared, 'figure')} about {about} not compared"
    console.print(summary + ")", markup=False, soft_wrap=True)
