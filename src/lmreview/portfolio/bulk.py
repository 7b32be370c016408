"""Bulk reading and writing for imports of tabular files (CSV, XLSX), which give no budgets, results or tags.

Change detection reads the stored projects as plain rows (one query for the projects with their region and
category names, one for their countries) and builds the same snapshots as :func:`snapshot.of_project`, without an
ORM object per project. New projects, their countries and their audit events are written with Core inserts in
batches, checked first by the same guard as every ORM flush (:func:`store.base.check_value`). Changed projects still
go through the ORM, one by one, as before; the import stays one transaction either way.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from lmreview.portfolio import snapshot
from lmreview.portfolio.models import Category, Project, ProjectCountry, Region
from lmreview.portfolio.schemas import ProjectRecord
from lmreview.portfolio.snapshot import SCALARS, Snapshot
from lmreview.store.base import BIGINT_MAX, INT_MAX, Scaled, check_value
from lmreview.store.models import AuditEvent
from lmreview.text import _CONTROL, _LINE_BREAK, ONE_LINE_COLUMNS

BATCH = 1000  # rows per INSERT statement (SQLite binds at most 32,766 parameters per statement)


@dataclass(slots=True)
class Known:
    """A stored project as change detection needs it first: a row whose hash is ``import_hash`` is unchanged."""

    id: int
    code: str
    import_hash: str | None


def known_projects(session: Session, portfolio_id: int) -> dict[str, Known]:
    """The projects of a portfolio by case-folded code, with the hash of the row that last set each (one query)."""
    rows = session.execute(
        select(Project.id, Project.code, Project.import_hash).where(Project.portfolio_id == portfolio_id)
    )
    return {code.casefold(): Known(project_id, code, digest) for project_id, code, digest in rows}


def snapshots(session: Session, ids: Sequence[int]) -> dict[int, Snapshot]:
    """The snapshots :func:`snapshot.of_project` gives for the projects ``ids`` (without budgets, results and tags,
    which a tabular file never provides), read as plain rows: one query for the projects with their region and
    category names, one for their countries, per :data:`BATCH` ids."""
    found: dict[int, Snapshot] = {}
    for chunk in _chunks(ids):
        countries: dict[int, list[Snapshot]] = defaultdict(list)
        rows = session.execute(
            select(ProjectCountry.project_id, ProjectCountry.name, ProjectCountry.iso3, ProjectCountry.percentage)
            .where(ProjectCountry.project_id.in_(chunk))
            .order_by(ProjectCountry.project_id, ProjectCountry.position, ProjectCountry.id)
        )
        for project_id, name, iso3, percentage in rows:
            countries[project_id].append({"name": name, "iso3": iso3, "percentage": snapshot.plain(percentage, 4)})
        columns = [getattr(Project, name) for name in SCALARS]
        for row in session.execute(
            select(Project.id, Project.code, Project.extra, Region.name, Category.name, *columns)
            .outerjoin(Region, Project.region_id == Region.id)
            .outerjoin(Category, Project.category_id == Category.id)
            .where(Project.id.in_(chunk))
        ):
            project_id, code, extra, region, category, *values = row
            snap: Snapshot = {"code": code}
            for name, value in zip(SCALARS, values, strict=True):
                snap[name] = snapshot.plain(value)
            snap["region"] = region
            snap["category"] = category
            snap["countries"] = countries.pop(project_id, [])
            snap["extra"] = dict(extra or {})
            found[project_id] = snap
    return found


def keep_hashes(session: Session, hashes: list[tuple[int, str]]) -> None:
    """Store the row hashes of projects found unchanged field by field (not a change of the project: no event, and
    ``updated_at`` stays)."""
    if not hashes:
        return
    table: Table = Project.__table__  # type: ignore[assignment]
    statement = (
        update(table)
        .where(table.c.id == bindparam("project_id"))
        .values(import_hash=bindparam("digest"), updated_at=table.c.updated_at)
    )
    for chunk in _chunks(hashes):
        session.execute(statement, [{"project_id": pid, "digest": digest} for pid, digest in chunk])


@dataclass(slots=True)
class NewProject:
    """A project to create: its row (without ids), its countries and the snapshot its audit event keeps."""

    record: ProjectRecord
    row: dict[str, Any]
    countries: list[Any]  # CountryRecord; empty when the file has no countries column
    region: Region | None
    category: Category | None
    after: Snapshot


def new_project(
    record: ProjectRecord,
    target: Snapshot,
    region: Region | None,
    category: Category | None,
    row_hash: str | None = None,
) -> NewProject:
    """What the ORM path would store and snapshot for a created project (see importing._Writer._apply)."""
    row: dict[str, Any] = {"code": record.code, "import_hash": row_hash}
    after: Snapshot = {"code": record.code}
    for name in SCALARS:  # the target holds the snapshot values of the fields the file provides
        if name in target:
            row[name] = getattr(record, name)
            after[name] = target[name]
        else:
            row[name] = after[name] = None
    if row["currency"] is None:
        row["currency"] = "USD"  # the column's default, and what an import sets for an empty currency
        if "currency" in target:
            after["currency"] = "USD"
    row["extra"] = target["extra"]
    after["region"] = region.name if region is not None else None
    after["category"] = category.name if category is not None else None
    after["countries"] = target.get("countries", [])
    after["extra"] = dict(target["extra"])
    after["budgets"], after["results"], after["tags"] = [], [], []
    countries = list(record.countries) if "countries" in target else []
    return NewProject(record, row, countries, region, category, after)


def _chunks(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    size = BATCH
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _guarded(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """The checks of :func:`store.base.check_value` for every value of ``rows``, column by column: the text of a
    column is searched once (joined by spaces), and only a column with a finding is checked value by value, so the
    error is exactly the one an ORM flush would raise."""
    if not rows:
        return
    for key in rows[0]:
        column = table.c[key]
        values = [row[key] for row in rows if row[key] is not None]
        if not _fine(column, values):
            for value in values:
                check_value(table.name, column, value)


def _fine(column: Any, values: list[Any]) -> bool:
    kind = column.type
    if isinstance(kind, Scaled):
        limit, places = kind.limit, -kind.scale
        return all(
            isinstance(v, Decimal) and v.is_finite() and v.as_tuple().exponent >= places and abs(v) <= limit  # type: ignore[operator]
            for v in values
        )
    if isinstance(kind, Integer):
        top = BIGINT_MAX if isinstance(kind, BigInteger) else INT_MAX
        return all(isinstance(v, int) and -top - 1 <= v <= top for v in values)
    if isinstance(kind, String) and not isinstance(kind, JSON) and all(isinstance(v, str) for v in values):
        length = getattr(kind, "length", None)
        if length is not None and any(len(v) > length for v in values):
            return False
        text = " ".join(values)
        if _CONTROL.search(text):
            return False
        return column.name not in ONE_LINE_COLUMNS or not _LINE_BREAK.search(text)
    return not isinstance(kind, String | JSON)  # JSON value by value; dates and the rest have nothing to check


def insert_projects(
    session: Session,
    portfolio_id: int,
    created: list[NewProject],
    *,
    actor: str,
    user_id: int | None,
    batch_id: int,
    summary: str,
) -> None:
    """Insert the new projects, their countries and one audit event each, in batches."""
    if not created:
        return
    session.flush()  # regions, categories and countries the new projects refer to get their ids
    project_table: Table = Project.__table__  # type: ignore[assignment]
    country_table: Table = ProjectCountry.__table__  # type: ignore[assignment]
    audit_table: Table = AuditEvent.__table__  # type: ignore[assignment]
    for chunk in _chunks(created):
        rows = [
            {
                **p.row,
                "portfolio_id": portfolio_id,
                "region_id": p.region.id if p.region is not None else None,
                "category_id": p.category.id if p.category is not None else None,
            }
            for p in chunk
        ]
        _guarded(project_table, rows)
        # A plain executemany, then the ids by code (unique in a portfolio): RETURNING in parameter order makes
        # SQLite insert row by row.
        _insert(session, project_table, rows)
        by_code = dict(
            session.execute(
                select(project_table.c.code, project_table.c.id).where(
                    project_table.c.portfolio_id == portfolio_id, project_table.c.code.in_([r["code"] for r in rows])
                )
            ).all()
        )
        ids = [by_code[r["code"]] for r in rows]
        countries = [
            {"project_id": pid, "position": i, "name": c.name, "iso3": c.iso3, "percentage": c.percentage}
            for pid, p in zip(ids, chunk, strict=True)
            for i, c in enumerate(p.countries)
        ]
        _guarded(country_table, countries)
        if countries:
            _insert(session, country_table, countries)
        events = [
            {
                "actor": actor,
                "user_id": user_id,
                "action": "create",
                "entity": "project",
                "entity_id": pid,
                "before": None,
                "after": p.after,
                "summary": summary,
                "import_batch_id": batch_id,
            }
            for pid, p in zip(ids, chunk, strict=True)
        ]
        # The snapshots repeat the values of the rows checked above; the other fields are the same in every event.
        _guarded(audit_table, [{k: v for k, v in events[0].items() if k != "after"}])
        _insert(session, audit_table, events)


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` of ``rows`` (all with the same keys, checked by :func:`_guarded`) as one executemany of the
    driver, each value converted by its column's own bind processor: what ``session.execute(insert(table), rows)``
    does, without SQLAlchemy's per-row bookkeeping. The values of a :class:`Scaled` column were checked already and
    are only scaled; the Python-side defaults of the columns left out (times, empty summaries) are computed once
    for all the rows, as one import writes them in the same moment."""
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    constants: dict[str, Any] = {}
    for column in table.c:
        default = column.default
        if column.key in rows[0] or column.primary_key or default is None or not hasattr(default, "arg"):
            continue
        constants[column.key] = default.arg(None) if default.is_callable else default.arg
    compiled = insert(table).compile(dialect=dialect, column_keys=[*keys, *constants])
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
    if set(names) != set(keys) | set(constants):  # not the plain statement expected: let SQLAlchemy do it
        session.execute(insert(table), rows)
        return
    converters: dict[str, Any] = {}
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, Scaled):
            converters[name] = _scaler(kind.scale)
        else:
            converters[name] = kind._cached_bind_processor(dialect)  # SQLAlchemy caches it per dialect
    for name, value in constants.items():
        convert = converters[name]
        constants[name] = convert(value) if convert is not None else value
    columns: list[Any] = []  # column by column: one list comprehension each
    for name in names:
        if name in constants:
            columns.append(itertools.repeat(constants[name], len(rows)))
            continue
        convert = converters[name]
        values = [row[name] for row in rows]
        columns.append([convert(v) for v in values] if convert is not None else values)
    tuples = list(zip(*columns, strict=False))  # repeat() is endless: the rows' lists set the length
    params = tuples if compiled.positional else [dict(zip(names, t, strict=True)) for t in tuples]
    connection.exec_driver_sql(compiled.string, params)


def _scaler(scale: int) -> Any:
    def scaled(value: Decimal | None) -> int | None:
        return None if value is None else int(value.scaleb(scale))

    return scaled
