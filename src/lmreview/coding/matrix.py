"""The code matrix of a review: for each code, how many of the review's projects (or documents, or the projects
of each region or category) have it, with the denominator and the segments behind each cell; and which codes
occur together.

A project *has* a code when a coding of that code lies in an answer of the project's submission to the review, or
in a document about the project (or in an item extracted from one: a recommendation, a lesson). The denominator is
the number of projects the coders had material for: those with a submitted questionnaire in the review or a
document in the library. Counts are computed in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Text, and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from lmreview.coding.codebooks import code_rows, get_codebook
from lmreview.coding.models import Code, Codebook, Coding
from lmreview.errors import LmreviewError
from lmreview.evidence.models import Document, DocumentProject, Item
from lmreview.figures import fmt_pct
from lmreview.portfolio.models import Category, Project, Region
from lmreview.questionnaire.models import Review, Submission
from lmreview.questionnaire.reviews import get_review
from lmreview.tables import workbook_bytes

DIMENSIONS = ("project", "document", "region", "category")
UNIT_WORD = {"project": "projects", "document": "documents", "region": "projects", "category": "projects"}


@dataclass
class Cell:
    key: str
    units: int  # units of this column with the code (projects of a region; 1 or 0 for a project or document)
    of: int  # units of this column
    segments: list[int] = field(default_factory=list)  # coding ids (when asked for)
    count: int = 0  # codings in the cell

    @property
    def pct(self) -> Decimal | None:
        return Decimal(100) * self.units / self.of if self.of else None


@dataclass
class CodeFigure:
    code: str
    path: str
    colour: str | None
    units: int
    of: int
    word: str
    segments: int
    rows: list[str]  # the units (project codes or document ids) that have the code
    cells: list[Cell]

    @property
    def pct(self) -> Decimal | None:
        return Decimal(100) * self.units / self.of if self.of else None

    def text(self) -> str:
        pct = f", {fmt_pct(self.pct, 0)}" if self.pct is not None else ""
        word = self.word if self.of != 1 else self.word.removesuffix("s")
        return f"{self.code}: {self.units} of {self.of} {word}{pct}"


@dataclass
class Matrix:
    review: str
    codebook: str
    by: str
    columns: list[tuple[str, str, int]]  # key, label, units
    of: int
    codes: list[CodeFigure]
    co_occurrence: list[tuple[str, str, int]]
    rule: str
    coders: list[str] | None = None  # only these coders' codings were counted

    def as_json(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "codebook": self.codebook,
            "by": self.by,
            "denominator": self.of,
            "rule": self.rule,
            "columns": [{"key": k, "label": label, "units": n} for k, label, n in self.columns],
            "codes": [
                {
                    "code": c.code,
                    "path": c.path,
                    "units": c.units,
                    "of": c.of,
                    "pct": float(c.pct) if c.pct is not None else None,
                    "text": c.text(),
                    "segments": c.segments,
                    "rows": c.rows,
                    "cells": [{"key": x.key, "units": x.units, "of": x.of, "segments": x.segments} for x in c.cells],
                }
                for c in self.codes
            ],
            "co_occurrence": [{"a": a, "b": b, "units": n} for a, b, n in self.co_occurrence],
        }


def _project_units(review: Review) -> Select[Any]:
    """Projects of the review with material: a submitted questionnaire or a document about them."""
    answered = select(Submission.project_id).where(
        Submission.review_id == review.id, Submission.status == "submitted", Submission.project_id.is_not(None)
    )
    documented = (
        select(Project.id)
        .join(DocumentProject, DocumentProject.code == Project.code)
        .where(Project.portfolio_id == review.portfolio_id)
    )
    return select(Project.id).where(
        Project.portfolio_id == review.portfolio_id, Project.id.in_(answered.union(documented))
    )


def _coded(review: Review, code_ids: Select[Any], coders: Sequence[str] | None) -> Any:
    """(coding id, code id, project id, document id) for every coding that falls in the review's material."""
    answers = (
        select(Coding.id.label("coding_id"), Coding.code_id, Submission.project_id, literal(None).label("document_id"))
        .join(Submission, Submission.id == Coding.submission_id)
        .where(Submission.review_id == review.id, Submission.project_id.is_not(None), Coding.code_id.in_(code_ids))
    )
    documents = (
        select(Coding.id.label("coding_id"), Coding.code_id, Project.id.label("project_id"), Coding.document_id)
        .join(DocumentProject, DocumentProject.document_id == Coding.document_id)
        .join(Project, and_(Project.code == DocumentProject.code, Project.portfolio_id == review.portfolio_id))
        .where(Coding.code_id.in_(code_ids))
    )
    items = (  # an item extracted from a document counts for the document, and so for its projects
        select(Coding.id.label("coding_id"), Coding.code_id, Project.id.label("project_id"), Item.document_id)
        .join(Item, Item.id == Coding.item_id)
        .join(DocumentProject, DocumentProject.document_id == Item.document_id)
        .join(Project, and_(Project.code == DocumentProject.code, Project.portfolio_id == review.portfolio_id))
        .where(Coding.code_id.in_(code_ids))
    )
    if coders:
        answers = answers.where(Coding.coder.in_(list(coders)))
        documents = documents.where(Coding.coder.in_(list(coders)))
        items = items.where(Coding.coder.in_(list(coders)))
    return union_all(answers, documents, items).subquery("coded")


def code_matrix(
    session: Session,
    review: str,
    *,
    codebook: str | None = None,
    by: str = "project",
    coders: Sequence[str] | None = None,
    segment_ids: bool = True,
) -> Matrix:
    """The matrix; ``segment_ids`` False leaves out the coding ids of each cell (counts only), for speed."""
    if by not in DIMENSIONS:
        raise LmreviewError(f'cannot make a matrix by "{by}"; use {", ".join(DIMENSIONS)}')
    found = get_review(session, review)
    book = pick_codebook(session, codebook)
    rows = [r for r in code_rows(book) if r.code.codable]
    code_ids = select(Code.id).where(Code.codebook_id == book.id)
    coded = _coded(found, code_ids, coders)
    units = _project_units(found).subquery("units")
    unit_col = coded.c.document_id if by == "document" else coded.c.project_id
    in_units = coded.c.document_id.is_not(None) if by == "document" else coded.c.project_id.in_(select(units.c.id))

    # columns and the denominator
    if by == "document":
        docs = session.execute(
            select(Document.id, Document.title)
            .where(
                Document.id.in_(
                    select(DocumentProject.document_id)
                    .join(Project, Project.code == DocumentProject.code)
                    .where(Project.portfolio_id == found.portfolio_id)
                )
            )
            .order_by(Document.id)
        ).all()
        columns = [(str(i), title, 1) for i, title in docs]
        keys = {i: str(i) for i, _ in docs}
        column_of: dict[int, str] = keys
    elif by == "project":
        projects = session.execute(
            select(Project.id, Project.code).where(Project.id.in_(select(units.c.id))).order_by(Project.code)
        ).all()
        columns = [(code, code, 1) for _, code in projects]
        column_of = dict(projects)
    else:
        table, key = (Region, Project.region_id) if by == "region" else (Category, Project.category_id)
        grouped = session.execute(
            select(Project.id, func.coalesce(table.name, "(none)"))
            .outerjoin(table, table.id == key)
            .where(Project.id.in_(select(units.c.id)))
        ).all()
        column_of = dict(grouped)
        sizes: dict[str, int] = defaultdict(int)
        for name in column_of.values():
            sizes[name] += 1
        columns = [(name, name, n) for name, n in sorted(sizes.items())]
    of = sum(n for _, _, n in columns)
    size = {k: n for k, _, n in columns}

    # per code and unit: the coding ids (one SQL query, grouped by code and unit)
    columns_sql = [coded.c.code_id, unit_col, func.count()]  # a coding is in a cell once
    if segment_ids:
        if session.get_bind().dialect.name == "postgresql":
            columns_sql.append(func.string_agg(func.cast(coded.c.coding_id, Text()), ","))
        else:
            columns_sql.append(func.group_concat(coded.c.coding_id, ","))
    per_unit = session.execute(select(*columns_sql).where(in_units).group_by(coded.c.code_id, unit_col)).all()
    per_code = _codings_per_code(session, found, code_ids, coders, by, units)
    label_of = (
        dict(session.execute(select(Project.id, Project.code).where(Project.portfolio_id == found.portfolio_id)).all())
        if by != "document"
        else {}
    )
    by_code: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    units_of_code: dict[int, set[str]] = defaultdict(set)
    unit_cols: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    codes_of_unit: dict[str, set[int]] = defaultdict(set)
    for code_id, unit, count, *joined in per_unit:
        if unit not in column_of:
            continue
        codes_of_unit[str(unit)].add(code_id)
        column = column_of[unit]
        counts[code_id][column] += count
        if joined:
            by_code[code_id][column].update(int(x) for x in str(joined[0]).split(",") if x)
        unit_cols[code_id][column].add(unit)
        units_of_code[code_id].add(label_of.get(unit, str(unit)))
    figures = []
    for row in rows:
        cells = [
            Cell(
                key,
                len(unit_cols[row.code.id].get(key, ())),
                size[key],
                sorted(by_code[row.code.id].get(key, ())),
                counts[row.code.id].get(key, 0),
            )
            for key, _, _ in columns
        ]
        figures.append(
            CodeFigure(
                row.code.name,
                row.path,
                row.code.colour,
                len(units_of_code[row.code.id]),
                of,
                UNIT_WORD[by],
                per_code.get(row.code.id, 0),
                sorted(units_of_code[row.code.id]),
                cells,
            )
        )
    return Matrix(
        found.name,
        book.name,
        by,
        columns,
        of,
        figures,
        _co_occurrence(codes_of_unit, {r.code.id: r.code.name for r in rows}),
        rule=_rule(by, coders),
        coders=list(coders) if coders else None,
    )


def _codings_per_code(
    session: Session, review: Review, code_ids: Select[Any], coders: Sequence[str] | None, by: str, units: Any
) -> dict[int, int]:
    """The codings of each code in the matrix's units (a document's coding counted once, whatever its projects)."""
    documents = select(DocumentProject.document_id).join(
        Project, and_(Project.code == DocumentProject.code, Project.portfolio_id == review.portfolio_id)
    )
    if by != "document":
        documents = documents.where(Project.id.in_(select(units.c.id)))
    queries = [
        select(Coding.code_id, func.count()).where(Coding.document_id.in_(documents), Coding.code_id.in_(code_ids)),
        select(Coding.code_id, func.count()).where(
            Coding.item_id.in_(select(Item.id).where(Item.document_id.in_(documents))), Coding.code_id.in_(code_ids)
        ),
    ]
    if by != "document":
        queries.append(
            select(Coding.code_id, func.count())
            .join(Submission, Submission.id == Coding.submission_id)
            .where(
                Submission.review_id == review.id,
                Submission.project_id.in_(select(units.c.id)),
                Coding.code_id.in_(code_ids),
            )
        )
    counts: dict[int, int] = defaultdict(int)
    for query in queries:
        if coders:
            query = query.where(Coding.coder.in_(list(coders)))
        for code_id, n in session.execute(query.group_by(Coding.code_id)).all():
            counts[code_id] += n
    return counts


def _co_occurrence(pairs: dict[str, set[int]], names: dict[int, str]) -> list[tuple[str, str, int]]:
    """How many units carry both codes, from the distinct (code, unit) pairs the database returned."""
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for codes in pairs.values():
        ordered = sorted(codes)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                counts[(a, b)] += 1
    found = [(names[a], names[b], n) for (a, b), n in counts.items() if a in names and b in names]
    return sorted(found, key=lambda x: (-x[2], x[0], x[1]))


def pick_codebook(session: Session, name: str | None) -> Codebook:
    """The codebook named, or the only one there is."""
    if name:
        return get_codebook(session, name)
    books = list(session.scalars(select(Codebook).order_by(Codebook.name)))
    if len(books) != 1:
        names = ", ".join(b.name for b in books) or "none yet"
        raise LmreviewError(f"name the codebook with --codebook (codebooks: {names})")
    return books[0]


def _rule(by: str, coders: Sequence[str] | None) -> str:
    who = f"codings by {', '.join(coders)}" if coders else "codings by any coder"
    unit = (
        "document about a project of the review"
        if by == "document"
        else ("project of the review with a submitted questionnaire or a document in the library")
    )
    return f"a unit has a code when one of the {who} lies in its material; denominator: each {unit}"


def matrix_xlsx(session: Session, result: Matrix) -> bytes:
    """The matrix as a workbook: a sheet of counts with their denominators, and a sheet listing the segments behind
    each cell (the matrix must have been made with ``segment_ids``)."""

    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from lmreview.coding.segments import segment_lines

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "matrix"
    sheet.append([f"Review {result.review}, codebook {result.codebook}, by {result.by}"])
    sheet.append([result.rule])
    sheet.append(
        [
            "code",
            result.by + "s with the code" if result.by != "document" else "documents with the code",
            "of",
            "share (%)",
            "codings",
            *(f"{label} (n={n})" for _, label, n in result.columns),
        ]
    )
    for figure in result.codes:
        sheet.append(
            [
                figure.code,
                figure.units,
                figure.of,
                float(figure.pct) if figure.pct is not None else None,
                figure.segments,
                *(c.units if result.by != "document" else c.count for c in figure.cells),
            ]
        )
    rows = segment_lines(session, get_codebook(session, result.codebook))
    segments = workbook.create_sheet("segments")
    segments.append(["code", result.by, "source", "start", "end", "coder", "text", "memo"])
    for figure in result.codes:
        for cell in figure.cells:
            for coding_id in cell.segments:
                row = rows.get(coding_id)
                if row is None:
                    continue
                segments.append(
                    [
                        figure.code,
                        cell.key,
                        row.source,
                        row.start,
                        row.end,
                        row.coder,
                        ILLEGAL_CHARACTERS_RE.sub("", row.text),
                        ILLEGAL_CHARACTERS_RE.sub("", row.memo or ""),
                    ]
                )
    return workbook_bytes(workbook)
