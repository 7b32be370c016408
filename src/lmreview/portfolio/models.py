"""Tables of the portfolio register: portfolios, projects and what describes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lmreview.errors import NotFound
from lmreview.portfolio.dates import whole_months
from lmreview.store.base import Base, Scaled, Timestamped, utcnow


class Portfolio(Timestamped, Base):
    __tablename__ = "portfolio"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)

    projects: Mapped[list[Project]] = relationship(
        back_populates="portfolio", cascade="all, delete-orphan", passive_deletes=True
    )


class Region(Base):
    """A region as the review names it ("Asia and Oceania", "Americas and the Caribbean")."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Category(Base):
    """A thematic category a review assigns projects to; categories belong to a portfolio."""

    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("portfolio_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolio.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Words that suggest this category when found in a project's title or objective; suggestions only.
    keywords: Mapped[list[str] | None] = mapped_column(JSON)


class Country(Base):
    """ISO 3166-1 countries (plus XKX, Kosovo), filled on first use of a code."""

    __tablename__ = "country"

    iso3: Mapped[str] = mapped_column(String(3), primary_key=True)
    iso2: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(120))


class ImportBatch(Base):
    """One import of a file into a portfolio: what was read and what it changed."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolio.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(10))  # csv | xlsx | iati
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)


def duration_of(
    planned_months: Decimal | None, nce_months: Decimal | None, start: dt.date | None, end: dt.date | None
) -> Decimal | None:
    """A project's length incl. NCE (``Project.duration_months``) from its columns, for code that reads them as
    plain rows: planned + NCE months where both are given, else whole months between the dates."""
    if planned_months is not None and nce_months is not None:
        return planned_months + nce_months
    if start is not None and end is not None and start <= end:
        return Decimal(whole_months(start, end))
    return None


class Project(Timestamped, Base):
    __tablename__ = "project"
    __table_args__ = (
        UniqueConstraint("portfolio_id", "code"),
        CheckConstraint("budget_usd >= 0", name="budget_not_negative"),
        CheckConstraint("planned_months >= 0", name="planned_months_not_negative"),
        CheckConstraint("nce_months >= 0", name="nce_months_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolio.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(Text)
    funding_year: Mapped[int | None] = mapped_column(Integer)
    fund_line: Mapped[str | None] = mapped_column(String(40))
    budget_usd: Mapped[Decimal | None] = mapped_column(Scaled(2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"), index=True)
    objective: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    planned_months: Mapped[Decimal | None] = mapped_column(Scaled(2))
    nce_months: Mapped[Decimal | None] = mapped_column(Scaled(2))
    status: Mapped[str | None] = mapped_column(String(80))
    iati_identifier: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The hash of the CSV/XLSX row (with its file's header) that last set this project, while the project is still
    # exactly what that row gave: a re-import finds an unchanged row by its hash alone. Any other change of the
    # project through the ORM clears it (_forget_import_hash); a Core UPDATE of a project must clear it too.
    import_hash: Mapped[str | None] = mapped_column(String(32))

    portfolio: Mapped[Portfolio] = relationship(back_populates="projects")
    region: Mapped[Region | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    countries: Mapped[list[ProjectCountry]] = relationship(
        cascade="all, delete-orphan", order_by="ProjectCountry.position", lazy="selectin"
    )
    revisions: Mapped[list[Revision]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: (Revision.date.asc().nulls_last(), Revision.id)
    )
    budgets: Mapped[list[Budget]] = relationship(cascade="all, delete-orphan", order_by="Budget.period_start")
    results: Mapped[list[Result]] = relationship(
        cascade="all, delete-orphan",
        order_by="Result.position",
        primaryjoin="and_(Result.project_id == Project.id, Result.parent_id.is_(None))",
        overlaps="children",
    )
    tags: Mapped[list[ProjectTag]] = relationship(cascade="all, delete-orphan")

    @property
    def duration_months(self) -> Decimal | None:
        """planned + NCE months where both are given, else whole months between the dates (none when the stored
        end date is before the start date: the importers refuse that, but no stored value may break a page)."""
        return duration_of(self.planned_months, self.nce_months, self.start_date, self.end_date)

    @property
    def duration_rule(self) -> str | None:
        if self.planned_months is not None and self.nce_months is not None:
            return "planned_months + nce_months"
        if self.start_date is not None and self.end_date is not None and self.start_date <= self.end_date:
            return "whole months from start_date to end_date"
        return None


# What a row of a file does not give: changing these leaves a project what its last row made it.
_NOT_FROM_A_ROW = frozenset({"import_hash", "created_at", "updated_at", "revisions", "portfolio"})


@event.listens_for(Project, "before_update")
def _forget_import_hash(_mapper: Any, _connection: Any, project: Project) -> None:
    """A project changed other than by the import of a row (which sets the row's hash in the same flush) is no
    longer what its last row gave: the next re-import compares it field by field. A revision recorded is no such
    change."""
    state = inspect(project)
    if project.import_hash is None or state.attrs.import_hash.history.has_changes():
        return
    if any(attr.history.has_changes() for attr in state.attrs if attr.key not in _NOT_FROM_A_ROW):
        project.import_hash = None


class ProjectCountry(Base):
    """A benefitting country of a project; ``iso3`` is empty for a name lmreview does not know."""

    __tablename__ = "project_country"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    iso3: Mapped[str | None] = mapped_column(ForeignKey("country.iso3"), index=True)
    percentage: Mapped[Decimal | None] = mapped_column(Scaled(4))


class Revision(Timestamped, Base):
    __tablename__ = "revision"
    __table_args__ = (CheckConstraint("type in ('budget', 'duration', 'results_matrix', 'project_info')", name="type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Budget(Base):
    """A budget line as IATI reports it: original or revised, for a period, in its own currency."""

    __tablename__ = "budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # original | revised
    status: Mapped[str | None] = mapped_column(String(12))  # indicative | committed
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Scaled(2))
    currency: Mapped[str] = mapped_column(String(3))
    value_date: Mapped[dt.date | None] = mapped_column(Date)


class Result(Base):
    """A level of the results framework: objective, impact, outcome, output."""

    __tablename__ = "result"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("result.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)

    children: Mapped[list[Result]] = relationship(cascade="all, delete-orphan", order_by="Result.position")
    indicators: Mapped[list[Indicator]] = relationship(cascade="all, delete-orphan", order_by="Indicator.position")


class Indicator(Base):
    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("result.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    measure: Mapped[str | None] = mapped_column(String(20))
    ascending: Mapped[bool | None] = mapped_column(Boolean)
    baseline: Mapped[str | None] = mapped_column(String(200))
    baseline_year: Mapped[int | None] = mapped_column(Integer)

    periods: Mapped[list[IndicatorPeriod]] = relationship(
        cascade="all, delete-orphan", order_by="IndicatorPeriod.period_start"
    )


class IndicatorPeriod(Base):
    __tablename__ = "indicator_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    target: Mapped[str | None] = mapped_column(String(200))
    actual: Mapped[str | None] = mapped_column(String(200))


class Tag(Base):
    """A code of a classification scheme (IATI sector, policy marker, region; later SDG, GCM, MiGOF)."""

    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("scheme", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(300))


class ProjectTag(Base):
    __tablename__ = "project_tag"
    __table_args__ = (UniqueConstraint("project_id", "tag_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"))
    percentage: Mapped[Decimal | None] = mapped_column(Scaled(4))
    significance: Mapped[int | None] = mapped_column(Integer)

    tag: Mapped[Tag] = relationship(lazy="joined")


def unknown_portfolio(session: Session, name: str) -> NotFound:
    """The error for a portfolio name that names none, listing the portfolios there are (read with Core, so that
    the statistics, which never configure the ORM's mappers, say it as the service does)."""
    table = Portfolio.__table__
    names = session.scalars(select(table.c.name).order_by(table.c.name)).all()
    known = f"; the portfolios are: {', '.join(names)}" if names else "; import one first"
    return NotFound(f'no portfolio named "{name}"{known}')
