"""``lmreview tabulate``: one question of a review's questionnaire, with its denominators."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from lmreview.analysis.tabulate import PROJECT_FIELDS, Block, Tabulation, tabulate
from lmreview.cli.common import console, print_json, state
from lmreview.figures import fmt_number, fmt_pct, plural

UNIT_WORDS = {"project": "projects", "respondent": "respondents", "submission": "submissions"}


def _pct(value: float | None) -> str:
    return fmt_pct(Decimal(repr(value)) if value is not None else None)


def _range(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low:.1f}–{high:.1f}%"


def _denominators(result: Tabulation, block: Block) -> str:
    data = block.as_json()
    words = UNIT_WORDS[result.unit]
    line = f"Units: {data['units']} {words} · responded {data['responded']}"
    if data.get("from_documents"):
        line += f" + {data['from_documents']} entered from documents"
    if result.repeat:
        line += f" · {plural(data['instances'], 'instance')} of {result.repeat}"
    line += f" · not relevant {data['not_relevant']} · skipped {data['skipped']} · answered {data['answered']}"
    if result.repeat:
        line += f" (from {data['units_with_answer']} {words})"
    return line


def _counts_table(result: Tabulation, counts: list[dict[str, Any]], answered: int) -> Table:
    of_units = "% of units with it" if result.repeat else "% of units"
    table = Table("value", "label", "n of answered", "%", "95% CI", of_units, "bounds among units")
    for c in counts:
        table.add_row(
            escape(c["value"] if c["in_choices"] else f"{c['value']} (not a choice)"),
            escape(c["label"]),
            f"{c['n']} of {answered}",
            _pct(c["pct"]),
            _range(c["ci_low"], c["ci_high"]),
            _pct(c["pct_units"]),
            _range(c["bound_low"], c["bound_high"]),
        )
    return table


def _number(value: float | None, places: int = 2) -> str:
    """For display: whole numbers without decimals (a median of 80), others with ``places``."""
    if value is None:
        return "–"
    return fmt_number(Decimal(repr(value)), 0 if value == int(value) else places)


def _summary_lines(result: Tabulation, summary: dict[str, Any], answered: int) -> list[str]:
    if "min" in summary and result.type in ("date", "today"):
        return [f"Dates: {summary['n']} of {answered} answered · earliest {summary['min']} · latest {summary['max']}"]
    if "files" in summary:  # image, audio, video, file questions: the answers whose file lmreview holds
        return [f"Files stored: {summary['n']} of {answered} answered (the others name a file not received)"]
    if "bbox" in summary:  # geopoints, traces, shapes: how many, and the box around them
        box = summary["bbox"]
        where = (
            "no valid location"
            if box is None
            else (f"latitude {box['south']} to {box['north']} · longitude {box['west']} to {box['east']}")
        )
        return [f"Locations: {summary['n']} of {answered} answered · {where}"]
    if "top_box" in summary:
        box = summary["top_box"]
        mean = _number(summary["mean"])
        values = " or ".join(box["values"])
        return [
            f"Mean rating {mean} (n {summary['n']} of {answered} answered; sd {_number(summary['sd'])})",
            f"Rating {values}: {box['n']} of {box['of']} ({_pct(box['pct'])}, 95% CI "
            f"{_range(box['ci_low'], box['ci_high'])})",
        ]
    parts = [f"n {summary['n']} of {answered} answered"]
    parts += [f"{k} {_number(summary.get(k))}" for k in ("mean", "median", "sd", "min", "max", "total")]
    return [" · ".join(parts)]


def _by_table(result: Tabulation) -> Table:
    first = result.groups[0].block.as_json() if result.groups else {}
    columns = ["group", "units", "responded", "answered"]
    options = [(c["value"], c["label"]) for c in first.get("counts") or []]
    columns += [escape(label) for _, label in options]
    summary = first.get("summary")
    stats = ["mean", "median", "sd", "min", "max"] if summary and "mean" in summary else []
    stats = ["min", "max"] if summary and "mean" not in summary else stats
    title = f"By {result.by_label}" if result.by in PROJECT_FIELDS else f"By {result.by}: {result.by_label}"
    table = Table(*columns, *stats, title=escape(title))
    for group in result.groups:
        data = group.block.as_json()
        row = [escape(group.label or "(none)"), str(data["units"]), str(data["responded"]), str(data["answered"])]
        by_value = {c["value"]: c for c in data["counts"] or []}
        row += [f"{by_value[v]['n']} ({_pct(by_value[v]['pct'])})" if v in by_value else "–" for v, _ in options]
        group_summary = data["summary"] or {}
        row += [
            str(group_summary.get(k) or "–") if result.type in ("date", "today") else _number(group_summary.get(k))
            for k in stats
        ]
        table.add_row(*row)
    return table


def tabulate_command(
    ctx: typer.Context,
    question: Annotated[str, typer.Option("--question", "-q", help="Question path (project/report_date) or name.")],
    review: Annotated[str | None, typer.Option("--review", "-r", help="Review name.")] = None,
    form: Annotated[
        str | None,
        typer.Option("--form", help="Form name: the one review that uses it, or, if none does, all its submissions."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Cross-tab by a project field (region, category, funding_year, fund_line) or a question."
        ),
    ] = None,
    language: Annotated[str | None, typer.Option("--language", help="Language of the labels (name or code).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (numbers unrounded, rows behind each).")] = False,
) -> None:
    """Counts, shares with 95% intervals, or a numeric summary of one question, with every denominator.

    With --form and no review using the form, every submission of the form counts as one respondent.

    Example: lmreview tabulate --review lm2016-review --question sustained --by region
    """
    with state(ctx).session() as session:
        result = tabulate(session, review, question, by=by, language=language, form=form)
    if as_json:
        print_json(result.as_json())
        return
    data = result.whole.as_json()
    where = f"Review {result.review} · form {result.form}" if result.review else f"Form {result.form} (no review)"
    console.print(f"{where} · question {result.question} ({result.type})", markup=False)
    console.print(result.label, markup=False)
    console.print(_denominators(result, result.whole), markup=False)
    if result.review is None:
        console.print(f"Units: {result.units_rule}.", markup=False)
    if result.set_aside or result.drafts:
        console.print(
            f"Not counted: {plural(len(result.set_aside), 'submission')} set aside (see --json), "
            f"{plural(result.drafts, 'draft')}",
            markup=False,
        )
    if data["counts"] is not None:
        console.print(_counts_table(result, data["counts"], data["answered"]))
    if data["summary"] is not None:
        for line in _summary_lines(result, data["summary"], data["answered"]):
            console.print(line, markup=False)
    if data.get("files") is not None:
        table = Table("unit", "file", "submission", title=f"{plural(len(data['files']), 'file')}")
        for item in data["files"]:
            unit = item["unit"] + (f" {item['instance']}" if "instance" in item else "")
            row = str(item["submission"]) if item["submission"] is not None else "(not stored)"
            table.add_row(escape(unit), escape(item["value"]), row)
        console.print(table)
    if data.get("texts") is not None:
        table = Table("unit", "answer", title=f"{plural(len(data['texts']), 'answer')}")
        for text in data["texts"]:
            unit = text["unit"] + (f" {text['instance']}" if "instance" in text else "")
            table.add_row(escape(unit), escape(text["value"]))
        console.print(table)
    if result.by is not None:
        console.print(_by_table(result))
