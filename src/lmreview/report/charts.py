"""Charts of the report and of the web pages: the Okabe-Ito colour-blind-safe palette, titles that state n.

Each chart is made once and kept as an inline SVG element (its text stays text), with an alt text built from the
same data. Without a picture (``png=False``: web pages, and the HTML, XLSX and PDF report) the SVG is written here
directly, in milliseconds; DOCX needs a PNG, and those charts are drawn with matplotlib (Agg, no display), imported
on first use so that the CLI and the web pages do not pay for it. The renderers receive charts; nothing here reads
the store.
"""

from __future__ import annotations

import html
import io
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lmreview.figures import fmt_number, fmt_quantity, half_up

if TYPE_CHECKING:
    from lmreview.analysis.review_report import FindingSection, ReviewReport
    from lmreview.portfolio.stats import PortfolioStats

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
LABEL_CHARS = 48
LEGEND_CHARS = 30
_LOCK = threading.Lock()  # rcParams are global; charts made from web requests run in threads
_DRAWN: OrderedDict[tuple[Any, ...], Chart] = OrderedDict()  # the charts last drawn, by everything that shaped them
_DRAWN_MAX = 256


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    alt: str
    svg: str  # an <svg> element, ids prefixed with the key so several charts can share one page
    png: bytes
    labels: tuple[str, ...] = ()  # the data drawn: one value per label in each series
    series: tuple[tuple[str, tuple[Decimal | int, ...]], ...] = ()
    rows: tuple[str, ...] = ()  # the rows (project codes) behind the chart


def _kept(what: tuple[Any, ...], png: bool) -> Chart | None:
    """A chart drawn before from the same data (matplotlib takes a good part of a second a chart): the analysis
    page drawn again, or the report built in several formats, reuses it. A chart with its PNG serves both."""
    with _LOCK:
        for key in ((*what, True), (*what, False)) if not png else ((*what, True),):
            if key in _DRAWN:
                _DRAWN.move_to_end(key)
                return _DRAWN[key]
    return None


def _keep(what: tuple[Any, ...], png: bool, chart: Chart) -> Chart:
    with _LOCK:
        _DRAWN[(*what, png)] = chart
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return chart


def _short(label: str, chars: int = LABEL_CHARS) -> str:
    label = " ".join(label.split())
    return label if len(label) <= chars else label[: chars - 1].rstrip() + "…"


def _figure(rows: int) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.6, 0.42 * max(rows, 2) + 1.3), dpi=100, layout="constrained")
    return figure


def _export(key: str, figure: Any, png: bool = True) -> tuple[str, bytes]:
    import matplotlib

    svg_buffer, png_buffer = io.StringIO(), io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": key}):
        figure.savefig(svg_buffer, format="svg", metadata={"Date": None})
    if png:  # web pages show the SVG only: no PNG to pay for there
        figure.savefig(png_buffer, format="png", dpi=150, metadata={"Software": None})
    svg = svg_buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE: the element is inlined in HTML,
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # where the namespaces are implied
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return svg, png_buffer.getvalue()


def _style(axes: Any, title: str) -> None:
    axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8.5)
    axes.xaxis.grid(True, color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def _text(value: Decimal | int | float) -> str:
    if isinstance(value, Decimal):
        return fmt_number(value) if value >= 1000 else fmt_quantity(half_up(value, 2))
    return fmt_number(Decimal(str(value))) if value >= 1000 else fmt_quantity(Decimal(str(value)))


# --- SVG written directly: web pages and the HTML, XLSX and PDF report -----------------------------------------------
#
# matplotlib takes about a second a chart on a loaded machine; a page or a report that needs no PNG gets the same
# chart (same bars, labels, values, n in the title, colours and alt text) written as SVG elements here, in
# milliseconds. Only DOCX, which needs a picture, draws with matplotlib.

_WIDTH, _LABELS_AT, _BARS_AT, _BARS_END, _ROW, _TOP = 660, 250, 258, 610, 28, 40


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _ticks(top: float) -> list[float]:
    """Round gridline values from 0 to about ``top``: 1, 2 or 5 times a power of ten apart, four to eight lines."""
    if top <= 0:
        return [0.0]
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(top / step) + 1)]


def _tick_text(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _frame(key: str, title: str, rows: int, extra: int, axis_label: str, limit: float) -> tuple[list[str], int]:
    """The start of an SVG chart: its title, gridlines with their values and the axis label; and its height."""
    height = _TOP + rows * _ROW + 44 + extra
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    out = [
        f'<svg id="{prefix}-chart" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" '
        'font-family="DejaVu Sans, Arial, sans-serif" role="presentation">',
        f'<text x="8" y="20" font-size="13" font-weight="bold">{_e(_short(title, 90))}</text>',
    ]
    span = _BARS_END - _BARS_AT
    bottom = _TOP + rows * _ROW
    for tick in _ticks(limit):
        x = _BARS_AT + span * (tick / limit if limit else 0)
        out.append(f'<line x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#dddddd" stroke-width="1"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">{_tick_text(tick)}</text>')
    out.append(f'<line x1="{_BARS_AT}" y1="{_TOP - 4}" x2="{_BARS_AT}" y2="{bottom}" stroke="#333333"/>')
    out.append(
        f'<text x="{_BARS_AT + span / 2:.1f}" y="{bottom + 32}" font-size="11" text-anchor="middle">'
        f"{_e(axis_label)}</text>"
    )
    return out, height


def _label(y: float, label: str) -> str:
    return (
        f'<text x="{_LABELS_AT}" y="{y:.1f}" font-size="11" text-anchor="end" dominant-baseline="middle">'
        f"<title>{_e(label)}</title>{_e(_short(label, 40))}</text>"
    )


def _plain_bars(
    key: str, title: str, labels: Sequence[str], values: Sequence[Decimal | int], axis_label: str, x_max: float | None
) -> str:
    numbers = [float(v) for v in values]
    top = max(numbers, default=0.0)
    limit = x_max if x_max is not None else (top * 1.15 or 1.0)
    out, _ = _frame(key, title, len(labels), 0, axis_label, limit)
    span = _BARS_END - _BARS_AT
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _TOP + i * _ROW
        width = span * max(float(value), 0.0) / limit
        out.append(_label(y + _ROW / 2, label))
        out.append(f'<rect x="{_BARS_AT}" y="{y + 4}" width="{width:.1f}" height="{_ROW - 8}" fill="{OKABE_ITO[0]}"/>')
        out.append(
            f'<text x="{_BARS_AT + width + 4:.1f}" y="{y + _ROW / 2:.1f}" font-size="10" '
            f'dominant-baseline="middle">{_e(_text(value))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _plain_stacked(
    key: str, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], axis_label: str
) -> str:
    totals = [sum(int(counts[i]) for _, counts in series) for i in range(len(labels))]
    limit = max(totals, default=0) * 1.05 or 1.0
    columns = 2 if any(len(name) > 20 for name, _ in series) else 4
    legend_rows = -(-len(series) // columns)
    out, height = _frame(key, title, len(labels), legend_rows * 18 + 8, axis_label, limit)
    span = _BARS_END - _BARS_AT
    for i, label in enumerate(labels):
        y = _TOP + i * _ROW
        out.append(_label(y + _ROW / 2, label))
        left = 0.0
        for index, (name, counts) in enumerate(series):
            count = int(counts[i])
            if not count:
                continue
            colour = OKABE_ITO[index % len(OKABE_ITO)]
            x, width = _BARS_AT + span * left / limit, span * count / limit
            out.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{_ROW - 8}" fill="{colour}">'
                f"<title>{_e(name)}: {count}</title></rect>"
            )
            dark = colour in ("#0072B2", "#009E73", "#D55E00", "#000000", "#CC79A7")
            out.append(
                f'<text x="{x + width / 2:.1f}" y="{y + _ROW / 2:.1f}" font-size="9" text-anchor="middle" '
                f'dominant-baseline="middle" fill="{"white" if dark else "black"}">{count}</text>'
            )
            left += count
    legend_top = height - legend_rows * 18 - 4
    cell = (_WIDTH - 16) / columns
    for index, (name, _) in enumerate(series):
        x, y = 8 + (index % columns) * cell, legend_top + (index // columns) * 18
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        chars = LABEL_CHARS if columns == 2 else LEGEND_CHARS
        out.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16:.1f}" y="{y + 10}" font-size="10">{_e(_short(name, chars))}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    key: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal | int],
    *,
    axis_label: str,
    rows: tuple[str, ...] = (),
    x_max: float | None = None,
    png: bool = True,
) -> Chart:
    """Horizontal bars, one per label, each with its value written at its end."""
    what = ("bar", key, title, tuple(labels), tuple(values), axis_label, rows, x_max)
    if (found := _kept(what, png)) is not None:
        return found
    listed = "; ".join(f"{label}: {_text(value)}" for label, value in zip(labels, values, strict=True))
    alt = f"Bar chart. {title}. {axis_label}: {listed}."
    data: tuple[tuple[str, tuple[Decimal | int, ...]], ...] = ((axis_label, tuple(values)),)
    if not png:
        svg = _plain_bars(key, title, labels, values, axis_label, x_max)
        return _keep(what, png, Chart(key, title, alt, svg, b"", tuple(labels), data, rows))
    with _LOCK:
        figure = _figure(len(labels))
        axes = figure.subplots()
        positions = list(range(len(labels)))[::-1]
        numbers = [float(v) for v in values]
        axes.barh(positions, numbers, color=OKABE_ITO[0], height=0.6)
        axes.set_yticks(positions, [_short(label) for label in labels])
        for y, value in zip(positions, values, strict=True):
            axes.annotate(
                _text(value), (float(value), y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
            )
        top = max(numbers, default=0.0)
        axes.set_xlim(0, x_max if x_max is not None else (top * 1.15 or 1))
        axes.set_xlabel(axis_label, fontsize=8.5)
        if top >= 10_000:
            axes.xaxis.set_major_formatter("{x:,.0f}")
        _style(axes, title)
        svg, image = _export(key, figure, png)
    return _keep(what, png, Chart(key, title, alt, svg, image, tuple(labels), data, rows))


def stacked_bar_chart(
    key: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    axis_label: str,
    rows: tuple[str, ...] = (),
    png: bool = True,
) -> Chart:
    """Horizontal stacked bars: one bar per label, one segment per series (e.g. one per answer option)."""
    what = ("stacked", key, title, tuple(labels), tuple((n, tuple(c)) for n, c in series), axis_label, rows)
    if (found := _kept(what, png)) is not None:
        return found
    parts = []
    for i, label in enumerate(labels):
        parts.append(f"{label}: " + ", ".join(f"{name} {counts[i]}" for name, counts in series))
    alt = f"Stacked bar chart. {title}. {'; '.join(parts)}."
    data = tuple((name, tuple(counts)) for name, counts in series)
    if not png:
        svg = _plain_stacked(key, title, labels, series, axis_label)
        return _keep(what, png, Chart(key, title, alt, svg, b"", tuple(labels), data, rows))
    with _LOCK:
        chars = LABEL_CHARS if len(series) <= 4 else LEGEND_CHARS  # many long answer labels: shorter ones
        longest = max((len(_short(name, chars)) for name, _ in series), default=0)
        columns = max(1, min(len(series), 4 if longest <= 20 else 2))  # a legend no wider than the figure
        legend_rows = -(-len(series) // columns)
        figure = _figure(len(labels) + legend_rows // 2)  # room for the legend's rows below the bars
        axes = figure.subplots()
        positions = list(range(len(labels)))[::-1]
        left = [0.0] * len(labels)
        for index, (name, counts) in enumerate(series):
            numbers = [float(c) for c in counts]
            colour = OKABE_ITO[index % len(OKABE_ITO)]
            bars = axes.barh(positions, numbers, left=left, color=colour, height=0.6, label=_short(name, chars))
            dark = colour in ("#0072B2", "#009E73", "#D55E00", "#000000", "#CC79A7")
            axes.bar_label(
                bars, labels=[str(c) if c else "" for c in counts], label_type="center", fontsize=7.5,
                color="white" if dark else "black",
            )  # fmt: skip
            left = [a + b for a, b in zip(left, numbers, strict=True)]
        axes.set_yticks(positions, [_short(label) for label in labels])
        axes.set_xlim(0, max(left, default=0.0) * 1.05 or 1)
        axes.set_xlabel(axis_label, fontsize=8.5)
        axes.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=columns,
                    frameon=False)  # fmt: skip
        _style(axes, title)
        svg, image = _export(key, figure, png)
    return _keep(what, png, Chart(key, title, alt, svg, image, tuple(labels), data, rows))


# --- the charts of a review report -----------------------------------------------------------------------------------


def _section_chart(index: int, section: FindingSection, png: bool = True) -> Chart | None:
    answered = [q for q in section.questions if q.answered]
    if not answered:
        return None
    names = list(dict.fromkeys(c.label for q in answered for c in q.counts))
    series = [(name, [next((c.n for c in q.counts if c.label == name), 0) for q in answered]) for name in names]
    low, high = min(q.answered for q in answered), max(q.answered for q in answered)
    n = f"n = {low}" if low == high else f"n = {low}–{high}"
    unit = answered[0].unit_word
    rows = tuple(dict.fromkeys(r for q in answered for r in q.answered_rows))
    return stacked_bar_chart(
        f"findings-{index}",
        f"{section.title.capitalize()}: answers per question ({n} {unit} answering)",
        [q.label for q in answered],
        series,
        axis_label="answers",
        rows=rows,
        png=png,
    )


def report_charts(report: ReviewReport, png: bool = True) -> dict[str, Chart]:
    """The charts the report shows, by key: regions, funding years, each findings section with answers, ratings
    (``png=False``: SVG only, for a web page)."""
    charts: dict[str, Chart] = {}
    o = report.overview
    breakdowns = {b.key: b for b in o.breakdowns}
    region = breakdowns["region"].shares
    if region:
        charts["region"] = bar_chart(
            "region",
            f"Projects by region (n = {o.projects} projects)",
            [s.value or "(none)" for s in region],
            [s.projects for s in region],
            axis_label="projects",
            rows=tuple(r for s in region for r in s.rows),
            png=png,
        )
    years = sorted(breakdowns["funding_year"].shares, key=lambda s: (s.value is None, s.value or ""))
    if years and o.budget_usd.n:
        charts["year"] = bar_chart(
            "year",
            f"Budget by funding year, USD (n = {o.budget_usd.n} of {o.projects} projects with a budget)",
            [s.value or "(none)" for s in years],
            [s.budget_usd or Decimal(0) for s in years],
            axis_label="USD",
            rows=o.budget_usd.rows,
            png=png,
        )
    for index, section in enumerate(report.findings, start=1):
        chart = _section_chart(index, section, png)
        if chart is not None:
            charts[chart.key] = chart
    subject = next((s for s in report.ratings.subjects if s.subject == "review"), None)
    scored = [c for c in subject.criteria if c.weighted is not None] if subject else []
    if scored:
        top = max((int(str(level["score"])) for level in report.ratings.levels), default=6)
        sources = max(len(c.scored) for c in scored)
        charts["ratings"] = bar_chart(
            "ratings",
            f"Weighted score by criterion (scale 1–{top}; up to {sources} sources per criterion)",
            [c.criterion.capitalize() for c in scored],
            [c.weighted or Decimal(0) for c in scored],
            axis_label=f"weighted score (1–{top})",
            x_max=top + 0.5,
            png=png,
        )
    return charts


def section_charts(sections: Sequence[FindingSection], png: bool = False) -> dict[str, Chart]:
    """The report's chart of each findings section, by the section's key (its group in the questionnaire): the
    analysis page draws them beside its tables."""
    charts: dict[str, Chart] = {}
    for index, section in enumerate(sections, start=1):
        chart = _section_chart(index, section, png)
        if chart is not None:
            charts[section.key] = chart
    return charts


def portfolio_charts(stats: PortfolioStats, png: bool = False) -> dict[str, Chart]:
    """The statistics page's charts, drawn as the report draws its own: projects per value of each breakdown that
    has more than one value, and the budget by funding year when budgets are known."""
    charts: dict[str, Chart] = {}
    names = {"region": "region", "category": "category", "funding_year": "funding year", "fund_line": "fund line"}
    for key, shares in stats.breakdowns.items():
        if len([s for s in shares if s.value is not None]) < 2:
            continue
        ordered = sorted(shares, key=lambda s: (s.value is None, s.value or "")) if key == "funding_year" else shares
        charts[key] = bar_chart(
            f"stats-{key}",
            f"Projects by {names.get(key, key)} (n = {stats.projects} projects)",
            [s.value or "(none)" for s in ordered],
            [s.projects for s in ordered],
            axis_label="projects",
            rows=tuple(r for s in ordered for r in s.rows),
            png=png,
        )
    years = sorted(stats.breakdowns.get("funding_year", []), key=lambda s: (s.value is None, s.value or ""))
    if years and stats.budget_usd.n:
        charts["budget"] = bar_chart(
            "stats-budget",
            f"Budget by funding year, USD (n = {stats.budget_usd.n} of {stats.projects} projects with a budget)",
            [s.value or "(none)" for s in years],
            [s.budget_usd or Decimal(0) for s in years],
            axis_label="USD",
            rows=stats.budget_usd.rows,
            png=png,
        )
    return charts
