"""Importing a portfolio file (CSV, XLSX or IATI activity XML) into the register.

An import is one transaction. Every problem of the file is collected first; if there is any error, nothing is
written and :class:`~lmreview.errors.BadInput` lists them all. Otherwise projects are created or updated by code
(case-insensitively), each change is written to the audit log, and the import itself is recorded as a batch.

A re-import updates only the fields the file has columns for: an empty cell clears the field, a missing column
leaves it as it is (so an IATI file does not erase the categories a reviewer assigned). Projects that are not in
the file are kept and listed in the report.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, SessionTransaction, selectinload

from lmreview.errors import BadInput, Problem
from lmreview.files import read_input
from lmreview.portfolio import bulk, snapshot
from lmreview.portfolio import countries as country_codes
from lmreview.portfolio.iati import parse_iati
from lmreview.portfolio.models import (
    Budget,
    Category,
    Country,
    ImportBatch,
    Indicator,
    IndicatorPeriod,
    Portfolio,
    Project,
    ProjectCountry,
    ProjectTag,
    Region,
    Result,
    Tag,
)
from lmreview.portfolio.newrows import NewRows
from lmreview.portfolio.schemas import ProjectRecord, ResultRecord
from lmreview.portfolio.snapshot import Snapshot
from lmreview.portfolio.tabular import TableReader, parse_table
from lmreview.store import audit
from lmreview.tables import TableStream, read_table, sniff_format, stream_table

PORTFOLIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
IATI_FIELDS = {
    "title",
    "objective",
    "start_date",
    "end_date",
    "planned_start",
    "planned_end",
    "planned_months",
    "nce_months",
    "status",
    "budget_usd",
    "currency",
    "countries",
    "iati_identifier",
    "budgets",
    "results",
    "tags",
}

CHILDREN = {"budgets", "results", "tags"}  # fields only IATI files provide
BULK = True  # tabular files in bulk (tests set False to compare with the ORM path)

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(slots=True)
class ProjectChange:
    code: str
    changes: list[FieldChange]


@dataclass(slots=True)
class ImportReport:
    portfolio: str
    filename: str
    file_format: str
    created: list[str] = field(default_factory=list)
    updated: list[ProjectChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    batch_id: int | None = None
    dry_run: bool = False


def check_portfolio_name(name: str) -> str:
    if not PORTFOLIO_NAME.match(name):
        raise BadInput(
            [
                Problem(
                    name,
                    0,
                    "-",
                    f'"{name}" cannot name a portfolio: use letters, digits, "_", "-" or "." '
                    "(at most 80, starting with a letter or digit); pass --portfolio NAME",
                )
            ]
        )
    return name


def portfolio_name_for(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "portfolio"


def import_file(
    session: Session,
    path: Path,
    *,
    portfolio: str | None = None,
    actor: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` into ``portfolio`` (default: the file's name without extension).

    >>> import_file(session, Path("lm2016.csv"), actor="cli:ana")  # doctest: +SKIP
    """
    data = read_input(path)
    return import_data(
        session,
        data,
        filename=str(path),
        portfolio=portfolio or portfolio_name_for(path),
        actor=actor,
        dry_run=dry_run,
        progress=progress,
    )


def parse_file(data: bytes, filename: str) -> tuple[str, list[ProjectRecord], list[Problem], set[str]]:
    """Format, records, problems and the fields the file provides; raises BadInput for file-level errors."""
    kind = sniff_format(data, filename)
    if kind == "xml":
        records, problems = parse_iati(data, filename)
        # No "region": an activity gives one only when it names a single recipient region, so the region is
        # set per activity (see import_data) and one activity's region never erases another's.
        provided = set(IATI_FIELDS)
        provided |= {f"extra:{k}" for r in records for k in r.extra}
        provided |= {"extra:duration_flag", "extra:budget_not_provided"}  # a flag the file no longer gives is cleared
        return "iati", records, problems, provided
    table = read_table(data, filename)
    records, problems, provided = parse_table(table)
    return table.file_format, records, problems, provided


def import_data(
    session: Session,
    data: bytes,
    *,
    filename: str,
    portfolio: str,
    actor: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    check_portfolio_name(portfolio)
    if BULK and sniff_format(data, filename) != "xml":
        with _gc_paused():
            return _import_table(
                session, data, filename=filename, portfolio=portfolio, actor=actor, dry_run=dry_run, progress=progress
            )
    file_format, records, problems, provided = parse_file(data, filename)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BadInput(problems)
    if not records:
        raise BadInput([Problem(filename, 0, "-", "the file holds no projects")])

    report = ImportReport(
        portfolio=portfolio,
        filename=filename,
        file_format=file_format,
        warnings=[p for p in problems if p.severity == "warning"],
        dry_run=dry_run,
    )
    savepoint = session.begin_nested()
    # A tabular file provides no budgets, results or tags: its projects are compared as plain rows and the new ones
    # inserted in bulk. An IATI file (with results frameworks) goes through the ORM, project by project.
    writer = _Writer(session, portfolio, actor, in_bulk=BULK and not provided & CHILDREN)
    batch = ImportBatch(
        portfolio_id=writer.portfolio.id,
        filename=Path(filename).name,
        sha256=hashlib.sha256(data).hexdigest(),
        file_format=file_format,
        actor=actor,
        warnings=[str(w) for w in report.warnings],
    )
    session.add(batch)
    session.flush()
    seen: set[str] = set()
    for done, record in enumerate(records, start=1):
        seen.add(record.code.casefold())
        fields = provided | {"region"} if file_format == "iati" and record.region else provided
        writer.write(record, fields, batch.id, report)
        if progress is not None:
            progress(done, len(records))
    writer.write_audit(batch.id, report)
    report.not_in_file = sorted(code for k, code in writer.codes.items() if k not in seen)
    batch.created, batch.updated, batch.unchanged = (
        len(report.created),
        len(report.updated),
        len(report.unchanged),
    )
    session.flush()
    report.batch_id = batch.id
    if dry_run:
        savepoint.rollback()
        report.batch_id = None
    else:
        savepoint.commit()
    return report


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file is imported: the import allocates many small objects and frees
    them in batches, none in cycles, and each collection would walk them all again (the import is bounded by
    MAX_ROWS; reference counting still frees what each batch leaves)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_table(
    session: Session,
    data: bytes,
    *,
    filename: str,
    portfolio: str,
    actor: str,
    dry_run: bool,
    progress: Progress | None,
) -> ImportReport:
    """A CSV or XLSX file, row by row: each row is read, checked and written in bulk as it comes (batches of
    :data:`bulk.BATCH`), inside a savepoint that a problem anywhere in the file rolls back, so the import stays
    all or nothing. A row whose hash is the one its stored project keeps (the same cells under the same header, the
    project unchanged since) is unchanged without being read further; the others are compared field by field."""
    table = stream_table(data, filename)
    reader = TableReader(table)
    if reader.problems:
        raise BadInput(reader.problems)
    report = ImportReport(portfolio=portfolio, filename=filename, file_format=table.file_format, dry_run=dry_run)
    savepoint = session.begin_nested()
    try:
        return _write_table(session, data, table, reader, report, savepoint, actor=actor, progress=progress)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise


def _write_table(
    session: Session,
    data: bytes,
    table: TableStream,
    reader: TableReader,
    report: ImportReport,
    savepoint: SessionTransaction,
    *,
    actor: str,
    progress: Progress | None,
) -> ImportReport:
    writer = _Writer(session, report.portfolio, actor, in_bulk=True)
    batch = ImportBatch(
        portfolio_id=writer.portfolio.id,
        filename=Path(report.filename).name,
        sha256=hashlib.sha256(data).hexdigest(),
        file_format=table.file_format,
        actor=actor,
        warnings=[],
    )
    session.add(batch)
    session.flush()
    new_rows = writer.new_rows(reader)
    problems: list[Problem] = []
    failed = False  # after the first error, rows are still read (every problem is listed) but no longer written
    total = data.count(b"\n")  # about the number of rows, for the progress bar (a cell may hold line breaks)
    done = 0
    for done, (number, cells) in enumerate(table.rows, start=1):
        digest = reader.row_hash(cells)
        key = reader.code(cells).casefold()
        known = writer.known.get(key)
        if known is not None and known.import_hash == digest:
            duplicate = reader.duplicate(number, cells)
            if duplicate is not None:
                problems.append(duplicate)
                failed = True
                continue
            problems.extend(reader.warnings(number, cells))
            writer.unchanged(known, report)
        else:
            prepared = None
            if new_rows.usable and known is None and not failed and not table.problems:
                prepared = writer.new_row(new_rows, key, number, cells, digest, batch.id, report)
            if prepared is None:
                record, found = reader.row(number, cells)
                problems.extend(found)
                failed = failed or any(p.severity == "error" for p in found)
                if record is not None and not failed and not table.problems:
                    writer.write(record, reader.provided, batch.id, report, row_hash=digest)
        if progress is not None:
            progress(done, max(done, total))
    if table.problems:  # the file as a whole is refused (read_table's problems), as before reading any row
        raise BadInput(table.problems)
    if done == 0:
        raise BadInput([reader.no_rows()])
    if failed:
        raise BadInput(problems)
    writer.write_audit(batch.id, report)
    writer.in_file_order(report)
    report.warnings = problems  # no error: every problem left is a warning
    report.not_in_file = sorted(code for k, code in writer.codes.items() if k not in writer.seen)
    batch.warnings = [str(w) for w in report.warnings]
    batch.created, batch.updated, batch.unchanged = (
        len(report.created),
        len(report.updated),
        len(report.unchanged),
    )
    session.flush()
    report.batch_id = batch.id
    if report.dry_run:
        savepoint.rollback()
        report.batch_id = None
    else:
        savepoint.commit()
    return report


class _Writer:
    """Creates and updates the projects of one portfolio, with lookup caches for one import."""

    def __init__(self, session: Session, portfolio: str, actor: str, *, in_bulk: bool = False) -> None:
        self.session = session
        self.actor = actor
        self.in_bulk = in_bulk
        self.user_id = audit.actor_user_id(session, actor)
        found = session.scalar(select(Portfolio).where(Portfolio.name == portfolio))
        if found is None:
            found = Portfolio(name=portfolio, title=portfolio)
            session.add(found)
            session.flush()
        self.portfolio = found
        self.known: dict[str, bulk.Known] = {}
        self.existing: dict[str, Project] = {}
        if in_bulk:  # plain rows; an ORM object only for a project that changes
            self.known = bulk.known_projects(session, found.id)
        else:
            self.existing = {
                p.code.casefold(): p
                for p in session.scalars(self._with_children().where(Project.portfolio_id == found.id))
            }
        self.codes = {k: p.code for k, p in self.existing.items()} | {k: p.code for k, p in self.known.items()}
        self.regions = {r.name.casefold(): r for r in session.scalars(select(Region))}
        self.categories = {
            c.name.casefold(): c for c in session.scalars(select(Category).where(Category.portfolio_id == found.id))
        }
        self.countries = set(session.scalars(select(Country.iso3)))
        self.tags = {(t.scheme, t.code): t for t in session.scalars(select(Tag))}
        self.pending: list[tuple[Project, str, Snapshot | None, Snapshot, str]] = []
        self.binder = bulk.Binder(session.get_bind().dialect)
        self.created: list[bulk.Prepared] = []
        self.seen: set[str] = set()  # the case-folded codes of the file
        self.order: dict[str, int] = {}  # each code's place in the file, for the report's lists
        self.compared: list[tuple[bulk.Known, ProjectRecord, set[str], str]] = []  # compared field by field in batch
        self.hashes: list[tuple[int, str]] = []  # hashes of projects found unchanged field by field

    @staticmethod
    def _with_children() -> Select[Project]:
        return select(Project).options(
            selectinload(Project.budgets),
            selectinload(Project.tags),
            selectinload(Project.results).selectinload(Result.indicators).selectinload(Indicator.periods),
        )

    def unchanged(self, known: bulk.Known, report: ImportReport) -> None:
        """A row whose hash is its project's: nothing to compare or write."""
        key = known.code.casefold()
        self.seen.add(key)
        self.order[key] = len(self.order)
        report.unchanged.append(known.code)

    def write(
        self,
        record: ProjectRecord,
        provided: set[str],
        batch_id: int,
        report: ImportReport,
        *,
        row_hash: str | None = None,
    ) -> None:
        key = record.code.casefold()
        self.seen.add(key)
        self.order.setdefault(key, len(self.order))
        known = self.known.get(key)
        if known is not None:  # in bulk: compared with the stored row in a batch; loaded only if it changes
            self.compared.append((known, record, provided, row_hash or ""))
            if len(self.compared) >= bulk.BATCH:
                self._compare(batch_id, report)
            return
        if self.in_bulk and key not in self.existing:  # a new project, inserted with the others at the end
            target = snapshot.of_record(record, provided, {})
            self._canonical(target, None)
            if "countries" in target:
                self._ensure_countries([c.iso3 for c in record.countries if c.iso3])
            region = self._region(record.region) if "region" in target else None
            category = self._category(record.category) if "category" in target else None
            self.created.append(self.binder.prepare(bulk.new_project(record, target, region, category, row_hash)))
            report.created.append(record.code)
            self.codes[key] = record.code
            if len(self.created) >= bulk.BATCH:  # written as they come: memory stays bounded by the batch
                self._insert_created(batch_id, report.filename)
            return
        self._write_orm(record, provided, report, row_hash)

    def new_rows(self, reader: TableReader) -> NewRows:
        """The reader of new projects' rows for this import, resolving regions, categories and countries here."""
        return NewRows(
            reader, self.binder, region=self._region, category=self._category, countries=self._ensure_countries
        )

    def new_row(
        self,
        rows: NewRows,
        key: str,
        number: int,
        cells: list[str],
        digest: str,
        batch_id: int,
        report: ImportReport,
    ) -> bulk.Prepared | None:
        """The row of a new project (code ``key``, case-folded) taken by :class:`NewRows` (None: a row for the
        general path, which also reports a code already seen)."""
        if key in self.seen or key in self.existing:
            return None
        prepared = rows.take(number, cells, digest)
        if prepared is None:
            return None
        rows.reader.remember(key, number)  # for the rows after: a code already seen
        self.seen.add(key)
        self.order[key] = len(self.order)
        self.created.append(prepared)
        report.created.append(prepared.code)
        self.codes[key] = prepared.code
        if len(self.created) >= bulk.BATCH:
            self._insert_created(batch_id, report.filename)
        return prepared

    def _compare(self, batch_id: int, report: ImportReport) -> None:
        """The queued rows of stored projects against their snapshots (read for the batch); the projects that
        change are loaded (one query) and updated through the ORM."""
        queued, self.compared = self.compared, []
        if not queued:
            return
        stored = bulk.snapshots(self.session, [known.id for known, *_ in queued])
        changed: list[tuple[bulk.Known, ProjectRecord, set[str], str]] = []
        for known, record, provided, digest in queued:
            before = stored[known.id]
            target = snapshot.of_record(record, provided, before["extra"])
            self._canonical(target, before)
            if any(before.get(k) != target[k] for k in target):
                changed.append((known, record, provided, digest))
            else:
                report.unchanged.append(known.code)
                if digest and digest != known.import_hash:
                    self.hashes.append((known.id, digest))
        if changed:
            ids = [known.id for known, *_ in changed]
            for project in self.session.scalars(self._with_children().where(Project.id.in_(ids))):
                self.existing[project.code.casefold()] = project
            for known, record, provided, digest in changed:
                del self.known[known.code.casefold()]
                self._write_orm(record, provided, report, digest or None)

    def in_file_order(self, report: ImportReport) -> None:
        """The report's lists in the order of the file's rows (rows compared in a batch are decided later)."""
        order = self.order
        report.unchanged.sort(key=lambda code: order.get(code.casefold(), 0))
        report.updated.sort(key=lambda change: order.get(change.code.casefold(), 0))

    def _write_orm(
        self, record: ProjectRecord, provided: set[str], report: ImportReport, row_hash: str | None = None
    ) -> None:
        """A project created or updated through the ORM, with its audit event queued."""
        key = record.code.casefold()
        project = self.existing.get(key)
        before = snapshot.of_project(project) if project is not None else None
        target = snapshot.of_record(record, provided, before["extra"] if before else {})
        self._canonical(target, before)
        changed = [k for k in target if before is None or before.get(k) != target[k]]
        if before is not None and not changed:
            report.unchanged.append(project.code if project else record.code)
            return
        if project is None:
            project = Project(
                portfolio_id=self.portfolio.id,
                code=record.code,
                extra={},
                countries=[],
                budgets=[],
                results=[],
                tags=[],
                revisions=[],
            )
            self.session.add(project)
            self.existing[record.code.casefold()] = project
        self._apply(project, record, target, changed)
        project.import_hash = row_hash  # None (cleared) unless a tabular row set it
        after = snapshot.of_project(project)
        if before is None:
            report.created.append(project.code)
            action, summary = "create", f"created by importing {Path(report.filename).name}"
        else:
            diff = [FieldChange(k, before.get(k), after.get(k)) for k in changed if k != "code"]
            report.updated.append(ProjectChange(project.code, diff))
            action = "update"
            summary = f"changed {', '.join(c.field for c in diff)} by importing {Path(report.filename).name}"
        self.pending.append((project, action, before, after, summary))

    def _canonical(self, target: Snapshot, before: Snapshot | None) -> None:
        """Codes, regions and categories match whatever their case: "lm.0181" updates LM.0181, and a region
        written "asia" is the stored "Asia", not a change."""
        if before is not None:
            target["code"] = before["code"]
        for name, known in (("region", self.regions), ("category", self.categories)):
            if target.get(name) and target[name].casefold() in known:
                target[name] = known[target[name].casefold()].name

    def _insert_created(self, batch_id: int, filename: str) -> None:
        bulk.insert_projects(
            self.session,
            self.portfolio.id,
            self.created,
            actor=self.actor,
            user_id=self.user_id,
            batch_id=batch_id,
            summary=f"created by importing {Path(filename).name}",
        )
        self.created.clear()

    def write_audit(self, batch_id: int, report: ImportReport) -> None:
        """One audit event per created or updated project, once their ids are known."""
        filename = report.filename
        self._compare(batch_id, report)
        bulk.keep_hashes(self.session, self.hashes)
        self.hashes.clear()
        self._insert_created(batch_id, filename)
        self.session.flush()
        for project, action, before, after, summary in self.pending:
            audit.record(
                self.session,
                actor=self.actor,
                user_id=self.user_id,
                action=action,
                entity="project",
                entity_id=project.id,
                before=before,
                after=after,
                summary=summary,
                import_batch_id=batch_id,
            )
        self.pending.clear()

    def _apply(self, project: Project, record: ProjectRecord, target: dict[str, Any], changed: list[str]) -> None:
        for name in changed:
            if name in snapshot.SCALARS:
                value = getattr(record, name)
                if name == "currency" and value is None:
                    value = "USD"
                setattr(project, name, value)
            elif name == "region":
                project.region = self._region(record.region)
            elif name == "category":
                project.category = self._category(record.category)
            elif name == "extra":
                project.extra = target["extra"]
            elif name == "countries":
                self._ensure_countries([c.iso3 for c in record.countries if c.iso3])
                project.countries = [
                    ProjectCountry(position=i, name=c.name, iso3=c.iso3, percentage=c.percentage)
                    for i, c in enumerate(record.countries)
                ]
            elif name == "budgets":
                project.budgets = [
                    Budget(
                        kind=b.kind,
                        status=b.status,
                        period_start=b.period_start,
                        period_end=b.period_end,
                        value=b.value,
                        currency=b.currency,
                        value_date=b.value_date,
                    )
                    for b in record.budgets
                ]
            elif name == "tags":
                project.tags = [
                    ProjectTag(
                        tag=self._tag(t.scheme, t.code, t.name),
                        percentage=t.percentage,
                        significance=t.significance,
                    )
                    for t in record.tags
                ]
            elif name == "results":
                project.results = []
                self.session.flush()  # results refer to the project by id
                project.results = [self._result(project.id, r, i) for i, r in enumerate(record.results)]

    def _result(self, project_id: int, record: ResultRecord, position: int) -> Result:
        return Result(
            project_id=project_id,
            position=position,
            level=record.level,
            title=record.title,
            description=record.description,
            indicators=[
                Indicator(
                    position=i,
                    title=ind.title,
                    description=ind.description,
                    measure=ind.measure,
                    ascending=ind.ascending,
                    baseline=ind.baseline,
                    baseline_year=ind.baseline_year,
                    periods=[
                        IndicatorPeriod(
                            period_start=p.period_start,
                            period_end=p.period_end,
                            target=p.target,
                            actual=p.actual,
                        )
                        for p in ind.periods
                    ],
                )
                for i, ind in enumerate(record.indicators)
            ],
            children=[self._result(project_id, c, i) for i, c in enumerate(record.children)],
        )

    def _region(self, name: str | None) -> Region | None:
        if not name:
            return None
        region = self.regions.get(name.casefold())
        if region is None:
            region = Region(name=name)
            self.session.add(region)
            self.regions[name.casefold()] = region
        return region

    def _category(self, name: str | None) -> Category | None:
        if not name:
            return None
        category = self.categories.get(name.casefold())
        if category is None:
            category = Category(portfolio_id=self.portfolio.id, name=name)
            self.session.add(category)
            self.categories[name.casefold()] = category
        return category

    def _tag(self, scheme: str, code: str, name: str | None) -> Tag:
        tag = self.tags.get((scheme, code))
        if tag is None:
            tag = Tag(scheme=scheme, code=code, name=name)
            self.session.add(tag)
            self.tags[(scheme, code)] = tag
        elif name and not tag.name:
            tag.name = name
        return tag

    def _ensure_countries(self, codes: list[str]) -> None:
        added = False
        for code in codes:
            if code in self.countries:
                continue
            country = country_codes.by_iso3(code)
            if country is not None:
                self.session.add(Country(iso3=country.iso3, iso2=country.iso2, name=country.name))
                self.countries.add(code)
                added = True
        if added:  # before any project_country row refers to it
            self.session.flush()
