"""`lmreview tabulate`: the denominators of one question (units, responded, not relevant, skipped, answered), counts
with Wilson intervals and non-response bounds, numeric and rating summaries, repeats, cross-tabs, and errors.

The review is the lm2016 sample (14 projects) with the bilingual test form and the eleven Kobo submissions of
``tests/fixtures/tabulate/kobo-tabulate.csv`` (README.md there tells which answer sits where); the rating form
(``rating-form.md``) gets its six ODK submissions, with repeats, from ``tests/fixtures/tabulate/odk/``.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lmreview.analysis.intervals import Z95, nonresponse_bounds, wilson
from lmreview.analysis.tabulate import find_question
from lmreview.errors import BadInput
from lmreview.questionnaire import reviews, submissions
from lmreview.questionnaire.models import Respondent, Submission
from lmreview.questionnaire.xlsform import parse_form
from lmreview.store import Store
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli, join_every_review

HERE = FIXTURES / "tabulate"


@pytest.fixture
def review(cli: Cli) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    source = str(HERE / "kobo-tabulate.csv")
    run = cli("form", "import-responses", source, "--form", "bilingual_test", "--review", "r16")
    assert run.exit_code == 0, run.stderr
    assert "11 submissions created" in run.stdout
    return "r16"


def odk_zip(tmp_path: Path) -> Path:
    path = tmp_path / "tabulate_test.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("tabulate_test.csv", "tabulate_test-activities.csv"):
            archive.write(HERE / "odk" / name, name)
    return path


@pytest.fixture
def ratings(cli: Cli, tmp_path: Path) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(HERE / "rating-form.md")).exit_code == 0
    assert cli("review", "create", "rt", "--portfolio", "lm2016", "--form", "tabulate_test").exit_code == 0
    run = cli("form", "import-responses", str(odk_zip(tmp_path)), "--form", "tabulate_test", "--review", "rt")
    assert run.exit_code == 0, run.stderr
    return "rt"


def tab(cli: Cli, *args: str) -> dict[str, Any]:
    run = cli("tabulate", *args, "--json")
    assert run.exit_code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def counts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["value"]: c for c in result["counts"]}


def score_interval(x: int, n: int) -> tuple[float, float]:
    """Wilson's interval found another way: the two roots of (x/n - p)^2 = z^2 p (1 - p) / n, by bisection."""
    p_hat = x / n

    def f(p: float) -> float:
        return (p_hat - p) ** 2 - Z95**2 * p * (1 - p) / n

    def root(low: float, high: float) -> float:  # f changes sign between low and high (or is 0 at low)
        for _ in range(200):
            middle = (low + high) / 2
            if (f(low) > 0) == (f(middle) > 0):
                low = middle
            else:
                high = middle
        return (low + high) / 2

    return (0.0 if x == 0 else root(0.0, p_hat)), (1.0 if x == n else root(p_hat, 1.0))


# --- intervals -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (score method), to 4 decimals
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_gives_the_published_intervals(x: int, n: int, low: float, high: float) -> None:
    interval = wilson(x, n)
    assert interval is not None
    assert round(interval[0], 4) == low
    assert round(interval[1], 4) == high


@pytest.mark.parametrize(("x", "n"), [(23, 27), (4, 7), (1, 3), (0, 14), (14, 14), (1, 1), (0, 1)])
def test_wilson_solves_the_score_equation(x: int, n: int) -> None:
    interval = wilson(x, n)
    assert interval is not None
    expected = score_interval(x, n)
    assert interval[0] == pytest.approx(expected[0], abs=1e-9)
    assert interval[1] == pytest.approx(expected[1], abs=1e-9)
    if x == 0:
        assert interval[0] == 0.0
    if x == n:
        assert interval[1] == 1.0


def test_wilson_and_bounds_without_a_denominator() -> None:
    assert wilson(0, 0) is None
    assert nonresponse_bounds(0, 0, 0) is None
    assert nonresponse_bounds(4, 7, 14) == (4 / 14, 11 / 14)
    with pytest.raises(ValueError, match="cannot take"):
        wilson(5, 4)


# --- denominators ----------------------------------------------------------------------------------------------------


def test_a_select_one_has_every_denominator_and_the_rows_behind_each_count(cli: Cli, review: str) -> None:
    result = tab(cli, "--review", review, "--question", "sustained")
    assert result["question"] == "sustained"
    assert result["type"] == "select_one"
    assert result["unit"] == "project"
    # 14 projects; 8 with a submission used (LM.0181's older one, LM.0199's rejected one and LM.0334, which is not in
    # the portfolio, are set aside); LM.0232 left the required question empty
    assert (result["units"], result["responded"]) == (14, 8)
    assert (result["not_relevant"], result["skipped"], result["answered"]) == (0, 1, 7)
    assert result["rows"]["skipped"] == ["LM.0232"]
    yes, no = counts(result)["yes"], counts(result)["no"]
    assert (yes["n"], no["n"]) == (4, 3)
    assert yes["rows"] == ["LM.0153", "LM.0181", "LM.0214", "LM.0220"]
    assert yes["label"] == "Yes"
    assert yes["pct"] == pytest.approx(100 * 4 / 7, abs=1e-9)
    assert yes["pct_units"] == pytest.approx(100 * 4 / 14, abs=1e-9)
    low, high = score_interval(4, 7)
    assert yes["ci_low"] == pytest.approx(100 * low, abs=1e-9)
    assert yes["ci_high"] == pytest.approx(100 * high, abs=1e-9)
    assert yes["ci_low"] == pytest.approx(25.04583645276572, abs=1e-9)
    assert yes["bound_low"] == pytest.approx(100 * 4 / 14, abs=1e-9)
    assert yes["bound_high"] == pytest.approx(100 * (4 + 14 - 7) / 14, abs=1e-9)  # 78.57: the 7 without an answer
    assert no["bound_high"] == pytest.approx(100 * (3 + 14 - 7) / 14, abs=1e-9)
    assert result["summary"] is None
    assert result["by"] is None
    reasons = {a["submission"][-4:]: (a["unit"], a["reason"]) for a in result["set_aside"]}
    assert reasons["0002"] == (
        "LM.0181",
        "an older submission of the same project; the newest, uuid:7c1e4d2a-5b3f-4a6e-9d8c-2e7f1a3b0001, is used",
    )
    assert reasons["0010"][1] == "rejected by a reviewer"
    assert reasons["0011"] == ("LM.0334", "its project is not in the review's portfolio")
    assert result["rows"]["submissions"]["LM.0181"] == "uuid:7c1e4d2a-5b3f-4a6e-9d8c-2e7f1a3b0001"
    assert result["drafts"] == 0


def test_relevance_is_told_apart_from_skipping(cli: Cli, review: str) -> None:
    # not_sustained_why is asked only when sustained = 'no': 4 said yes and LM.0232 said nothing, so 5 were not asked
    result = tab(cli, "--review", review, "--question", "not_sustained_why")
    assert (result["responded"], result["not_relevant"], result["skipped"], result["answered"]) == (8, 5, 1, 2)
    assert result["rows"]["not_relevant"] == ["LM.0153", "LM.0181", "LM.0214", "LM.0220", "LM.0232"]
    assert result["rows"]["skipped"] == ["LM.0204"]
    assert result["texts"] == [
        {"unit": "LM.0183", "value": "The ministry did not renew the funding, so the centre closed."},
        {"unit": "LM.0251", "value": "Staff left after the project ended."},
    ]
    assert result["counts"] is None


def test_a_select_multiple_counts_each_option_among_those_who_answered(cli: Cli, review: str) -> None:
    result = tab(cli, "--review", review, "--question", "challenges", "--language", "fr")
    assert (result["skipped"], result["answered"]) == (1, 7)
    found = counts(result)
    assert [c["value"] for c in result["counts"]] == ["funding", "data_access", "covid19", "other"]
    assert {v: c["n"] for v, c in found.items()} == {"funding": 4, "data_access": 3, "covid19": 3, "other": 1}
    assert found["funding"]["label"] == "Manque de financement"
    assert found["other"]["rows"] == ["LM.0204"]
    assert sum(c["pct"] for c in result["counts"]) == pytest.approx(100 * 11 / 7)  # several options per project
    assert all(c["in_choices"] for c in result["counts"])
    other = tab(cli, "--review", review, "--question", "challenges_other")
    assert (other["not_relevant"], other["answered"]) == (7, 1)
    assert other["texts"] == [{"unit": "LM.0204", "value": "Elections"}]


def test_numbers_are_summarised_with_a_sample_sd(cli: Cli, review: str) -> None:
    result = tab(cli, "--review", review, "--question", "beneficiaries")
    assert (result["responded"], result["skipped"], result["answered"]) == (8, 1, 7)
    values = [120, 45, 300, 80, 60, 15, 200]
    summary = result["summary"]
    assert summary["n"] == 7
    assert summary["total"] == 820
    assert summary["mean"] == pytest.approx(820 / 7, abs=1e-9)
    assert summary["median"] == 80
    assert (summary["min"], summary["max"]) == (15, 300)
    assert summary["sd"] == pytest.approx(statistics.stdev(values), abs=1e-9)
    budget = tab(cli, "--review", review, "--question", "budget")["summary"]
    assert budget["total"] == pytest.approx(466000.75)
    assert budget["median"] == 50000
    assert budget["rows"] == ["LM.0153", "LM.0181", "LM.0183", "LM.0204", "LM.0214", "LM.0232", "LM.0251"]
    dates = tab(cli, "--review", review, "--question", "project/report_date")
    assert (dates["skipped"], dates["answered"]) == (2, 6)
    assert dates["summary"] == {
        "n": 6,
        "of": 6,
        "min": "2022-12-31",
        "max": "2024-01-20",
        "rows": ["LM.0251", "LM.0153", "LM.0183", "LM.0220", "LM.0181", "LM.0204"],
    }


def test_cross_tabs_have_their_own_denominators(cli: Cli, review: str) -> None:
    result = tab(cli, "--review", review, "--question", "sustained", "--by", "region")
    assert result["by_field"] == "region"
    groups = {g["value"]: g for g in result["by"]}
    assert list(groups) == ["Africa", "Americas and the Caribbean", "Asia", "Europe"]
    africa, americas, asia = groups["Africa"], groups["Americas and the Caribbean"], groups["Asia"]
    assert (africa["units"], africa["responded"], africa["answered"]) == (5, 4, 4)
    assert {v: c["n"] for v, c in counts(africa).items()} == {"yes": 2, "no": 2}
    assert counts(africa)["yes"]["bound_high"] == pytest.approx(100 * (2 + 5 - 4) / 5)
    assert (americas["units"], americas["responded"], americas["answered"]) == (2, 0, 0)
    assert counts(americas)["yes"]["pct"] is None
    assert counts(americas)["yes"]["ci_low"] is None
    assert (counts(americas)["yes"]["bound_low"], counts(americas)["yes"]["bound_high"]) == (0.0, 100.0)
    assert (asia["units"], asia["responded"], asia["skipped"], asia["answered"]) == (4, 2, 1, 1)
    assert sum(g["units"] for g in result["by"]) == result["units"]
    assert sum(g["answered"] for g in result["by"]) == result["answered"]
    # by another question: the units without its answer are in the null group
    result = tab(cli, "--review", review, "--question", "beneficiaries", "--by", "sustained")
    assert result["by_field"] == "sustained"
    assert result["by_label"] == "Were the project outcomes sustained after the project ended?"
    assert [(g["value"], g["label"], g["units"], g["responded"], g["answered"]) for g in result["by"]] == [
        ("yes", "Yes", 4, 4, 3),
        ("no", "No", 3, 3, 3),
        (None, None, 7, 1, 1),  # the 6 projects that did not respond, and LM.0232, which skipped sustained
    ]
    no = result["by"][1]["summary"]
    assert no["mean"] == pytest.approx(120)
    assert no["sd"] == pytest.approx(statistics.stdev([45, 300, 15]), abs=1e-9)
    assert result["by"][2]["summary"]["sd"] is None  # one value


def test_drafts_do_not_count(cli: Cli, review: str, store: Store, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("project_code,name,email\nLM.0224,Ana Silva,ana@example.org\n", encoding="utf-8")
    assert cli("respondents", "import", str(roster), "--review", review).exit_code == 0
    with store.session() as session:
        found = reviews.get_review(session, review)
        respondent = session.scalars(select(Respondent)).one()
        draft = submissions.for_respondent(session, found, respondent)
        submissions.save(session, draft, {"project": {"project_code": "LM.0224"}, "sustained": "no"}, submit=False)
    result = tab(cli, "--review", review, "--question", "sustained")
    assert result["unit"] == "project"  # a roster does not change the units of a project-level form
    assert (result["responded"], result["answered"], result["drafts"]) == (8, 7, 1)
    assert "LM.0224" not in result["rows"]["responded"]


def test_the_table_shows_n_of_answered_and_the_denominators(cli: Cli, review: str, db_url: str) -> None:
    sqlite = Path(db_url.split("///", 1)[1]) if db_url.startswith("sqlite") else None

    def dump() -> list[str]:  # the content, not the bytes: a WAL checkpoint may rewrite the file on any close
        assert sqlite is not None
        with closing(sqlite3.connect(sqlite)) as connection:
            return list(connection.iterdump())

    before = dump() if sqlite else []
    run = cli("tabulate", "--review", review, "--question", "sustained", "--by", "region")
    assert run.exit_code == 0, run.stderr
    assert "Units: 14 projects · responded 8 · not relevant 0 · skipped 1 · answered 7" in run.stdout
    assert "Not counted: 3 submissions set aside (see --json), 0 drafts" in run.stdout
    line = next(line for line in run.stdout.splitlines() if "│ yes" in line)
    for cell in ("4 of 7", "57.1%", "25.0–84.2%", "28.6%", "28.6–78.6%"):
        assert cell in line
    assert "By Region" in run.stdout
    numbers = cli("tabulate", "--review", review, "--question", "beneficiaries")
    assert "n 7 of 7 answered · mean 117.14 · median 80 · sd 100.49 · min 15 · max 300 · total 820" in numbers.stdout
    if sqlite:  # tabulating is a pure read
        assert dump() == before


# --- repeats, ratings, other units -----------------------------------------------------------------------------------


def test_a_rating_scale_gets_its_mean_and_top_box(cli: Cli, ratings: str) -> None:
    result = tab(cli, "--form", "tabulate_test", "--question", "relevance")
    assert result["review"] == "rt"
    assert (result["units"], result["responded"], result["skipped"], result["answered"]) == (14, 6, 1, 5)
    assert result["likert"] is True
    summary = result["summary"]
    assert summary["mean"] == pytest.approx(4.8)
    assert summary["sd"] == pytest.approx(statistics.stdev([6, 5, 3, 6, 4]), abs=1e-9)
    box = summary["top_box"]
    assert (box["values"], box["n"], box["of"]) == (["5", "6"], 3, 5)
    assert box["pct"] == pytest.approx(60.0)
    assert box["ci_low"] == pytest.approx(100 * score_interval(3, 5)[0], abs=1e-9)
    assert box["rows"] == ["LM.0181", "LM.0183", "LM.0251"]
    assert [c["n"] for c in result["counts"]] == [0, 0, 1, 1, 1, 2]
    table = cli("tabulate", "--form", "tabulate_test", "--question", "relevance").stdout
    assert "Rating 5 or 6: 3 of 5 (60.0%, 95% CI 23.1–88.2%)" in table


def test_questions_in_a_repeat_count_instances(cli: Cli, ratings: str) -> None:
    held = tab(cli, "--review", ratings, "--question", "held")
    assert held["repeat"] == "activities"
    assert (held["responded"], held["instances"], held["answered"], held["units_with_answer"]) == (6, 4, 4, 3)
    yes = counts(held)["yes"]
    assert yes["rows"] == ["LM.0181/activities[1]/held", "LM.0214/activities[1]/held"]
    assert (yes["n"], yes["units_n"]) == (2, 2)
    assert yes["pct"] == pytest.approx(50.0)
    assert yes["pct_units"] == pytest.approx(100 * 2 / 14)
    assert yes["bound_high"] == pytest.approx(100 * (2 + 14 - 3) / 14)  # units: 3 answered, 11 did not
    people = tab(cli, "--review", ratings, "--question", "activities/participants")
    # participants is asked unless the activity was not held: LM.0183's one was not, LM.0181's second left it empty
    assert (people["instances"], people["not_relevant"], people["skipped"], people["answered"]) == (4, 1, 1, 2)
    assert people["rows"]["not_relevant"] == ["LM.0183/activities[1]/participants"]
    assert people["units_with_answer"] == 2
    assert people["summary"]["total"] == 65
    text = tab(cli, "--review", ratings, "--question", "activity")
    assert text["texts"][1] == {
        "unit": "LM.0181",
        "instance": "activities[2]/activity",
        "value": "Study on skills recognition",
    }


def test_without_a_portfolio_the_units_are_the_submissions(cli: Cli, tmp_path: Path) -> None:
    assert cli("form", "add", str(HERE / "rating-form.md")).exit_code == 0
    assert cli("review", "create", "staff", "--form", "tabulate_test").exit_code == 0
    assert cli("form", "import-responses", str(odk_zip(tmp_path)), "--form", "tabulate_test", "--review", "staff")
    result = tab(cli, "--review", "staff", "--question", "relevance")
    assert result["unit"] == "submission"
    assert (result["units"], result["responded"], result["answered"]) == (6, 6, 5)
    assert result["rows"]["skipped"] == ["uuid:0b6a9c3e-1d2f-4e5a-8b7c-6d5e4f3a2b14"]
    assert counts(result)["6"]["bound_high"] == pytest.approx(100 * (2 + 6 - 5) / 6)
    by = tab(cli, "--review", "staff", "--question", "relevance", "--by", "region")
    assert [(g["value"], g["units"]) for g in by["by"]] == [(None, 6)]  # no portfolio: no region


def test_values_outside_the_choices_are_listed_as_such(cli: Cli, ratings: str, tmp_path: Path) -> None:
    # version 2 of the form drops "partly"; LM.0181 answered version 1 with it
    newer = tmp_path / "rating-form.md"
    text = (HERE / "rating-form.md").read_text(encoding="utf-8")
    text = text.replace("| | held | partly | Partly |\n", "").replace("tabulate_test | 1 |", "tabulate_test | 2 |")
    newer.write_text(text, encoding="utf-8")
    assert cli("form", "add", str(newer)).exit_code == 0
    result = tab(cli, "--review", ratings, "--question", "held")
    assert [(c["value"], c["label"], c["n"], c["in_choices"]) for c in result["counts"]] == [
        ("yes", "Yes, as planned", 2, True),
        ("no", "No", 1, True),
        ("partly", "partly", 1, False),
    ]
    table = cli("tabulate", "--review", ratings, "--question", "held").stdout
    assert "partly (not a choice)" in table


def test_with_a_roster_and_no_portfolio_the_units_are_the_respondents(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("form", "add", str(HERE / "rating-form.md")).exit_code == 0
    assert cli("review", "create", "staff", "--form", "tabulate_test").exit_code == 0
    for name in ("Ana Silva", "Bruno Diallo", "Chen Wei"):
        assert cli("respondents", "add", name, "--review", "staff").exit_code == 0
    assert cli("form", "import-responses", str(odk_zip(tmp_path)), "--form", "tabulate_test", "--review", "staff")
    with store.session() as session:
        review = reviews.get_review(session, "staff")
        ana, bruno, _ = session.scalars(select(Respondent).order_by(Respondent.id)).all()
        done = submissions.for_respondent(session, review, ana)
        assert submissions.save(session, done, {"project_code": "LM.0181", "relevance": "5"}, submit=True).submitted
        draft = submissions.for_respondent(session, review, bruno)
        submissions.save(session, draft, {"relevance": "2"}, submit=False)
        ana_key = f"respondent:{ana.id}"
    result = tab(cli, "--review", "staff", "--question", "relevance")
    assert result["unit"] == "respondent"
    assert (result["units"], result["responded"], result["answered"], result["drafts"]) == (3, 1, 1, 1)
    assert counts(result)["5"]["rows"] == [ana_key]
    assert counts(result)["5"]["bound_high"] == pytest.approx(100.0)  # 1 of 3, and the 2 others might say 5 too
    imported = [a for a in result["set_aside"] if a["reason"] == "it comes from no respondent of the review's roster"]
    assert len(imported) == 6


def test_a_name_shared_by_two_questions_needs_its_path() -> None:
    source = (
        "| survey |\n| | type | name | label |\n| | begin group | before | Before |\n| | integer | staff | Staff |\n"
        "| | end group | | |\n| | begin group | after | After |\n| | integer | staff | Staff |\n| | end group | | |\n"
    )
    definition = parse_form(source.encode(), "twice.md").definition
    assert find_question(definition, "after/staff").path == "after/staff"
    with pytest.raises(BadInput) as caught:
        find_question(definition, "staff")
    message = '"staff" names 2 questions (before/staff, after/staff); give the path'
    assert caught.value.lines() == [f"--question: {message}"]


# --- errors ----------------------------------------------------------------------------------------------------------


ERRORS = [
    (("--review", "nope", "-q", "sustained"), "there is no review 'nope'; reviews: r16"),
    (("--form", "nope", "-q", "sustained"), "there is no form 'nope'"),
    (("-q", "sustained"), "name the review (--review NAME) or its form (--form NAME)"),
    (("--review", "r16", "-q", "sustaned"), 'form bilingual_test has no question "sustaned"; did you mean sustained'),
    (("--review", "r16", "-q", "project"), "is a group; name one of its questions: project/project_code"),
    (("--review", "r16", "-q", "outcomes"), "is a repeat; name one of its questions: outcomes/outcome"),
    (("--review", "r16", "-q", "welcome"), '"welcome" is a note, which has no answers'),
    (("--review", "r16", "-q", "sustained", "--by", "country"), 'form bilingual_test has no question "country"'),
    (("--review", "r16", "-q", "sustained", "--by", "outcome"), "cross-tabs by a repeated question are not done"),
    (("--review", "r16", "-q", "sustained", "--language", "de"), 'the form has no language "de"'),
]


def test_bad_input_is_one_line_and_exit_2(cli: Cli, review: str) -> None:
    for args, message in ERRORS:
        run = cli("tabulate", *args)
        assert run.exit_code == 2, args
        assert message in run.stderr, run.stderr
        assert "Traceback" not in run.stderr


def test_a_form_used_by_two_reviews_needs_the_review_named(cli: Cli, review: str) -> None:
    assert cli("review", "create", "r16b", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    run = cli("tabulate", "--form", "bilingual_test", "-q", "sustained")
    assert run.exit_code == 2
    assert "2 reviews use form bilingual_test (r16, r16b); name one with --review" in run.stderr
    assert tab(cli, "--review", "r16b", "-q", "sustained")["responded"] == 0  # the submissions belong to r16


def test_the_analysis_page_links_each_count_to_its_projects(cli: Cli, review: str, store: Store) -> None:
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.store.users import add_user
    from lmreview.web.app import create_app

    with store.session() as session:
        add_user(session, "viewer", "viewer", "correct-horse", actor="test")
    expected = tab(cli, "--review", "r16", "--question", "sustained")
    join_every_review(store, "viewer")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        client.post("/login", data={"name": "viewer", "password": "correct-horse", "csrf_token": str(token["value"])})
        page = BeautifulSoup(client.get("/reviews/r16/analysis").text, "html.parser")
        section = next(s for s in page.select("section.tabulation") if "sustained" in s.get_text())
        denominators = section.select_one("p.denominators")
        assert denominators is not None
        text = denominators.get_text(" ", strip=True)
        assert f"{expected['answered']} answered of {expected['units']} projects" in text
        first = expected["counts"][0]
        link = section.find("a", string=str(first["n"]))
        assert link is not None
        assert link["href"] == "/portfolios/lm2016?codes=" + "%2C".join(first["rows"])
        crossed = client.get("/reviews/r16/analysis?question=sustained&by=region")
        assert "region:" in crossed.text.lower()
        assert client.get("/api/reviews/r16/tabulate?question=sustained").json() == expected


def test_a_form_no_review_uses_counts_each_submission_as_a_respondent(cli: Cli, store: Store) -> None:
    staff = FIXTURES / "responses"
    assert cli("form", "add", str(staff / "staff-survey.md")).exit_code == 0
    run = cli("form", "import-responses", str(staff / "kobo-staff-survey.csv"), "--form", "staff_survey")
    assert run.exit_code == 0, run.stderr
    with store.session() as session:
        found = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert [s.review_id for s in found] == [None] * 4
        submissions.set_review_state(session, found[0], "rejected", actor="test", comment="a test row")
        rejected = found[0].instance_id
    result = tab(cli, "--form", "staff_survey", "--question", "staff_unit")
    assert (result["review"], result["unit"], result["units"], result["responded"]) == (None, "respondent", 3, 3)
    assert result["set_aside"] == [{"submission": rejected, "unit": rejected, "reason": "rejected by a reviewer"}]
    assert [(c["value"], c["n"]) for c in result["counts"]] == [("hq", 1), ("field", 2)]
    assert [c["pct"] for c in result["counts"]] == pytest.approx([100 / 3, 200 / 3])
    by_unit = tab(cli, "--form", "staff_survey", "--question", "support_rating", "--by", "staff_unit")
    assert [(g["value"], g["units"]) for g in by_unit["by"]] == [("hq", 1), ("field", 2)]
    # its respondents are linked to no project: a project field would put them all in one group without a value
    run = cli("tabulate", "--form", "staff_survey", "--question", "staff_unit", "--by", "region")
    assert run.exit_code == 2
    assert "none of the 3 respondents counted here is linked to a project, so none has a region" in run.stderr
    assert "by a question of the form instead: staff_unit, support_rating, topics" in run.stderr
    assert "Traceback" not in run.stderr
