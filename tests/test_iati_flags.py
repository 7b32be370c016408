"""IATI budgets and dates that are valid but misleading: negative lines, amounts out of range, placeholder end
dates and activities that ended early. Each is kept or refused with a located message, and the statistics know."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from lmreview.errors import Problem
from lmreview.portfolio.iati import parse_iati
from lmreview.portfolio.iati_budgets import MAX_AMOUNT
from lmreview.portfolio.models import Budget
from lmreview.portfolio.schemas import BudgetRecord
from lmreview.store import Store
from tests.conftest import ROOT, Cli

IATI = Path(__file__).parent / "fixtures" / "iati"
REALWORLD = ROOT.parent / "shared" / "realworld" / "iati"
D = dt.date


def line_of(name: str, needle: str) -> int:
    lines = (IATI / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines) if needle in line) + 1


def activity(budgets: str, attrs: str = 'default-currency="USD"') -> bytes:
    return (
        f'<iati-activities version="2.03">\n<iati-activity {attrs}>\n'
        "<iati-identifier>XM-1</iati-identifier>\n<title><narrative>T</narrative></title>\n"
        f"{budgets}</iati-activity>\n</iati-activities>\n"
    ).encode()


def budget(value: str, start: str = "2015-01-01", end: str = "2015-12-31", kind: str = "1") -> str:
    return (
        f'<budget type="{kind}">\n<period-start iso-date="{start}"/><period-end iso-date="{end}"/>\n'
        f"<value>{value}</value>\n</budget>\n"
    )


# --- budgets -------------------------------------------------------------------------------------------------


def test_a_negative_line_is_kept_counted_and_flagged() -> None:
    name = "negative-budget.xml"
    records, problems = parse_iati((IATI / name).read_bytes(), name)
    assert problems == [
        Problem(
            name,
            line_of(name, "-2000"),
            "budget/value",
            "activity GB-1-203641-101: the original budget line for 2017-04-01 to 2018-03-31 is negative (-2000); "
            "IATI budgets should not be, but the line is kept and counted as published",
            "warning",
        )
    ]
    (record,) = records
    assert record.budgets[-1] == BudgetRecord(
        "original", Decimal(-2000), "USD", D(2017, 4, 1), D(2018, 3, 31), D(2017, 4, 1), "indicative"
    )
    # 10000 (2015/16) + 4500.50 (the revised budget replaces the original 6000 of 2016/17) - 2000 (2017/18)
    assert record.budget_usd == Decimal("12500.50")


def test_negative_total_leaves_budget_usd_empty() -> None:
    records, problems = parse_iati(activity(budget("100") + budget("-300", "2016-01-01", "2016-12-31")), "x.xml")
    assert records[0].budget_usd is None
    assert [p.message for p in problems][-1] == (
        "activity XM-1: its budget lines add up to -200 USD, less than 0; the budget in USD is left empty"
    )


def test_budget_not_provided_is_recorded() -> None:
    records, problems = parse_iati(activity("", 'default-currency="USD" budget-not-provided="3"'), "x.xml")
    assert (problems, records[0].extra["budget_not_provided"]) == ([], "Rapid onset emergency")
    records, problems = parse_iati(activity(budget("5"), 'default-currency="USD" budget-not-provided="1"'), "x.xml")
    assert records[0].budget_usd == 5
    assert [(p.row, p.severity) for p in problems] == [(2, "warning")]
    assert "no budget is provided (Commercial restrictions) but has budget lines" in problems[0].message


RANGE = "out of the range an amount can have (-92,233,720,368,547,758.07 to 92,233,720,368,547,758.07)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9" * 400, f'activity XM-1: "99999999999999999999…99999999 (400 characters)" is {RANGE}'),
        ("100000000000000000", f'activity XM-1: "100000000000000000" is {RANGE}'),
        ("-92233720368547758.08", f'activity XM-1: "-92233720368547758.08" is {RANGE}'),
        ("NaN", 'activity XM-1: "NaN" is not a finite number; write the amount in digits, e.g. 12000.50'),
        ("-Infinity", 'activity XM-1: "-Infinity" is not a finite number; write the amount in digits, e.g. 12000.50'),
        ("1e17", '"1e17" is not a number; write digits with a dot for decimals, e.g. 12000.50'),
        ("12.345", 'activity XM-1: "12.345" has more than 2 decimals; amounts are kept to the cent'),
    ],
)
def test_amounts_that_are_not_finite_or_do_not_fit_are_refused_where_they_are(value: str, message: str) -> None:
    records, problems = parse_iati(activity(budget(value)), "big.xml")
    assert problems == [Problem("big.xml", 7, "budget/value", message)]
    assert records[0].budgets == []


def test_the_largest_amount_fits_and_a_total_beyond_it_is_refused() -> None:
    records, problems = parse_iati(activity(budget(str(MAX_AMOUNT))), "x.xml")
    assert (problems, records[0].budget_usd) == ([], Decimal("92233720368547758.07"))
    half = "50000000000000000"
    records, problems = parse_iati(activity(budget(half) + budget(half, "2016-01-01", "2016-12-31")), "x.xml")
    assert problems == [
        Problem(
            "x.xml", 2, "budget/value", f"activity XM-1: its budget lines add up to 100000000000000000 USD, {RANGE}"
        )
    ]


def test_cli_refuses_an_amount_out_of_range_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    path.write_bytes(activity(budget("100000000000000000")))
    run = cli("portfolio", "import", str(path))
    assert run.exit_code == 2
    assert f'huge.xml:7:budget/value: activity XM-1: "100000000000000000" is {RANGE}' in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert cli("portfolio", "list").stdout.count("huge") == 0


def test_cli_imports_a_negative_line_with_a_warning(cli: Cli, store: Store) -> None:
    path = IATI / "negative-budget.xml"
    run = cli("portfolio", "import", str(path), "--portfolio", "neg")
    assert run.exit_code == 0, run.stderr
    output = "".join((run.stdout + run.stderr).split())  # the terminal may wrap the long path anywhere
    where = f"{path}:{line_of(path.name, '-2000')}:budget/value"
    assert f"{where}:warning:activityGB-1-203641-101:theoriginalbudgetline" in output
    with store.session() as session:
        values = session.scalars(select(Budget.value).order_by(Budget.period_start, Budget.kind)).all()
    assert values == [Decimal(10000), Decimal(6000), Decimal("4500.50"), Decimal(-2000)]
    stats = json.loads(cli("stats", "--portfolio", "neg", "--json").stdout)
    assert stats["budget_usd"]["total"] == 12500.5


# --- dates ---------------------------------------------------------------------------------------------------

FLAGGED = "flagged-dates.xml"


def test_placeholder_end_dates_and_early_ends_are_warned_about_and_flagged() -> None:
    records, problems = parse_iati((IATI / FLAGGED).read_bytes(), FLAGGED)
    assert [(p.row, p.column, p.severity) for p in problems] == [
        (line_of(FLAGGED, 'iso-date="2050-12-31"'), "activity-date/@iso-date", "warning"),
        (line_of(FLAGGED, 'iso-date="2099-12-31"'), "activity-date/@iso-date", "warning"),
        (line_of(FLAGGED, 'iso-date="2015-03-31"'), "activity-date/@iso-date", "warning"),
    ]
    assert problems[0].message == (
        "activity XM-DAC-47066-LM-2014-021: the planned end 2050-12-31 is 34 years after the file's date "
        "(2016-03-01), a placeholder rather than a date; its duration and NCE are left out of the duration statistics"
    )
    assert problems[2].message == (
        "activity XM-DAC-47066-LM-2014-023 ended 9 months early (actual end 2015-03-31, planned end 2015-12-31); "
        "its planned duration is not what it lasted, so it is left out of the duration statistics"
    )
    flags = {r.code[-3:]: r.extra.get("duration_flag") for r in records}
    assert flags == {
        "021": "placeholder end date (planned end 2050-12-31)",
        "022": "placeholder end date (actual end 2099-12-31)",
        "023": "ended early (actual end 2015-03-31, planned end 2015-12-31)",
        "024": None,  # an extension is an NCE, not a flag
        "025": None,  # one month early is not "well before"
    }
    assert records[1].nce_months == 1020  # kept as published; the flag keeps it out of the statistics


def test_without_a_file_date_the_last_update_then_today_is_the_reference() -> None:
    dates = '<activity-date type="1" iso-date="2010-01-01"/><activity-date type="3" iso-date="2030-12-31"/>\n'
    records, problems = parse_iati(activity(dates, 'last-updated-datetime="2012-06-30T00:00:00Z"'), "x.xml")
    assert "is 18 years after the activity's last update (2012-06-30)" in problems[0].message
    records, problems = parse_iati(activity(dates), "x.xml")
    assert problems == [] or "after today" in problems[0].message
    assert (records[0].extra.get("duration_flag") is not None) == (dt.date.today() < D(2015, 12, 31))


def test_stats_leave_flagged_projects_out_of_duration_and_say_which(cli: Cli) -> None:
    assert cli("portfolio", "import", str(IATI / FLAGGED), "--portfolio", "flags").exit_code == 0
    stats = json.loads(cli("stats", "--portfolio", "flags", "--json").stdout)
    assert stats["projects"] == 5
    # only 024 (12 planned + 6 NCE) and 025 (12 + 0) are counted
    assert stats["duration_months"] == {"n": 2, "total": 30, "mean": 15, "median": 15, "min": 12, "max": 18}
    assert stats["nce_months"] == {"n": 2, "total": 6, "mean": 3, "median": 3, "min": 0, "max": 6}
    assert [e["code"][-3:] for e in stats["excluded_from_duration"]] == ["021", "022", "023"]
    assert stats["excluded_from_duration"][2]["reason"] == (
        "ended early (actual end 2015-03-31, planned end 2015-12-31)"
    )
    text = "".join(cli("stats", "--portfolio", "flags").stdout.split())
    assert "LeftoutofdurationandNCE:XM-DAC-47066-LM-2014-022,placeholderenddate(actualend2099-12-31)" in text


def test_a_reimport_with_plausible_dates_clears_the_flag(cli: Cli, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(IATI / FLAGGED), "--portfolio", "flags").exit_code == 0
    fixed = (IATI / FLAGGED).read_text(encoding="utf-8").replace("2050-12-31", "2015-04-30")
    path = tmp_path / "flags.xml"
    path.write_text(fixed, encoding="utf-8")
    assert cli("portfolio", "import", str(path), "--portfolio", "flags").exit_code == 0
    stats = json.loads(cli("stats", "--portfolio", "flags", "--json").stdout)
    assert [e["code"][-3:] for e in stats["excluded_from_duration"]] == ["022", "023"]
    assert stats["duration_months"]["n"] == 3


def test_real_file_activities_that_ended_early_are_flagged() -> None:
    path = REALWORLD / "nl_mfa_example_203_file.xml"
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared real-world files are not on this machine)")
    records, problems = parse_iati(path.read_bytes(), path.name)
    assert not [p for p in problems if p.severity == "error"]
    flagged = sorted(r.code for r in records if r.extra.get("duration_flag"))
    assert flagged == ["NL-1-PPR-27791", "NL-1-PPR-28373", "NL-1-PPR-28390", "NL-1-PPR-28393"]
    assert len([p for p in problems if "months early" in p.message]) == 4


def test_the_stats_page_names_the_projects_left_out(cli: Cli, store: Store) -> None:
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.store.users import add_user
    from lmreview.web.app import create_app

    assert cli("portfolio", "import", str(IATI / FLAGGED), "--portfolio", "flags").exit_code == 0
    with store.session() as session:
        add_user(session, "vic", "viewer", "correct-horse", actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        client.post("/login", data={"name": "vic", "password": "correct-horse", "csrf_token": str(token["value"])})
        page = BeautifulSoup(client.get("/portfolios/flags/stats").text, "html.parser")
    excluded = page.find(id="excluded")
    assert excluded is not None
    assert " ".join(excluded.get_text(" ").split()) == (
        "Left out of the length and NCE summaries, as their dates do not give how long they lasted: "
        "XM-DAC-47066-LM-2014-021 (placeholder end date (planned end 2050-12-31)); "
        "XM-DAC-47066-LM-2014-022 (placeholder end date (actual end 2099-12-31)); "
        "XM-DAC-47066-LM-2014-023 (ended early (actual end 2015-03-31, planned end 2015-12-31))."
    )
    links = [a["href"] for a in excluded.find_all("a")]
    assert links[0] == "/portfolios/flags/projects/XM-DAC-47066-LM-2014-021"
    length = page.find("th", string="Length incl. NCE (months)")
    assert length is not None
    assert length.find_next("td").get_text(strip=True) == "2 of 5"


def test_dates_outside_the_plausible_range_are_refused_where_they_are() -> None:
    dates = '<activity-date type="1" iso-date="2015-01-01"/>\n<activity-date type="3" iso-date="9999-12-31"/>\n'
    _, problems = parse_iati(activity(dates), "edge.xml")
    assert [(p.column, p.severity) for p in problems] == [("activity-date/@iso-date", "error")]
    assert '"9999-12-31" is outside 1900-2200' in problems[0].message
