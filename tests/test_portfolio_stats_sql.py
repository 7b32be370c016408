"""The statistics computed by the database equal the same figures computed from the loaded projects in Python
(the rule they replaced): every number, every denominator, the rows behind each figure; SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from lmreview.figures import Share, Summary
from lmreview.portfolio.models import Portfolio, Project
from lmreview.portfolio.service import list_portfolios
from lmreview.portfolio.stats import BREAKDOWNS, DURATION_FLAG, Excluded, PortfolioStats, portfolio_stats
from lmreview.store import Store
from tests.conftest import FIXTURES, SAMPLES, Cli


def reference(store: Store, name: str) -> PortfolioStats:
    """The statistics as lmreview computed them before they moved into SQL: from every loaded project."""
    with store.session() as session:
        portfolio_id = session.scalar(
            select(Project.portfolio_id).join(Project.portfolio).where(Portfolio.name == name)
        )
        projects = list(
            session.scalars(select(Project).where(Project.portfolio_id == portfolio_id).order_by(Project.code))
        )
        of = len(projects)
        flagged = [p for p in projects if (p.extra or {}).get(DURATION_FLAG)]
        left_out = {p.code for p in flagged}
        note = f"; excludes {len(flagged)} flagged: " + ", ".join(p.code for p in flagged) if flagged else ""

        def values(get: Callable[[Project], Decimal | None], skip: set[str]) -> list[tuple[str, Decimal]]:
            return [(p.code, v) for p in projects if (v := get(p)) is not None and p.code not in skip]

        budget_of = sum((p.budget_usd for p in projects if p.budget_usd is not None), Decimal(0))
        breakdowns = {}
        for key_name, key in BREAKDOWNS.items():
            groups: dict[str | None, list[Project]] = defaultdict(list)
            for p in projects:
                groups[key(p)].append(p)
            shares = []
            for value, members in groups.items():
                budgets = [p.budget_usd for p in members if p.budget_usd is not None]
                shares.append(
                    Share(
                        value,
                        len(members),
                        of,
                        sum(budgets, Decimal(0)) if budgets else None,
                        budget_of or None,
                        tuple(p.code for p in members),
                    )
                )
            shares.sort(key=lambda s: (-s.projects, s.value is None, s.value or ""))
            breakdowns[key_name] = shares
        rule = "planned_months + nce_months, else whole months from start_date to end_date"
        return PortfolioStats(
            portfolio=name,
            projects=of,
            budget_usd=Summary.of_values("budget_usd", of, values(lambda p: p.budget_usd, set()), "budget_usd"),
            duration_months=Summary.of_values(
                "duration_months", of, values(lambda p: p.duration_months, left_out), rule + note
            ),
            nce_months=Summary.of_values(
                "nce_months", of, values(lambda p: p.nce_months, left_out), "nce_months" + note
            ),
            breakdowns=breakdowns,
            excluded=tuple(Excluded(e.code, str(e.extra[DURATION_FLAG])) for e in flagged),
        )


def computed(store: Store, name: str, rows: bool = True) -> PortfolioStats:
    with store.session() as session:
        return portfolio_stats(session, name, rows=rows)


def same(sql: PortfolioStats, ref: PortfolioStats) -> None:
    assert sql.projects == ref.projects
    for field in ("budget_usd", "duration_months", "nce_months"):
        assert getattr(sql, field) == getattr(ref, field), field
    assert sql.breakdowns == ref.breakdowns
    assert sql.excluded == ref.excluded


@pytest.mark.parametrize(("file", "name"), [("lm2016.csv", "lm2016"), ("lm2022.csv", "lm2022")])
def test_sql_statistics_equal_the_python_rule_on_the_samples(cli: Cli, store: Store, file: str, name: str) -> None:
    cli("portfolio", "import", str(SAMPLES / file))
    ref = reference(store, name)
    same(computed(store, name), ref)
    without = computed(store, name, rows=False)
    assert without.as_json() == ref.as_json()
    assert without.budget_usd.rows == ()
    assert all(s.rows == () for shares in without.breakdowns.values() for s in shares)


def test_flagged_and_dated_projects_agree_with_the_python_rule(cli: Cli, store: Store) -> None:
    """IATI activities: durations from dates (no planned + NCE months), placeholder end dates flagged."""
    cli("portfolio", "import", str(FIXTURES / "iati" / "flagged-dates.xml"), "--portfolio", "flags")
    cli("portfolio", "import", str(FIXTURES / "iati" / "activities.xml"), "--portfolio", "acts")
    for name in ("flags", "acts"):
        ref = reference(store, name)
        assert ref.duration_months.n > 0
        same(computed(store, name), ref)
    assert computed(store, "flags").excluded


def test_even_and_odd_medians_and_empty_summaries(cli: Cli, store: Store, tmp_path: Path) -> None:
    rows = ["code,title,budget_usd,planned_months,nce_months"]
    rows += [
        f"E.{i},Even {i},{b},{m},{n}"
        for i, (b, m, n) in enumerate([(10.5, 6, 1), (20.25, 12, 0), (7, 18, 2), (3, 9, 3)])
    ]
    even = tmp_path / "even.csv"
    even.write_text("\n".join(rows) + "\n")
    cli("portfolio", "import", str(even))
    stats = computed(store, "even")
    assert stats.budget_usd.median == Decimal("8.75")
    assert stats.duration_months.median == Decimal("12.00")
    same(stats, reference(store, "even"))
    empty = tmp_path / "empty.csv"
    empty.write_text("code,title\nN.1,No figures\n")
    cli("portfolio", "import", str(empty))
    same(computed(store, "empty"), reference(store, "empty"))
    assert computed(store, "empty").budget_usd.n == 0


def test_list_portfolios_sums_budgets_in_the_database(cli: Cli, store: Store) -> None:
    cli("portfolio", "import", str(SAMPLES / "lm2016.csv"))
    cli("portfolio", "import", str(SAMPLES / "lm2022.csv"))
    with store.session() as session:
        summaries = {s.name: s for s in list_portfolios(session)}
        for name, summary in summaries.items():
            projects = session.scalars(select(Project).join(Project.portfolio).where(Portfolio.name == name)).all()
            budgets = [p.budget_usd for p in projects if p.budget_usd is not None]
            assert summary.projects == len(projects)
            assert summary.budget_usd == (sum(budgets, Decimal(0)) if budgets else None)
    assert summaries["lm2016"].budget_usd == reference(store, "lm2016").budget_usd.total


def test_totals_beyond_64_bits_stay_exact(cli: Cli, store: Store, tmp_path: Path) -> None:
    """Amounts at the edge of the column add up past what SQLite sums in 64 bits: the totals stay exact."""
    path = tmp_path / "edge.csv"
    path.write_text("code,title,budget_usd,region\nE.1,One,10.50,Asia\n")
    cli("portfolio", "import", str(path))
    top = Decimal("92233720368547758.07")
    with store.session() as session:
        portfolio_id = session.scalar(select(Portfolio.id).where(Portfolio.name == "edge"))
        for code in ("E.2", "E.3"):
            session.add(Project(portfolio_id=portfolio_id, code=code, title="Edge", budget_usd=top))
        session.commit()
    stats = computed(store, "edge")
    assert stats.budget_usd.total == 2 * top + Decimal("10.50")
    assert stats.budget_usd.mean == (2 * top + Decimal("10.50")) / 3
    same(stats, reference(store, "edge"))
    with store.session() as session:
        (summary,) = [s for s in list_portfolios(session) if s.name == "edge"]
    assert summary.budget_usd == 2 * top + Decimal("10.50")
