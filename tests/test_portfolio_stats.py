"""`lmreview stats` on the sample portfolios reproduces the figures the IDF reviews printed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLES, Cli


def load(cli: Cli, name: str) -> None:
    run = cli("portfolio", "import", str(SAMPLES / f"{name}.csv"))
    assert run.exit_code == 0, run.stderr


def test_lm2016_reproduces_the_2016_review(cli: Cli) -> None:
    load(cli, "lm2016")
    run = cli("stats", "--portfolio", "lm2016", "--json")
    assert run.exit_code == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["projects"] == 14
    budget = stats["budget_usd"]
    # 001, "Statistical Overview of the 14 reviewed LM projects"
    assert budget["n"] == 14
    assert budget["total"] == 1_650_000
    assert round(budget["mean"], 2) == 117_857.14
    assert budget["median"] == 100_000
    length = stats["duration_months"]
    assert round(length["mean"], 1) == 18.3
    assert (length["median"], length["max"], length["min"]) == (18, 37, 9)
    nce = stats["nce_months"]
    assert round(nce["mean"], 1) == 5.7
    assert (nce["median"], nce["max"], nce["min"]) == (5, 13, 1)


def test_json_has_exactly_the_contract_keys(cli: Cli) -> None:
    load(cli, "lm2016")
    stats = json.loads(cli("stats", "--portfolio", "lm2016", "--json").stdout)
    assert set(stats) == {
        "portfolio",
        "projects",
        "budget_usd",
        "duration_months",
        "nce_months",
        "by_region",
        "by_fund_line",
        "by_funding_year",
        "by_category",
        "excluded_from_duration",
    }
    assert stats["excluded_from_duration"] == []
    for key in ("budget_usd", "duration_months", "nce_months"):
        assert set(stats[key]) == {"n", "total", "mean", "median", "min", "max"}
    for entry in stats["by_region"]:
        assert set(entry) == {"value", "projects", "pct", "budget_usd", "budget_pct"}


def test_breakdowns_are_sorted_with_unrounded_shares(cli: Cli) -> None:
    load(cli, "lm2016")
    stats = json.loads(cli("stats", "--portfolio", "lm2016", "--json").stdout)
    years = stats["by_funding_year"]
    assert [(y["value"], y["projects"]) for y in years] == [("2012", 5), ("2013", 5), ("2011", 3), ("2014", 1)]
    assert years[0]["pct"] == pytest.approx(100 * 5 / 14)
    assert years[0]["budget_usd"] == 600_000
    assert years[0]["budget_pct"] == pytest.approx(100 * 600_000 / 1_650_000)
    lines = {e["value"]: e["projects"] for e in stats["by_fund_line"]}
    assert lines == {"2": 8, "1": 6}
    assert stats["by_category"] == [
        {"value": None, "projects": 14, "pct": 100, "budget_usd": 1_650_000, "budget_pct": 100}
    ]


def test_lm2022_category_counts(cli: Cli) -> None:
    load(cli, "lm2022")
    stats = json.loads(cli("stats", "--portfolio", "lm2022", "--json").stdout)
    assert stats["projects"] == 27
    counts = [(c["value"], c["projects"]) for c in stats["by_category"]]
    # 000 §4.2 "Project categories"
    assert counts == [
        ("Strengthening and developing capacities", 10),
        ("Promoting ethical recruitment", 7),
        ("Policy development", 4),
        ("Skill development", 3),
        ("Supporting migrant reintegration", 3),
    ]
    assert stats["budget_usd"] == {"n": 0, "total": None, "mean": None, "median": None, "min": None, "max": None}
    assert all(c["budget_usd"] is None and c["budget_pct"] is None for c in stats["by_category"])


def test_stats_table_shows_denominators(cli: Cli) -> None:
    load(cli, "lm2016")
    run = cli("stats", "--portfolio", "lm2016")
    assert run.exit_code == 0
    assert "14 of 14" in run.stdout
    assert "117,857.14" in run.stdout
    assert "% of 14" in run.stdout


def test_stats_of_unknown_portfolio_is_a_clear_error(cli: Cli) -> None:
    load(cli, "lm2016")
    run = cli("stats", "--portfolio", "nope")
    assert run.exit_code == 2
    assert 'no portfolio named "nope"; the portfolios are: lm2016' in run.stderr


def test_rows_on_request_trace_every_figure(cli: Cli) -> None:
    """`--json --rows` lists the codes behind each figure: as many as the figure counts, each a project of the
    portfolio, each project in exactly one group of every breakdown; without --rows none are read or printed."""
    load(cli, "lm2022")
    plain = json.loads(cli("stats", "--portfolio", "lm2022", "--json").stdout)
    run = cli("stats", "--portfolio", "lm2022", "--json", "--rows")
    assert run.exit_code == 0, run.stderr
    traced = json.loads(run.stdout)
    codes = set(traced["budget_usd"]["rows"]) | set(traced["duration_months"]["rows"])
    for key in ("budget_usd", "duration_months", "nce_months"):
        rows = traced[key].pop("rows")
        assert len(rows) == len(set(rows)) == traced[key]["n"]
        assert rows == sorted(rows)
        assert traced[key] == plain[key]  # the same figures
    for name in ("by_region", "by_fund_line", "by_funding_year", "by_category"):
        members = [code for share in traced[name] for code in share["rows"]]
        assert len(members) == len(set(members)) == traced["projects"]
        assert all(len(share["rows"]) == share["projects"] for share in traced[name])
        assert [{k: v for k, v in s.items() if k != "rows"} for s in traced[name]] == plain[name]
    assert codes <= set(members)


def test_rows_need_json(cli: Cli) -> None:
    load(cli, "lm2016")
    run = cli("stats", "--portfolio", "lm2016", "--rows")
    assert run.exit_code == 2
    assert "add --json" in run.stderr
