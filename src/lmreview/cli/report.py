"""``lmreview report``: the review report (HTML, PDF, DOCX, XLSX), the 2-page evaluation brief, narrative sections.

The renderers (and matplotlib) are imported when a command needs them, so other commands start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from lmreview.analysis.review_report import ReviewReport, evaluation_brief, review_report
from lmreview.cli.common import State, console, state
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.figures import fmt_number, fmt_quantity
from lmreview.files import read_text
from lmreview.questionnaire import reviews
from lmreview.report import narrative

if TYPE_CHECKING:
    from lmreview.report.charts import Chart

app = typer.Typer(help="The review report, the evaluation brief and their narrative sections.", no_args_is_help=True)
ReviewOption = Annotated[str, typer.Option("--review", "-r", help="Review name.")]
FORMATS = ("html", "pdf", "docx", "xlsx")
BRIEF_FORMATS = ("html", "docx", "pdf")
DEMO_REVIEW = "idf-lm-2016"


def _formats(wanted: str) -> list[str]:
    chosen = list(FORMATS) if wanted == "all" else [f.strip().lower() for f in wanted.split(",") if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        message = f'there is no report format "{", ".join(bad) or wanted}"; choose html, pdf, docx, xlsx or all'
        raise BadInput([Problem("--format", 0, "-", message)])
    return chosen


def render(report: ReviewReport, fmt: str, charts: dict[str, Chart], link_base: str | None = None) -> bytes:
    """The bytes of the report in ``fmt`` (html, pdf, docx, xlsx)."""
    from lmreview.report import docx, html, pdf, xlsx

    if fmt == "html":
        return html.render_html(report, charts, link_base=link_base).encode("utf-8")
    if fmt == "pdf":
        return pdf.render_pdf(html.render_print_html(report, charts))
    if fmt == "docx":
        return docx.render_docx(report, charts)
    return xlsx.render_xlsx(report, charts)


def write_report(
    report: ReviewReport, formats: list[str], out: Path, step: Callable[[str], None] | None = None
) -> list[Path]:
    """Write the report in each format to ``out`` (created if needed) as REVIEW-report.FORMAT; the paths written."""
    from lmreview.report.charts import report_charts

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput([Problem(str(out), 0, "-", f"cannot create the folder ({exc.strerror})")]) from None
    if step:
        step("charts")
    charts = report_charts(report, png="docx" in formats)  # only Word needs the pictures
    written = []
    for fmt in formats:
        if step:
            step(fmt)
        path = out / f"{report.review}-report.{fmt}"
        data = render(report, fmt, charts)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise BadInput([Problem(str(path), 0, "-", f"cannot write the file ({exc.strerror})")]) from None
        written.append(path)
    return written


def key_figures(report: ReviewReport) -> list[str]:
    """The budget, length and NCE figures as the reviews print them (001: "The average length was 18.3 months")."""
    o = report.overview
    b, d, n = o.budget_usd, o.duration_months, o.nce_months
    return [
        f"Budget: total USD {fmt_number(b.total)}, mean {fmt_number(b.mean)}, median {fmt_number(b.median)} "
        f"(n = {b.n} of {b.of} projects)",
        f"Length incl. NCE: mean {fmt_number(d.mean, 1)}, median {fmt_quantity(d.median)}, max {fmt_quantity(d.max)}, "
        f"min {fmt_quantity(d.min)} months (n = {d.n} of {d.of})",
        f"No-cost extensions: mean {fmt_number(n.mean, 1)}, median {fmt_quantity(n.median)}, "
        f"max {fmt_quantity(n.max)}, min {fmt_quantity(n.min)} months (n = {n.n} of {n.of})",
    ]


@app.command("build")
def build(
    ctx: typer.Context,
    review: ReviewOption,
    fmt: Annotated[str, typer.Option("--format", "-f", help="html, pdf, docx, xlsx or all.")] = "html",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write REVIEW-report.FORMAT into.")] = Path("."),
) -> None:
    """Build the review report from the data as they are now, and print the files written.

    Example: lmreview report build --review r16 --format all --out reports/
    """
    formats = _formats(fmt)
    with state(ctx).session() as session:
        report = review_report(session, review)
    if len(formats) > 1 and console.is_terminal:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Building the report", total=len(formats) + 1)

            def step(what: str) -> None:
                progress.update(task, description=f"Building {what}", advance=0 if what == "charts" else 1)

            written = write_report(report, formats, out, step)
    else:
        written = write_report(report, formats, out)
    for path in written:
        console.print(f"Wrote {path} ({path.stat().st_size:,} bytes)", markup=False)


@app.command("brief")
def brief(
    ctx: typer.Context,
    review: ReviewOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="FILE.html, FILE.docx or FILE.pdf.")],
    evaluation_type: Annotated[str | None, typer.Option("--type", help="Evaluation type.")] = None,
    evaluators: Annotated[str | None, typer.Option("--evaluators", help="Evaluator(s).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Evaluation period.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Final report date.")] = None,
    commissioned_by: Annotated[str | None, typer.Option("--commissioned-by", help="Commissioned by.")] = None,
    managed_by: Annotated[str | None, typer.Option("--managed-by", help="Managed by.")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Evaluation purpose.")] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", help="Evaluation criteria.")] = None,
    methodology: Annotated[str | None, typer.Option("--methodology", help="Evaluation methodology.")] = None,
    coverage: Annotated[str | None, typer.Option("--coverage", help="Geographical coverage.")] = None,
    funding: Annotated[str | None, typer.Option("--funding", help="Funding.")] = None,
) -> None:
    """Write the 2-page evaluation brief: header fields, key findings by criterion, key recommendations.

    Header fields come from these options, else from the brief_header section ("Field: value" lines), else from the
    data (period, criteria rated, methodology, regions). Findings come from the ratings and the findings section,
    recommendations from the recommendations section.

    Example: lmreview report brief --review r16 --out brief.docx --evaluators "Evaluation unit" --date "May 2016"
    """
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in BRIEF_FORMATS:
        message = f"the brief is written as .html, .docx or .pdf, not {out.suffix or 'a file without a suffix'}"
        raise BadInput([Problem("--out", 0, "-", message)])
    fields = {
        "Evaluation type": evaluation_type,
        "Evaluator(s)": evaluators,
        "Evaluation period": period,
        "Final report date": date,
        "Commissioned by": commissioned_by,
        "Managed by": managed_by,
        "Evaluation purpose": purpose,
        "Evaluation criteria": criteria,
        "Evaluation methodology": methodology,
        "Geographical coverage": coverage,
        "Funding": funding,
    }
    with state(ctx).session() as session:
        content = evaluation_brief(review_report(session, review), {k: v for k, v in fields.items() if v})
    from lmreview.report import docx, html, pdf

    if suffix == "docx":
        data = docx.render_brief_docx(content)
    elif suffix == "pdf":
        data = pdf.render_pdf(html.render_brief_html(content))
    else:
        data = html.render_brief_html(content).encode("utf-8")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        raise BadInput([Problem(str(out), 0, "-", f"cannot write the file ({exc.strerror})")]) from None
    console.print(f"Wrote {out} ({len(data):,} bytes)", markup=False)


@app.command("section")
def section(
    ctx: typer.Context,
    review: ReviewOption,
    key: Annotated[str, typer.Option("--key", "-k", help=f"One of: {', '.join(narrative.SECTIONS)}.")],
    file: Annotated[Path, typer.Option("--file", help="A Markdown file (UTF-8).")],
    title: Annotated[str | None, typer.Option("--title", help="The section's title (default: kept).")] = None,
) -> None:
    """Save a narrative section of the report from a Markdown file, as a new version (earlier ones are kept).

    Example: lmreview report section --review r16 --key recommendations --file recommendations.md
    """
    narrative.check_key(key)
    text = read_text(file)
    st = state(ctx)
    with st.session() as session:
        found = reviews.get_review(session, review)
        saved = narrative.save_section(session, found, key, text, actor=st.settings.actor, title=title)
    s = saved.section
    if saved.changed:
        console.print(f'Saved section {key} ("{s.title}") of review {review} as version {s.version}.', markup=False)
    else:
        console.print(f"Section {key} of review {review} is unchanged (version {s.version}).", markup=False)


@app.command("sections")
def sections(ctx: typer.Context, review: ReviewOption) -> None:
    """List the narrative sections of the report with their current version, who saved it and when.

    Example: lmreview report sections --review r16
    """
    with state(ctx).session() as session:
        found = reviews.get_review(session, review)
        current = narrative.current_sections(session, found)
    table = Table("key", "title", "version", "saved by", "saved at", "words", title=f"Report sections of {review}")
    for key, s in current.items():
        table.add_row(
            key,
            s.title,
            str(s.version) if s.version else "not written",
            s.actor or "–",
            s.at.strftime("%Y-%m-%d %H:%M") if s.at else "–",
            str(len(s.markdown.split())),
        )
    console.print(table)


# --- the demo --------------------------------------------------------------------------------------------------------

DEMO_INTRODUCTION = """This report was built by `lmreview demo` from the `lm2016` sample: the 14 projects of the
IOM Development Fund's labour migration review of 2016 (funded 2011-2014). Its budget, length and no-cost extension
figures are computed from the project register and equal those the review published.

Write the narrative sections in the web UI (the report page of the review) or with `lmreview report section`.
"""


def build_demo_report(
    session: Session, out: Path, *, actor: str, formats: list[str] | None = None
) -> tuple[ReviewReport, list[Path]]:
    """The report of the 2016 review of the ``lm2016`` sample (imported beforehand): the review is created from the
    idf-lm-2016 questionnaire if it does not exist, given an introduction if it has none, and its report written
    to ``out`` (HTML, XLSX, DOCX, and PDF where WeasyPrint can run)."""
    from lmreview.report.pdf import pdf_available

    try:
        found = reviews.get_review(session, DEMO_REVIEW)
    except NotFound:
        found = reviews.create_review(
            session,
            DEMO_REVIEW,
            actor=actor,
            portfolio="lm2016",
            template="idf-lm-2016",
            title="Labour migration review, IOM Development Fund 2016",
            period="2011-2014",
        )
    current = narrative.current_sections(session, found)
    if not current["introduction"].written:
        narrative.save_section(session, found, "introduction", DEMO_INTRODUCTION, actor=actor)
    session.flush()
    report = review_report(session, DEMO_REVIEW)
    chosen = formats or ["html", "xlsx", "docx", *(["pdf"] if pdf_available() is None else [])]
    return report, write_report(report, chosen, out)


def demo_report(st: State, out: Path | None = None) -> list[Path]:
    """What ``lmreview demo`` runs after loading the samples: build the 2016 report and print where it is and its
    budget, length and NCE figures (those of review 001)."""
    if out is None:
        db_file = st.store().sqlite_path
        out = (Path(db_file).parent if db_file else Path(".")) / "reports"
    with st.session() as session:
        report, written = build_demo_report(session, out, actor=st.settings.actor)
    console.print(f"Report of review {DEMO_REVIEW} (portfolio lm2016):", markup=False)
    for line in key_figures(report):
        console.print(f"  {line}", markup=False)
    for path in written:
        console.print(f"  wrote {path}", markup=False)
    console.print(f"  in the web UI: /reviews/{DEMO_REVIEW}/report", markup=False)
    return written
