"""Bulk reading and writing for imports of tabular files (CSV, XLSX), which give no budgets, results or tags.

Change detection reads the stored projects as plain rows (one query for the projects with their region and
category names, one for their countries) and builds the same snapshots as :func:`snapshot.of_project`, without an
ORM object per project. New projects, their countries and their audit events are written with Core inserts in
batches, checked first by the same guard as every ORM flush (:func:`store.base.check_value`). Changed projects still
go through the ORM, one by one, as before; the import stays one transaction either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Table, bindparam, select, update
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


PROJECT_KEYS = ("code", "import_hash", *SCALARS, "extra")  # the values of a :class:`Prepared` project, in order
COUNTRY_KEYS = ("position", "name", "iso3", "percentage")


@dataclass(slots=True)
class Prepared:
    """A project to create, its values already converted for the database driver: what :func:`insert_projects`
    writes. The region and category are objects, whose ids are known once the session is flushed."""

    code: str
    values: tuple[Any, ...]  # PROJECT_KEYS
    region: Region | None
    category: Category | None
    countries: list[tuple[Any, ...]]  # COUNTRY_KEYS
    after: Any  # the audit event's snapshot


class Binder:
    """The conversions of one database's driver (the columns' own bind processors, taken once), for the values of
    new projects, their countries and their audit snapshots."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        project: Table = Project.__table__  # type: ignore[assignment]
        country: Table = ProjectCountry.__table__  # type: ignore[assignment]
        audit: Table = AuditEvent.__table__  # type: ignore[assignment]
        self.project = {key: converter(project.c[key], dialect) for key in PROJECT_KEYS}
        self.country = {key: converter(country.c[key], dialect) for key in COUNTRY_KEYS}
        self.after = converter(audit.c.after, dialect)
        self.json_text = _json_text(self.after)

    def value(self, key: str, value: Any) -> Any:
        """``value`` of the project column ``key`` as the driver takes it."""
        convert = self.project[key]
        return value if convert is None else convert(value)

    def prepare(self, new: NewProject) -> Prepared:
        """A project made by :func:`new_project`, checked as an ORM flush checks it and converted."""
        project_table: Table = Project.__table__  # type: ignore[assignment]
        country_table: Table = ProjectCountry.__table__  # type: ignore[assignment]
        _guarded(project_table, [new.row])
        countries = [
            {"position": i, "name": c.name, "iso3": c.iso3, "percentage": c.percentage}
            for i, c in enumerate(new.countries)
        ]
        _guarded(country_table, countries)
        convert = self.country
        return Prepared(
            code=new.record.code,
            values=tuple(self.value(key, new.row[key]) for key in PROJECT_KEYS),
            region=new.region,
            category=new.category,
            countries=[
                tuple(c[key] if convert[key] is None else convert[key](c[key]) for key in COUNTRY_KEYS)
                for c in countries
            ],
            after=self.after(new.after) if self.after is not None else new.after,
        )


def converter(column: Any, dialect: Any) -> Any:
    """The function that converts a value of ``column`` for the driver (None: as it is). A :class:`Scaled` value,
    checked before, is only scaled."""
    kind = column.type
    if isinstance(kind, Scaled):
        return _scaler(kind.scale)
    return kind._cached_bind_processor(dialect)  # SQLAlchemy caches it per dialect


def _json_text(convert: Any) -> Any:
    """How a JSON document already written as text (by ``json.dumps`` rules) reaches the driver, or None when this
    driver's conversion is not known: SQLite takes the text itself, psycopg a ``Json`` whose dumping is the text."""
    if convert is None:
        return None
    probe = convert({"a": 1})
    if isinstance(probe, str):
        return _same if probe == '{"a": 1}' else None
    kind = type(probe)
    if kind.__module__.startswith("psycopg.") and kind.__name__ == "Json":
        return lambda text: kind(text, dumps=_same)
    return None


def _same(value: Any) -> Any:
    return value


def insert_projects(
    session: Session,
    portfolio_id: int,
    created: Sequence[Prepared],
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
    connection = session.connection()
    dialect = connection.dialect
    project_table: Table = Project.__table__  # type: ignore[assignment]
    country_table: Table = ProjectCountry.__table__  # type: ignore[assignment]
    audit_table: Table = AuditEvent.__table__  # type: ignore[assignment]
    event: dict[str, Any] = {
        "actor": actor,
        "user_id": user_id,
        "action": "create",
        "entity": "project",
        "before": None,
        "summary": summary,
        "import_batch_id": batch_id,
    }
    _guarded(audit_table, [event])  # the same in every event; the snapshots repeat the values checked before
    constant = tuple(_convert(audit_table, key, value, dialect) for key, value in event.items())
    sqlite = dialect.name == "sqlite"
    project_keys = ("portfolio_id", "region_id", "category_id", *PROJECT_KEYS)
    insert_project = _Insert(connection, project_table, ("id", *project_keys) if sqlite else project_keys)
    insert_country = _Insert(connection, country_table, ("project_id", *COUNTRY_KEYS))
    insert_event = _Insert(connection, audit_table, (*event, "entity_id", "after"))
    ids_of: dict[Any, Any] = {None: None}  # region and category objects -> their ids
    for chunk in _chunks(created):
        for p in chunk:
            if p.region not in ids_of:
                ids_of[p.region] = p.region.id
            if p.category not in ids_of:
                ids_of[p.category] = p.category.id
        if sqlite:
            # The ids SQLite would give (the largest + 1, one after the other; the table is not AUTOINCREMENT),
            # given explicitly: the import's transaction holds the database's write lock since its batch was
            # written, so no other connection inserts in between.
            start = (connection.exec_driver_sql("SELECT max(id) FROM project").scalar() or 0) + 1
            ids: Sequence[int] = range(start, start + len(chunk))
            late = insert_project.late
            insert_project(
                [
                    (pid, portfolio_id, ids_of[p.region], ids_of[p.category], *p.values, *late)
                    for pid, p in zip(ids, chunk, strict=True)
                ]
            )
        else:
            # A plain executemany, then the ids by code (unique in a portfolio): RETURNING in parameter order
            # makes the driver insert row by row.
            late = insert_project.late
            insert_project([(portfolio_id, ids_of[p.region], ids_of[p.category], *p.values, *late) for p in chunk])
            by_code = dict(
                session.execute(
                    select(project_table.c.code, project_table.c.id).where(
                        project_table.c.portfolio_id == portfolio_id,
                        project_table.c.code.in_([p.code for p in chunk]),
                    )
                ).all()
            )
            ids = [by_code[p.code] for p in chunk]
        late = insert_country.late
        countries = [(pid, *c, *late) for pid, p in zip(ids, chunk, strict=True) for c in p.countries]
        if countries:
            insert_country(countries)
        late = insert_event.late
        insert_event([(*constant, pid, p.after, *late) for pid, p in zip(ids, chunk, strict=True)])


def _convert(table: Table, key: str, value: Any, dialect: Any) -> Any:
    convert = converter(table.c[key], dialect)
    return value if convert is None else convert(value)


class _Insert:
    """``INSERT`` of rows (values of ``keys``, converted for the driver and checked, followed by :attr:`late`) as
    one executemany of the driver: what ``session.execute(insert(table), rows)`` does, without SQLAlchemy's per-row
    bookkeeping. :attr:`late` holds the Python-side defaults of the columns left out (times, empty summaries),
    computed once, when the statement is made: one import writes them in the same moment."""

    def __init__(self, connection: Any, table: Table, keys: Sequence[str]) -> None:
        self.connection = connection
        dialect = connection.dialect
        constants: dict[str, Any] = {}
        for column in table.c:
            default = column.default
            if column.key in keys or column.primary_key or default is None or not hasattr(default, "arg"):
                continue
            value = default.arg(None) if default.is_callable else default.arg
            constants[column.key] = _convert(table, column.key, value, dialect)
        self.late = tuple(constants.values())
        self.names = [*keys, *constants]
        quote = dialect.identifier_preparer.quote
        style = dialect.paramstyle
        self.named = style in ("named", "pyformat")
        marks = {
            "qmark": ["?"] * len(self.names),
            "format": ["%s"] * len(self.names),
            "numeric": [f":{i}" for i in range(1, len(self.names) + 1)],
            "named": [f":{name}" for name in self.names],
            "pyformat": [f"%({name})s" for name in self.names],
        }[style]
        columns = ", ".join(quote(table.c[name].name) for name in self.names)
        table_name = dialect.identifier_preparer.format_table(table)
        self.sql = f"INSERT INTO {table_name} ({columns}) VALUES ({', '.join(marks)})"

    def __call__(self, rows: list[tuple[Any, ...]]) -> None:
        params: list[Any] = rows
        if self.named:
            names = self.names
            params = [dict(zip(names, p, strict=True)) for p in params]
        self.connection.exec_driver_sql(self.sql, params)


def _scaler(scale: int) -> Any:
    def scaled(value: Decimal | None) -> int | None:
        return None if value is None else int(value.scaleb(scale))

    return scaled
