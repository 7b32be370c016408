"""The report's outline — numbered sections, tables and figures with captions that state n — and its HTML.

``outline(report, charts)`` lays the report out once as a list of blocks (heading, Markdown, facts, table, figure);
the HTML, DOCX and XLSX renderers all walk the same blocks, so a table has the same number, caption and figures in
every format. ``render_html`` writes one self-contained file: inline CSS, inline SVG charts, a table of contents,
nothing fetched from elsewhere. With ``link_base`` (the web UI), every figure links to its rows
(``/portfolios/NAME?codes=...``). Nothing here reads the store.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from lmreview.figures import Share, Summary, fmt_number, fmt_pct, fmt_quantity

if TYPE_CHECKING:
    from lmreview.analysis.review_report import Brief, QuestionFinding, ReviewReport
    from lmreview.analysis.thumbnails import Thumbnail
    from lmreview.report.charts import Chart

NOT_WRITTEN = "This section has not been written yet."
PAGE_ROWS = 100  # rows of a table a browser shows at a time
PDF_ANNEX_ROWS = 500  # rows of an annex a PDF prints; longer annexes are in the XLSX file
PDF_LIST_CODES = 50  # project codes a PDF lists in one sentence


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    value: Decimal | int | str | None = None  # the unrounded value, for spreadsheets
    rows: tuple[str, ...] = ()  # the project codes behind the figure
    num: bool = False


@dataclass
class Block:
    kind: str  # heading | markdown | facts | table | figure | paragraph
    text: str = ""
    level: int = 1
    number: str = ""
    anchor: str = ""
    header: list[str] = field(default_factory=list)
    body: list[list[Cell]] = field(default_factory=list)
    facts: list[tuple[str, Cell]] = field(default_factory=list)
    note: str = ""
    sheet: str = ""
    chart: Chart | None = None
    placeholder: bool = False
    images: tuple[Thumbnail, ...] = ()  # thumbnails: the images received for a question


class _Outline:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.tables = 0
        self.figures = 0
        self.chapter = 0
        self.annexes = 0
        self.sub = 0

    def chapter_heading(self, title: str, annex: bool = False) -> None:
        self.sub = 0
        if annex:
            self.annexes += 1
            number = f"Annex {self.annexes}"
        else:
            self.chapter += 1
            number = str(self.chapter)
        self.blocks.append(Block("heading", title, 1, number, f"s{len(self.blocks)}"))

    def sub_heading(self, title: str) -> None:
        self.sub += 1
        self.blocks.append(Block("heading", title, 2, f"{self.chapter}.{self.sub}", f"s{len(self.blocks)}"))

    def markdown(self, text: str) -> None:
        if text.strip():
            self.blocks.append(Block("markdown", text))
        else:
            self.blocks.append(Block("paragraph", NOT_WRITTEN, placeholder=True))

    def paragraph(self, text: str) -> None:
        self.blocks.append(Block("paragraph", text))

    def facts(self, facts: list[tuple[str, Cell]]) -> None:
        self.blocks.append(Block("facts", facts=facts))

    def table(self, caption: str, header: list[str], body: list[list[Cell]], sheet: str, note: str = "") -> None:
        self.tables += 1
        self.blocks.append(
            Block("table", caption, number=f"Table {self.tables}", anchor=f"t{self.tables}", header=header, body=body,
                  note=note, sheet=sheet)
        )  # fmt: skip

    def thumbnails(self, q: QuestionFinding) -> None:
        """The first images received for an image question, small, as a figure under its count."""
        received = next((c.n for c in q.counts if c.value == "received"), len(q.thumbnails))
        shown = f"the first {len(q.thumbnails)} of {received}" if received > len(q.thumbnails) else f"all {received}"
        self.figures += 1
        self.blocks.append(
            Block(
                "thumbnails",
                f"{q.label}: {shown} images received, small (every file is on the review's pages)",
                number=f"Figure {self.figures}",
                anchor=f"f{self.figures}",
                images=q.thumbnails,
            )
        )

    def figure(self, chart: Chart | None) -> None:
        if chart is not None:
            self.figures += 1
            self.blocks.append(
                Block("figure", chart.title, number=f"Figure {self.figures}", anchor=f"f{self.figures}", chart=chart)
            )


def _n(value: int, rows: tuple[str, ...] = ()) -> Cell:
    return Cell(str(value), value, rows, True)


def _money(value: Decimal | None, places: int = 0) -> Cell:
    return Cell(fmt_number(value, places), value, num=True)


def _pct(value: Decimal | None) -> Cell:
    return Cell(fmt_pct(value), value, num=True)


def _summary_row(label: str, s: Summary, money: bool) -> list[Cell]:
    def cell(value: Decimal | None, mean: bool = False) -> Cell:
        if money:
            return _money(value)
        return Cell(fmt_number(value, 1) if mean else fmt_quantity(value), value, num=True)

    return [
        Cell(label),
        Cell(f"{s.n} of {s.of}", s.n, s.rows, True),
        cell(s.total),
        cell(s.mean, mean=True),
        cell(s.median),
        cell(s.min),
        cell(s.max),
    ]


def _share_rows(shares: list[Share], budget: bool = True) -> list[list[Cell]]:
    body = []
    for s in shares:
        row = [Cell(s.value or "(none)"), _n(s.projects, s.rows), _pct(s.pct)]
        if budget:
            row += [_money(s.budget_usd), _pct(s.budget_pct)]
        body.append(row)
    return body


def _denominators(q: QuestionFinding) -> str:
    where = f" ({q.repeat} instances)" if q.repeat else ""
    return (
        f"{q.label}: units {q.units} {q.unit_word}, responded {q.responded}"
        + (f" + {q.from_documents} entered from documents" if q.from_documents else "")
        + f", not relevant {q.not_relevant}, "
        f"skipped {q.skipped}, answered {q.answered}{where}."
    )


def _count_cell(n: int, of: int, rows: tuple[str, ...]) -> Cell:
    pct = fmt_pct(Decimal(100) * n / of) if of else "–"
    return Cell(f"{n} ({pct})", n, rows, True)


def _combinable(q: QuestionFinding) -> bool:
    """Questions of one list (yes/no...) outside repeats share one table: a row per question."""
    return q.type == "select_one" and not q.repeat


def _findings(o: _Outline, report: ReviewReport, charts: dict[str, Chart]) -> None:
    for index, section in enumerate(report.findings, start=1):
        o.sub_heading(section.title.capitalize() if section.title.isupper() else section.title)
        questions = section.questions
        groups: list[list[QuestionFinding]] = []
        for q in questions:
            previous = groups[-1][0] if groups else None
            if previous is not None and _combinable(q) and _combinable(previous) and previous.list_name == q.list_name:
                groups[-1].append(q)
            else:
                groups.append([q])
        for group in groups:
            first = group[0]
            unit = first.unit_word
            if len(group) > 1:
                names = list(dict.fromkeys(c.label for q in group for c in q.counts))
                body = []
                for q in group:
                    counts = {c.label: c for c in q.counts}
                    row = [Cell(q.label), Cell(f"{q.answered} of {q.units}", q.answered, q.answered_rows, True)]
                    for name in names:
                        c = counts.get(name)
                        row.append(_count_cell(c.n, c.answered, c.rows) if c else Cell("–", num=True))
                    body.append(row)
                low, high = min(q.answered for q in group), max(q.answered for q in group)
                n = f"n = {low}" if low == high else f"n = {low}–{high}"
                o.table(
                    f"{section.title.capitalize()}: answers per question ({n} of {first.units} {unit} answered; "
                    "% of those who answered)",
                    ["Question", "Answered", *names],
                    body,
                    f"F{index} {section.key.rsplit('/', 1)[-1]}",
                    " ".join(_denominators(q) for q in group if q.not_relevant or q.skipped),
                )
                continue
            q = first
            body = [[Cell(c.label), _n(c.n, c.rows), _pct(c.pct)] for c in q.counts]
            if q.mean is not None and q.top_box is not None:
                values, hits, of = q.top_box
                body.append([Cell(f"Mean score; rating {values}"), Cell(fmt_number(q.mean, 2), q.mean, num=True),
                             _count_cell(hits, of, ())])  # fmt: skip
            of_what = f"{q.repeat} instances" if q.repeat else unit
            o.table(
                f"{q.label} (n = {q.answered} {of_what} answered, of {q.units} {unit}; % of those who answered)",
                ["Answer", "n", "% of answered"],
                body,
                f"F{index} {q.path.rsplit('/', 1)[-1]}",
                _denominators(q),
            )
            if q.thumbnails:
                o.thumbnails(q)
        o.figure(charts.get(f"findings-{index}"))


def _ratings(o: _Outline, report: ReviewReport, charts: dict[str, Chart]) -> None:
    r = report.ratings
    if not r.subjects:
        o.paragraph("No criteria ratings have been recorded for this review.")
        return
    levels = ", ".join(f"{level['score']} = {level['label']}" for level in r.levels)
    weights = "; ".join(f"{name} {fmt_quantity(w)}" for name, w in r.weights.items())
    o.paragraph(
        f"Scale: {r.scale} ({levels}). Each score is the weighted mean over the sources that rated the criterion, "
        f"Σ weight × score / Σ weight; the sources and their weights: {weights}."
    )
    for subject in r.subjects:
        body = [
            [
                Cell(c.criterion.capitalize()),
                Cell(fmt_number(c.weighted, 2), c.weighted, num=True),
                Cell(fmt_number(c.mean, 2), c.mean, num=True),
                Cell(f"{fmt_quantity(c.low)}–{fmt_quantity(c.high)}" if c.low is not None else "–", num=True),
                Cell(f"{len(c.scored)} of {len(c.sources)}", len(c.scored), num=True),
            ]
            for c in subject.criteria
        ]
        who = "the review as a whole" if subject.subject == "review" else f"project {subject.subject}"
        o.table(
            f"Criteria scores for {who} (n = sources with a score, of the sources that rated)",
            ["Criterion", "Weighted", "Mean", "Range", "Sources"],
            body,
            "ratings" if subject.subject == "review" else f"ratings {subject.subject}"[:31],
        )
    o.figure(charts.get("ratings"))


def outline(report: ReviewReport, charts: dict[str, Chart], annex_rows: int | None = None) -> list[Block]:
    """The report as numbered blocks, in order; every renderer walks these. With ``annex_rows`` (a PDF), an annex
    longer than that is replaced by a note sending the reader to the XLSX file, which lists it whole.

    The blocks are kept on the report for the same ``charts``: the formats of one build (HTML, XLSX, DOCX) lay the
    report out once (the annex of a 10,000-project portfolio is 80,000 cells). Renderers only read them."""
    key = (annex_rows, PDF_LIST_CODES if annex_rows is not None else None)
    kept = report.laid_out.get(key)
    if kept is not None and kept[0] is charts:
        blocks: list[Block] = kept[1]
        return blocks
    blocks = _lay_out(report, charts, annex_rows)
    report.laid_out[key] = (charts, blocks)
    return blocks


def _lay_out(report: ReviewReport, charts: dict[str, Chart], annex_rows: int | None) -> list[Block]:
    from lmreview.report.coded import coded_section

    o = _Outline()
    m, ov, s = report.methodology, report.overview, report.sections
    for key in ("summary", "introduction"):
        o.chapter_heading(s[key].title)
        o.markdown(s[key].markdown)

    o.chapter_heading("Methodology")
    form = f"{m.form_title or m.form} ({m.form}, version {m.form_version}; {m.questions} questions)" if m.form else "–"
    missing = ", ".join(m.missing) if m.missing else "none"
    if annex_rows is not None and len(m.missing) > PDF_LIST_CODES:  # a PDF: a list of thousands of codes in one cell
        shown = ", ".join(m.missing[:PDF_LIST_CODES])  # took WeasyPrint minutes to lay out
        missing = f"{len(m.missing):,} projects: {shown}, … (all of them in the HTML version of this report)"
    facts = [
        ("Scope", Cell(f"the {m.projects} projects of portfolio {m.portfolio}", m.projects,
                       tuple(p.code for p in report.projects))),
        ("Questionnaire", Cell(form)),
        ("Response rate", Cell(m.response_text, m.response.projects, m.response.rows)),
        ("Respondents", Cell(str(m.respondents), m.respondents)),

        ("Projects without a submitted questionnaire", Cell(missing, len(m.missing), m.missing)),
    ]  # fmt: skip
    if m.used is not None:
        used = f"{m.used} (one per unit; rejected and older submissions are set aside)"
        facts.append(("Questionnaires the findings count", Cell(used, m.used)))
    if m.rating_sources:
        weights = ", ".join(f"{name} ({fmt_quantity(w)})" for name, w in m.rating_sources.items())
        facts.append(("Sources of the criteria ratings (weight)", Cell(weights)))
    o.facts(facts)
    o.paragraph(
        "Every figure states its denominator: n is the number of projects (or answers) with a value, of all the "
        "projects of the portfolio; shares of answers are of those who answered the question."
    )

    o.chapter_heading("Portfolio overview")
    o.table(
        f"Budget, length incl. NCE and no-cost extensions (n = {ov.projects} projects; each figure over the projects "
        "with a value)",
        ["", "n", "Total", "Mean", "Median", "Min", "Max"],
        [
            _summary_row("Budget (USD)", ov.budget_usd, money=True),
            _summary_row("Length incl. NCE (months)", ov.duration_months, money=False),
            _summary_row("No-cost extensions (months)", ov.nce_months, money=False),
        ],
        "summaries",
    )
    for b in ov.breakdowns:
        total = fmt_number(ov.budget_usd.total)
        o.table(
            f"Projects and budget by {b.label.lower()} (n = {ov.projects} projects; budget USD {total})",
            [b.label, "Projects", f"% of {ov.projects}", "Budget (USD)", "% of budget"],
            _share_rows(b.shares),
            f"by {b.label.lower()}",
        )
        o.figure(charts.get({"region": "region", "funding_year": "year"}.get(b.key, "")))
    o.table(
        f"Revisions (n = {ov.projects} projects)",
        ["Projects with", "Projects", f"% of {ov.projects}"],
        _share_rows(ov.revisions, budget=False),
        "revisions",
    )

    o.chapter_heading(s["findings"].title)
    if s["findings"].markdown.strip():
        o.markdown(s["findings"].markdown)
    if report.findings_note:
        o.paragraph(report.findings_note)
    _findings(o, report, charts)
    coded_section(o, report)

    o.chapter_heading("Criteria ratings")
    _ratings(o, report, charts)
    for key in ("conclusions", "recommendations", "lessons"):
        o.chapter_heading(s[key].title)
        o.markdown(s[key].markdown)

    o.chapter_heading("Projects", annex=True)
    if annex_rows is not None and len(report.projects) > annex_rows:
        what = f"The {len(report.projects):,} projects of portfolio {m.portfolio}"
        o.paragraph(_too_long(o, what, "projects", annex_rows))
    else:
        _projects_annex(o, report)
    if report.questionnaire:
        o.chapter_heading("Questionnaire", annex=True)
        if annex_rows is not None and len(report.questionnaire) > annex_rows:
            o.paragraph(_too_long(o, f"The {len(report.questionnaire):,} questions", "questionnaire", annex_rows))
        else:
            o.table(
                f"{report.questionnaire_title or m.form}: the questions in order (n = {m.questions} questions)",
                ["Question", "Type", "Name"],
                [[Cell(("\u2003" * q.depth) + q.label), Cell(q.type), Cell(q.path)] for q in report.questionnaire],
                "questionnaire",
            )
    return o.blocks


def _too_long(o: _Outline, what: str, sheet: str, limit: int) -> str:
    """The note standing for a table left out; the table keeps its number (the XLSX file's sheets are named by it)."""
    o.tables += 1
    return (
        f'{what} are listed in the XLSX version of this report (sheet "Table {o.tables} {sheet}") and in its HTML '
        f"version: a PDF prints an annex only up to {limit:,} rows."
    )


def _projects_annex(o: _Outline, report: ReviewReport) -> None:
    m = report.methodology
    o.table(
        f"The projects of portfolio {m.portfolio} (n = {len(report.projects)})",
        ["Code", "Year", "Line", "Budget (USD)", "Region", "Category", "Months", "Title"],
        [
            [
                Cell(p.code, p.code, (p.code,)),
                Cell(str(p.funding_year or "–"), p.funding_year, num=True),
                Cell(p.fund_line or "–", p.fund_line),
                _money(p.budget_usd),
                Cell(p.region or "–", p.region),
                Cell(p.category or "–", p.category),
                Cell(fmt_quantity(p.months), p.months, num=True),
                Cell(p.title),
            ]
            for p in report.projects
        ],
        "projects",
    )


# --- HTML ------------------------------------------------------------------------------------------------------------

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str, shift: int = 2) -> Markup:
    """Markdown as HTML (raw HTML in it is escaped, not run); its headings start ``shift`` levels down."""
    tokens = _MD.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"
    return Markup(_MD.renderer.render(tokens, _MD.options, {}))


def markdown_inline(text: str) -> Markup:
    return Markup(_MD.renderInline(text))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lmreview.report", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown_html
    env.filters["markdown_inline"] = markdown_inline
    env.filters["number"] = fmt_number
    env.filters["quantity"] = fmt_quantity
    env.filters["base64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


LINK_CODES = 300  # at most this many project codes in a figure's link: about 2.5 KB of address


def figure_digest(rows: tuple[str, ...]) -> str:
    """The name of the rows behind a figure in an address: a digest of its codes (32 hex digits), the same for the
    same codes in the same order, whatever the report they came from."""
    return hashlib.blake2b("\n".join(rows).encode("utf-8"), digest_size=16).hexdigest()


def figure_rows(blocks: list[Block]) -> Iterator[tuple[str, ...]]:
    """The rows behind every figure of the laid-out report: its tables' cells, its facts and its charts."""
    for b in blocks:
        for row in b.body:
            for c in row:
                if c.rows:
                    yield c.rows
        for _, c in b.facts:
            if c.rows:
                yield c.rows
        if b.chart is not None and b.chart.rows:
            yield b.chart.rows


@dataclass(frozen=True)
class Linker:
    """The link from a figure to the projects behind it, when the report is shown by the web UI (``link_base``):
    ``/portfolios/NAME?codes=...`` for up to ``LINK_CODES`` projects. A figure of more projects would need an address
    longer than reverse proxies accept (8 KB for nginx's whole request line): it links to the review's page of
    that figure's rows instead, ``/reviews/NAME/report/rows/DIGEST`` (:func:`figure_digest`)."""

    projects: frozenset[str]
    portfolio: str
    link_base: str | None
    review: str

    def __call__(self, rows: tuple[str, ...]) -> str | None:
        if not self.linkable(rows):
            return None
        if len(rows) > LINK_CODES:
            return f"{self.link_base}/reviews/{quote(self.review, safe='')}/report/rows/{figure_digest(rows)}"
        codes = quote(",".join(rows), safe=",")
        return f"{self.link_base}/portfolios/{quote(self.portfolio, safe='')}?codes={codes}"

    def linkable(self, rows: tuple[str, ...]) -> bool:
        return self.link_base is not None and bool(rows) and set(rows) <= self.projects


def _body(link: Linker) -> Callable[[Block], Markup]:
    """The rows of a table block as HTML: a cell is ``<td>`` (``class="num"`` for a figure) holding its text, or a
    link to the rows behind it when ``link`` gives one."""

    def body(block: Block) -> Markup:
        lines = []
        for row in block.body:
            cells = []
            for c in row:
                opening = '<td class="num">' if c.num else "<td>"
                href = link(c.rows)
                if href:
                    title = f"the {len(c.rows)} rows behind this figure"
                    cells.append(
                        f'{opening}<a class="rows" href="{escape(href)}" title="{title}">{escape(c.text)}</a></td>\n'
                    )
                else:
                    cells.append(f"{opening}{escape(c.text)}</td>\n")
            lines.append(f"<tr>{''.join(cells)}</tr>\n")
        return Markup("".join(lines))

    return body


def render_html(
    report: ReviewReport, charts: dict[str, Chart], *, link_base: str | None = None, annex_rows: int | None = None
) -> str:
    """The report as one self-contained HTML file. Tables longer than PAGE_ROWS show a page of rows at a time in
    a browser (a few lines of inline script, in those reports only; without it, every row shows)."""
    blocks = outline(report, charts, annex_rows)
    link = Linker(frozenset(p.code for p in report.projects), report.portfolio, link_base, report.review)
    template = _environment().get_template("report.html")
    toc = [b for b in blocks if b.kind == "heading"]
    paged = any(b.kind == "table" and len(b.body) > PAGE_ROWS for b in blocks)  # the script only when it is needed
    return template.render(
        report=report, blocks=blocks, link=link, body=_body(link), toc=toc, page_rows=PAGE_ROWS, paged=paged
    )


def render_print_html(report: ReviewReport, charts: dict[str, Chart]) -> str:
    """The HTML the PDF is made from: an annex longer than PDF_ANNEX_ROWS rows is left to the XLSX file, with a
    note, so WeasyPrint's work stays bounded whatever the size of the portfolio."""
    return render_html(report, charts, annex_rows=PDF_ANNEX_ROWS)


def render_brief_html(brief: Brief) -> str:
    """The 2-page evaluation brief as one self-contained HTML file."""
    return _environment().get_template("brief.html").render(brief=brief)
