"""The IATI activity parser: exact records from a good file, and a located, actionable problem for each bad one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from lmreview.errors import Problem
from lmreview.portfolio.iati import DAC_REGIONS, POLICY_MARKERS, STATUSES, parse_iati
from lmreview.portfolio.schemas import (
    BudgetRecord,
    CountryRef,
    IndicatorPeriodRecord,
    IndicatorRecord,
    ProjectRecord,
    ResultRecord,
    TagRef,
)

IATI = Path(__file__).parent / "fixtures" / "iati"
D = dt.date
Parsed = tuple[list[ProjectRecord], list[Problem]]


def parse(name: str) -> Parsed:
    return parse_iati((IATI / name).read_bytes(), name)


def line_of(name: str, needle: str, after: str | None = None) -> int:
    """The line of the first ``needle`` in fixture ``name`` (after the first ``after``, if given)."""
    lines = (IATI / name).read_text(encoding="utf-8").splitlines()
    start = 0 if after is None else next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def wrap(activity: str, version: str = "2.03") -> bytes:
    return f'<iati-activities version="{version}">{activity}</iati-activities>'.encode()


@pytest.fixture(scope="module")
def good() -> Parsed:
    return parse("activities.xml")


# --- the good file -------------------------------------------------------------------------------------------


def test_good_file_reads_three_activities_with_only_the_currency_warning(good: Parsed) -> None:
    records, problems = good
    assert [r.code for r in records] == ["XM-DAC-47066-LM-2014-001", "DE-1-201466778", "XM-DAC-47066-LM-2015-007"]
    assert [r.row for r in records] == [
        line_of("activities.xml", "<iati-activity "),
        line_of("activities.xml", "<iati-activity ", after="</iati-activity>"),
        line_of("activities.xml", "<iati-activity ", after="DE-1-201466778"),
    ]
    assert problems == [
        Problem(
            "activities.xml",
            line_of("activities.xml", "<budget", after="DE-1-201466778"),
            "budget/value/@currency",
            "the budget is in EUR and is not converted; the budget in USD is left empty",
            "warning",
        )
    ]


def test_usd_activity_identity_dates_and_places(good: Parsed) -> None:
    first = good[0][0]
    assert first.iati_identifier == first.code == "XM-DAC-47066-LM-2014-001"
    assert first.title == "Labour migration governance in Morocco and Tunisia"  # unlabelled English beats French
    assert first.objective == "To strengthen fair recruitment of migrant workers."
    assert first.extra == {
        "description": "Support to the ministries of labour of Morocco and Tunisia\n"
        "in managing the recruitment of migrant workers.",
        "reporting_org": "International Organization for Migration",
        "participating_orgs": "IOM Development Fund (Funding); International Organization for Migration (Implementing)",
    }
    assert first.status == "Closed"
    assert (first.planned_start, first.planned_end) == (D(2014, 5, 1), D(2015, 1, 31))
    assert (first.start_date, first.end_date) == (D(2014, 6, 1), D(2015, 5, 31))  # the actual start is a datetime
    assert first.planned_months == Decimal(9)
    assert first.nce_months == Decimal(4)  # 1 Feb - 31 May 2015
    assert first.countries == [
        CountryRef("Morocco", "MAR", Decimal(60)),
        CountryRef("Tunisia", "TUN", Decimal(40)),
    ]
    assert first.region is None
    assert first.tags == [
        TagRef(
            "sector:1",
            "15190",
            "Facilitation of orderly, safe, regular and responsible migration and mobility",
            Decimal(100),
        ),
        TagRef("policy-marker:1", "1", "Gender Equality", significance=1),
    ]
    assert (first.funding_year, first.fund_line, first.category) == (None, None, None)


def test_usd_activity_budgets_take_the_revised_budget_of_each_period(good: Parsed) -> None:
    first = good[0][0]
    assert first.budgets == [
        BudgetRecord("original", Decimal("120000"), "USD", D(2014, 5, 1), D(2014, 12, 31), D(2014, 5, 1), "committed"),
        BudgetRecord(
            "revised", Decimal("110000.50"), "USD", D(2014, 5, 1), D(2014, 12, 31), D(2014, 10, 1), "committed"
        ),
        BudgetRecord("original", Decimal("80000"), "USD", D(2015, 1, 1), D(2015, 12, 31), D(2015, 1, 1), "indicative"),
    ]
    assert first.budget_usd == Decimal("190000.50")
    assert isinstance(first.budget_usd, Decimal)
    assert first.currency == "USD"


def test_usd_activity_results_indicators_and_periods(good: Parsed) -> None:
    assert good[0][0].results == [
        ResultRecord(
            "outcome",
            "Recruitment agencies follow fair recruitment standards",
            "Outcome of the regulatory component",
            [
                IndicatorRecord(
                    "Share of licensed agencies audited against the standards",
                    measure="percentage",
                    ascending=True,
                    baseline="12",
                    baseline_year=2014,
                    description="Audited agencies over licensed agencies",
                    periods=[
                        IndicatorPeriodRecord(D(2014, 5, 1), D(2014, 12, 31), "20", "18"),
                        IndicatorPeriodRecord(D(2015, 1, 1), D(2015, 5, 31), "30", "33"),
                    ],
                )
            ],
        ),
        ResultRecord(
            "output",
            "Labour inspectors trained",
            None,
            [
                IndicatorRecord(
                    "Number of labour inspectors trained",
                    measure="unit",
                    ascending=True,
                    baseline="0",
                    baseline_year=2014,
                    periods=[IndicatorPeriodRecord(D(2014, 5, 1), D(2015, 5, 31), "150", None)],
                )
            ],
        ),
    ]


def test_eur_activity_keeps_its_currency_and_has_no_usd_budget(good: Parsed) -> None:
    second = good[0][1]
    assert second.title == "Labour migration from the Republic of Moldova"  # the en narrative of a German activity
    assert second.objective == "Information centres for prospective labour migrants."
    assert "description" not in second.extra
    assert second.extra == {"reporting_org": "Bundesministerium für wirtschaftliche Zusammenarbeit und Entwicklung"}
    assert second.status == "Implementation"
    assert (second.start_date, second.end_date) == (D(2015, 4, 15), D(2017, 2, 28))
    assert second.planned_months == Decimal(24)
    assert second.nce_months is None  # no actual end yet
    assert second.budgets == [
        BudgetRecord("original", Decimal(250000), "EUR", D(2015, 3, 1), D(2016, 2, 29), D(2015, 3, 1), "indicative")
    ]
    assert second.budget_usd is None
    assert second.currency == "EUR"
    assert second.countries == [CountryRef("Moldova, Republic of", "MDA", None)]
    assert second.tags == [TagRef("sector:2", "151")]


def test_regional_activity_without_dates_or_budgets(good: Parsed) -> None:
    third = good[0][2]
    assert third.title == "Regional dialogue on labour mobility in sub-Saharan Africa"
    assert third.region == "South of Sahara, regional"
    assert third.countries == []
    assert third.tags == [
        TagRef("region:1", "289", "South of Sahara, regional"),
        TagRef("policy-marker:1", "11", "Disability", significance=2),
        TagRef("policy-marker:99", "LM-3", "Migrant workers' rights", significance=1),
    ]
    assert third.status == "Pipeline/identification"
    assert (third.start_date, third.end_date, third.planned_start, third.planned_end) == (None, None, None, None)
    assert (third.planned_months, third.nce_months) == (None, None)
    assert (third.budgets, third.budget_usd, third.currency) == ([], None, "USD")
    assert (third.objective, third.extra, third.results) == (None, {}, [])


# --- whole-file problems -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "row", "fragment"),
    [
        ("empty.xml", 0, "the file is empty"),
        ("not-xml.xml", 1, "this is not well-formed XML (syntax error); is it an IATI activity file?"),
        ("organisations.xml", 0, "this is an IATI organisation file"),
        ("no-activities.xml", 0, "the file has no <iati-activity>"),
        ("billion-laughs.xml", 0, "the file declares a DTD"),
        ("external-entity.xml", 0, "refuses it for safety"),
    ],
)
def test_whole_file_problems(name: str, row: int, fragment: str) -> None:
    records, problems = parse(name)
    assert records == []
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.row, problem.column, problem.severity) == (name, row, "-", "error")
    assert fragment in problem.message


def test_version_1_is_refused() -> None:
    records, problems = parse("version-1.xml")
    assert records == []
    assert problems == [
        Problem(
            "version-1.xml",
            2,
            "iati-activities/@version",
            "this file uses IATI version 1.05; lmreview reads only versions 2.01-2.03 (2.0x): "
            "publish or export it again as 2.03",
        )
    ]


def test_other_root_element() -> None:
    records, problems = parse_iati(b"<projects><project/></projects>", "p.xml")
    assert records == []
    assert problems == [
        Problem(
            "p.xml", 0, "-", "the root element is <projects>, not <iati-activities>; is this an IATI activity file?"
        )
    ]


@pytest.mark.parametrize(
    "data",
    [b"\x00\xff\xfe", b"<iati-activities", b"   \n", b"<a>&undefined;</a>", "<iati-activities>é".encode("latin-1")],
)
def test_garbage_never_raises(data: bytes) -> None:
    records, problems = parse_iati(data, "x.xml")
    assert records == []
    assert errors(problems)


def test_every_fixture_parses_without_raising() -> None:
    for path in IATI.glob("*.xml"):
        records, problems = parse_iati(path.read_bytes(), path.name)
        assert all(isinstance(p, Problem) for p in problems)
        assert all(isinstance(r, ProjectRecord) for r in records)


# --- activity problems -------------------------------------------------------------------------------------------


def test_activity_without_identifier_or_title() -> None:
    name = "missing-identifier-title.xml"
    records, problems = parse(name)
    assert [r.code for r in records] == ["XM-DAC-47066-LM-2016-003"]
    assert problems == [
        Problem(
            name, 3, "iati-identifier", "the activity has no iati-identifier; add one (it becomes the project code)"
        ),
        Problem(name, 8, "title", "the activity has no title; add <title><narrative>...</narrative></title>"),
    ]


def test_duplicate_identifier() -> None:
    name = "duplicate-identifier.xml"
    records, problems = parse(name)
    assert [r.title for r in records] == ["Diaspora engagement in Armenia"]
    assert problems == [
        Problem(
            name,
            line_of(name, "<iati-identifier> XM"),
            "iati-identifier",
            '"XM-DAC-47066-LM-2016-004" is already the identifier of the activity on line 3; '
            "identifiers must be unique in a file",
        )
    ]


def test_bad_dates() -> None:
    name = "bad-dates.xml"
    records, problems = parse(name)
    column = "activity-date/@iso-date"
    assert problems == [
        Problem(name, line_of(name, "2014-13-01"), column, '"2014-13-01" is not a date; write it as YYYY-MM-DD'),
        Problem(name, line_of(name, "31/01/2015"), column, '"31/01/2015" is not a date; write it as YYYY-MM-DD'),
        Problem(
            name,
            line_of(name, '<activity-date type="2"/>'),
            column,
            'the date is missing; write it as iso-date="YYYY-MM-DD"',
        ),
        Problem(
            name,
            line_of(name, "end-actual"),
            "activity-date/@type",
            "'end-actual' is not an activity date type; use 1 (planned start), 2 (actual start), "
            "3 (planned end) or 4 (actual end)",
        ),
    ]
    assert (records[0].start_date, records[0].end_date, records[0].planned_months) == (None, None, None)


def test_end_before_start() -> None:
    name = "end-before-start.xml"
    records, problems = parse(name)
    assert problems == [
        Problem(
            name,
            line_of(name, "2014-03-31"),
            "activity-date/@iso-date",
            "the planned end 2014-03-31 is before the planned start 2014-09-01; check both dates",
        )
    ]
    assert records[0].planned_months is None


def test_actual_end_before_actual_start() -> None:
    data = wrap(
        "<iati-activity><iati-identifier>A-1</iati-identifier><title><narrative>T</narrative></title>\n"
        '<activity-date type="2" iso-date="2015-01-01"/>\n<activity-date type="4" iso-date="2014-12-31"/>\n'
        "</iati-activity>"
    )
    _, problems = parse_iati(data, "a.xml")
    assert [(p.row, p.column, p.message) for p in problems] == [
        (
            3,
            "activity-date/@iso-date",
            "the actual end 2014-12-31 is before the actual start 2015-01-01; check both dates",
        )
    ]


def test_bad_budgets() -> None:
    name = "bad-budgets.xml"
    records, problems = parse(name)
    assert problems == [
        Problem(
            name,
            3,
            "@default-currency",
            '"usd" is not a currency code; write three capital letters (ISO 4217), e.g. USD',
        ),
        Problem(
            name,
            line_of(name, "12,000"),
            "budget/value",
            '"12,000" is not a number; write digits with a dot for decimals, e.g. 12000.50',
        ),
        Problem(
            name,
            line_of(name, "-500"),
            "budget/value",
            "activity XM-DAC-47066-LM-2014-011: the original budget line for 2015-01-01 to 2015-12-31 is negative "
            "(-500); IATI budgets should not be, but the line is kept and counted as published",
            "warning",
        ),
        Problem(
            name,
            line_of(name, "Dollars"),
            "budget/value/@currency",
            '"Dollars" is not a currency code; write three capital letters (ISO 4217), e.g. USD',
        ),
        Problem(
            name,
            line_of(name, "2016-01-01") - 1,  # the <budget> before its period-start
            "budget/value",
            "the budget has no value; write the amount in <value>",
        ),
        Problem(
            name,
            3,
            "budget/value",
            "activity XM-DAC-47066-LM-2014-011: its budget lines add up to -500 USD, less than 0; the budget in USD "
            "is left empty",
            "warning",
        ),
    ]
    negative = BudgetRecord(
        "original", Decimal(-500), "USD", D(2015, 1, 1), D(2015, 12, 31), D(2015, 1, 1), "indicative"
    )
    assert (records[0].budgets, records[0].budget_usd) == ([negative], None)


def test_budget_without_any_currency_and_a_bad_value_date() -> None:
    data = wrap(
        "<iati-activity><iati-identifier>A-1</iati-identifier><title><narrative>T</narrative></title>\n"
        '<budget><period-start iso-date="2014-01-01"/><period-end iso-date="2014-12-31"/>\n'
        '<value value-date="1/1/2014">5</value></budget></iati-activity>'
    )
    _, problems = parse_iati(data, "a.xml")
    assert [(p.row, p.column, p.message) for p in problems] == [
        (3, "budget/value/@value-date", '"1/1/2014" is not a date; write it as YYYY-MM-DD'),
        (
            3,
            "budget/value/@currency",
            "the budget has no currency; set currency on <value> or default-currency on <iati-activity>",
        ),
    ]


def test_unknown_codes_are_warnings() -> None:
    name = "unknown-codes.xml"
    records, problems = parse(name)
    assert errors(problems) == []
    assert [(p.row, p.column, p.message) for p in problems] == [
        (line_of(name, "activity-status"), "activity-status/@code", "'9' is not an IATI activity status (1-6)"),
        (line_of(name, '"QQ"'), "recipient-country/@code", "'QQ' is not an ISO 3166 country code; kept as written"),
        (
            3,
            "recipient-country/@percentage",
            "the recipient country and region percentages add up to 80, not 100",
        ),
        (line_of(name, "<sector") + 1, "sector/@code", "15190 (sector:1) is listed twice; the first is kept"),
    ]
    record = records[0]
    assert record.status is None
    assert record.countries == [CountryRef("Kosovo", "XKX", Decimal(50)), CountryRef("QQ", None, Decimal(30))]
    assert record.tags == [TagRef("sector:1", "15190")]


# --- mapping details ---------------------------------------------------------------------------------------------


def test_title_falls_back_to_the_first_narrative_and_datetimes_give_their_date() -> None:
    data = wrap(
        '<iati-activity xml:lang="fr"><iati-identifier>A-1</iati-identifier>'
        '<title><narrative>Migration de travail</narrative><narrative xml:lang="es">Migración laboral</narrative>'
        '</title><activity-date type="1" iso-date="2014-05-01+02:00"/>'
        '<activity-date type="3" iso-date="2014-12-31T23:59:59.5Z"/>'
        '<activity-date type="4" iso-date="2014-11-30"/></iati-activity>'
    )
    records, problems = parse_iati(data, "a.xml")
    assert problems == []
    record = records[0]
    assert record.title == "Migration de travail"
    assert (record.planned_start, record.planned_end, record.end_date) == (
        D(2014, 5, 1),
        D(2014, 12, 31),
        D(2014, 11, 30),
    )
    assert record.nce_months == Decimal(0)  # ended a month early
    assert record.planned_months == Decimal(8)


def test_mixed_currencies_leave_budget_usd_empty() -> None:
    data = wrap(
        '<iati-activity default-currency="USD"><iati-identifier>A-1</iati-identifier>'
        "<title><narrative>T</narrative></title>"
        '<budget><period-start iso-date="2014-01-01"/><period-end iso-date="2014-12-31"/>'
        '<value value-date="2014-01-01">100</value></budget>\n'
        '<budget><period-start iso-date="2015-01-01"/><period-end iso-date="2015-12-31"/>'
        '<value currency="GBP" value-date="2015-01-01">50</value></budget></iati-activity>'
    )
    records, problems = parse_iati(data, "a.xml")
    assert (records[0].budget_usd, records[0].currency) == (None, "GBP")
    assert [(p.row, p.message, p.severity) for p in problems] == [
        (2, "the budget is in GBP and USD and is not converted; the budget in USD is left empty", "warning")
    ]


def test_baseline_year_from_iso_date_and_unlisted_values() -> None:
    data = wrap(
        "<iati-activity><iati-identifier>A-1</iati-identifier><title><narrative>T</narrative></title>"
        '<result type="3"><title><narrative>Impact</narrative></title>'
        '<indicator measure="5" ascending="0"><title><narrative>Perception</narrative></title>'
        '<baseline iso-date="2013-07-01" value="low"/></indicator></result>'
        '<recipient-region code="89"/><recipient-region code="AF" vocabulary="99"><narrative>Afro-Eurasia</narrative>'
        "</recipient-region></iati-activity>"
    )
    records, problems = parse_iati(data, "a.xml")
    assert problems == []
    record = records[0]
    assert record.results == [
        ResultRecord(
            "impact",
            "Impact",
            indicators=[IndicatorRecord("Perception", "qualitative", False, "low", 2013)],
        )
    ]
    assert record.region is None  # two regions
    assert record.tags == [TagRef("region:1", "89", "Europe, regional"), TagRef("region:99", "AF", "Afro-Eurasia")]


def test_bad_percentage_and_significance_are_errors() -> None:
    data = wrap(
        "<iati-activity><iati-identifier>A-1</iati-identifier><title><narrative>T</narrative></title>\n"
        '<recipient-country code="MA" percentage="sixty"/>\n'
        '<policy-marker code="1" significance="7"/>\n</iati-activity>'
    )
    _, problems = parse_iati(data, "a.xml")
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "recipient-country/@percentage", '"sixty" is not a percentage; write a number from 0 to 100, e.g. 40'),
        (3, "policy-marker/@significance", '"7" is not a policy significance; use 0 to 4'),
    ]


def test_unknown_version_is_a_warning_and_2_01_is_fine() -> None:
    activity = (
        "<iati-activity><iati-identifier>A-1</iati-identifier><title><narrative>T</narrative></title></iati-activity>"
    )
    assert parse_iati(wrap(activity, "2.01"), "a.xml")[1] == []
    records, problems = parse_iati(wrap(activity, "2.04"), "a.xml")
    assert len(records) == 1
    assert [(p.column, p.message, p.severity) for p in problems] == [
        ("iati-activities/@version", "the file has version '2.04'; it is read as IATI 2.03", "warning")
    ]


def test_codelists() -> None:
    assert len(DAC_REGIONS) == 26
    assert DAC_REGIONS["998"] == "Developing countries, unspecified"
    assert DAC_REGIONS["689"] == "South & Central Asia, regional"
    assert POLICY_MARKERS["1"] == "Gender Equality"
    assert POLICY_MARKERS["12"] == "Nutrition"
    assert len(POLICY_MARKERS) == 12
    assert STATUSES["6"] == "Suspended"
