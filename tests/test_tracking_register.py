"""The recommendations register from the CLI: recommendations, management responses, key actions with progress
comments, the audited history, and `tracking status` with its implementation rate and overdue actions."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import Cli, Run

TODAY = dt.date.today()


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def added_id(run: Run) -> str:
    """The id a `recs add` or `action add` printed (ids are not reset between tests on PostgreSQL)."""
    assert run.exit_code == 0, run.stderr
    found = re.search(r"(?:\(id |key action )(\d+)", run.stdout)
    assert found is not None, run.stdout
    return found[1]


def register(cli: Cli, review: str = "r16") -> tuple[dict[str, str], list[str]]:
    """A review with three recommendations (their ids by number) and four key actions (their ids): one overdue,
    one completed on time, one due later, one no longer applicable."""
    assert cli("review", "create", review).exit_code == 0
    recs: dict[str, str] = {}
    for number, text, unit in (
        ("1", "Publish a results framework for the Fund", "PARDEV"),
        ("2", "Fund fewer, larger projects", "MIGRANT"),
        ("10", "Share final reports with the evaluation office", "EVAL"),
    ):
        recs[number] = added_id(
            cli("tracking", "recs", "add", "-r", review, "-n", number, "--text", text, "--unit", unit)
        )
    actions = []
    for number, description, unit, due, status in (
        ("1", "Draft the framework", "PARDEV", days(-30), "initiated"),
        ("1", "Train project managers", "PARDEV", days(-5), "completed"),
        ("2", "Raise the minimum grant", "MIGRANT", days(90), "not initiated"),
        ("10", "Set up a shared folder", "EVAL", days(-60), "no longer applicable"),
    ):
        args = ("-d", description, "--unit", unit, "--due", due, "--status", status)
        actions.append(added_id(cli("tracking", "action", "add", recs[number], *args)))
    return recs, actions


def test_register_response_actions_and_status(cli: Cli) -> None:
    recs, actions = register(cli)
    run = cli(
        "tracking", "respond", recs["1"], "--stance", "Agrees", "--text", "Work has started", "--by", "PARDEV chief"
    )
    assert run.exit_code == 0, run.stderr
    assert "management agrees" in run.stdout
    assert (
        cli("tracking", "respond", recs["2"], "--stance", "partially agree", "--text", "Within the budget").exit_code
        == 0
    )

    data = json.loads(cli("tracking", "status", "--review", "r16", "--json").stdout)
    assert data == {
        "recommendations": 3,
        "responses": {"agrees": 1, "partially_agrees": 1, "disagrees": 0, "no_response": 1},
        "actions": {
            "total": 4,
            "not_initiated": 1,
            "initiated": 1,
            "completed": 1,
            "no_longer_applicable": 1,
            "overdue": 1,
        },
        # due: "Draft the framework" and "Train project managers" (not the one due later, not the one dropped)
        "implementation_rate": 0.5,
    }
    text = cli("tracking", "status").stdout
    assert f"Implementation rate: 50.0% (1 completed of 2 due: actions {actions[0]}, {actions[1]})" in text
    assert f"overdue 30 days: action {actions[0]} (r16 rec. 1), PARDEV" in text

    # the list sorts numbers as numbers and filters by response
    listed = json.loads(cli("tracking", "recs", "list", "--json").stdout)
    assert [r["number"] for r in listed] == ["1", "2", "10"]
    assert listed[0]["response"] == {
        "stance": "agrees",
        "text": "Work has started",
        "by": "PARDEV chief",
        "on": str(TODAY),
    }
    assert listed[0]["actions"][0]["overdue"] is True
    assert listed[0]["actions"][0]["days_overdue"] == 30
    partial = json.loads(cli("tracking", "recs", "list", "--status", "partially agrees", "--json").stdout)
    assert [r["number"] for r in partial] == ["2"]
    assert "Fund fewer, larger projects" in cli("tracking", "recs", "list").stdout


def test_rate_is_unrounded_and_null_when_nothing_is_due(cli: Cli) -> None:
    assert cli("review", "create", "r").exit_code == 0
    rec = added_id(cli("tracking", "recs", "add", "-r", "r", "-n", "1", "--text", "Do it"))
    empty = json.loads(cli("tracking", "status", "--json").stdout)
    assert empty["implementation_rate"] is None
    assert empty["actions"]["total"] == 0
    assert cli("tracking", "action", "add", rec, "-d", "later", "--due", days(10)).exit_code == 0
    assert json.loads(cli("tracking", "status", "--json").stdout)["implementation_rate"] is None
    assert "no key action is due yet" in cli("tracking", "status").stdout
    for status in ("completed", "initiated", "initiated"):
        assert cli("tracking", "action", "add", rec, "-d", "x", "--due", days(-1), "--status", status).exit_code == 0
    assert json.loads(cli("tracking", "status", "--json").stdout)["implementation_rate"] == 1 / 3


def test_progress_comment_with_a_file_and_the_history(cli: Cli, tmp_path: Path) -> None:
    recs, actions = register(cli)
    note = tmp_path / "note.txt"
    note.write_text("guidance note v1", encoding="utf-8")
    first = actions[0]
    run = cli("tracking", "action", "update", first, "--status", "completed", "-m", "Note issued", "--file", str(note))
    assert run.exit_code == 0, run.stderr
    assert f"Key action {first}: completed." in run.stdout
    run = cli("tracking", "action", "update", first, "--due", days(-1), user="alice")
    assert run.exit_code == 0, run.stderr
    shown = cli("tracking", "recs", "show", recs["1"]).stdout
    assert f"{TODAY} tester: Note issued [note.txt]" in shown
    history = shown.split("history:")[1].strip().splitlines()
    assert f"alice: key action {first}: due_date" in history[0]
    assert f"tester: key action {first}: comment, status" in history[1]
    assert history[-1].endswith("tester: added recommendation 1 of r16")
    assert json.loads(cli("tracking", "status", "--json").stdout)["actions"]["overdue"] == 0


def test_mistakes_are_refused_and_change_nothing(cli: Cli) -> None:
    recs, actions = register(cli)
    rec, action = recs["1"], actions[0]
    before = cli("tracking", "recs", "list", "--json").stdout
    cases = [
        (("tracking", "recs", "add", "-r", "r16", "-n", "1", "--text", "again"), "already has a recommendation 1"),
        (("tracking", "recs", "add", "-r", "nope", "-n", "1", "--text", "x"), "nope"),
        (("tracking", "respond", rec, "--stance", "maybe"), "'maybe' is not a stance"),
        (("tracking", "respond", rec, "--stance", "disagrees"), "say why"),
        (("tracking", "respond", "999999", "--stance", "agrees"), "there is no recommendation 999999"),
        (("tracking", "action", "add", rec, "-d", "x", "--due", "31/02/2027"), "'31/02/2027' is not a date"),
        (("tracking", "action", "add", rec, "-d", "x", "--status", "done-ish"), "'done-ish' is not a status"),
        (("tracking", "action", "update", action), "nothing to change"),
        (("tracking", "action", "update", "999999", "--status", "completed"), "there is no key action 999999"),
        (("tracking", "unit", "set", "PARDEV", "--email", "not-an-address"), "is not an e-mail address"),
        (("tracking", "recs", "add", "-r", "r16", "-n", "4", "--text", "x", "--unit", "U" * 121), "longer than 120"),
    ]
    for args, message in cases:
        run = cli(*args)
        assert run.exit_code == 2, (args, run.stdout)
        assert message in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr
    assert cli("tracking", "recs", "list", "--json").stdout == before


def test_units_and_filters(cli: Cli) -> None:
    register(cli)
    assert cli("tracking", "unit", "set", "PARDEV", "--email", "pardev@example.org").exit_code == 0
    units = cli("tracking", "unit", "list").stdout
    for expected in ("pardev@example.org", "MIGRANT", "never"):
        assert expected in units
    data = json.loads(cli("tracking", "status", "--unit", "PARDEV", "--json").stdout)
    assert data["recommendations"] == 1
    assert data["actions"]["total"] == 2
    assert data["implementation_rate"] == 0.5
    assert json.loads(cli("tracking", "status", "--year", "2019", "--json").stdout)["recommendations"] == 0


def test_a_recommendation_found_in_an_evidence_document(cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "evaluation.txt"
    report.write_text("Evaluation of project LM.0181\n\nRecommendation 1: Publish the fees.\n", encoding="utf-8")
    added = cli("evidence", "add", str(report))
    found = re.search(r"added (\d+):", added.stdout)
    assert found is not None, added.stderr
    document = found[1]
    rec = added_id(
        cli("tracking", "recs", "add", "--document", document, "--page", "1", "-n", "1", "--text", "Publish the fees")
    )
    second = cli("tracking", "recs", "add", "--document", document, "-n", "2", "--text", "Audit the agencies")
    assert f"Added recommendation 2 of document {document} (id " in second.stdout
    listed = json.loads(cli("tracking", "recs", "list", "--json").stdout)
    assert [(r["review"], r["document_id"], r["page"], r["source"]) for r in listed] == [
        (None, int(document), 1, f"document {document}"),
        (None, int(document), None, f"document {document}"),
    ]
    assert f"Recommendation 1 of document {document}, page 1" in cli("tracking", "recs", "show", rec).stdout
    for args, message in (
        (("-n", "3", "--text", "x"), "a recommendation comes from a review or from an evidence document"),
        (("--document", document, "-n", "1", "--text", "x"), f"document {document} already has a recommendation 1"),
        (("--document", document, "--page", "9", "-n", "3", "--text", "x"), f"document {document} has pages 1 to 1"),
        (("--document", "999999", "-n", "3", "--text", "x"), "there is no document 999999"),
    ):
        run = cli("tracking", "recs", "add", *args)
        assert run.exit_code == 2, args
        assert message in run.stderr, (args, run.stderr)

    # the matrix carries it as "document N" and reads it back
    matrix = tmp_path / "matrix.xlsx"
    assert cli("tracking", "export", "-o", str(matrix)).exit_code == 0
    book = load_workbook(matrix)
    sheet = book["Matrix"]
    assert sheet["A2"].value == f"document {document}"
    sheet["F2"] = "Agrees"
    sheet["J2"], sheet["L2"] = "Publish the fee schedule", days(30)
    book.save(matrix)
    run = cli("tracking", "import", str(matrix))
    assert run.exit_code == 0, run.stderr
    assert "1 responses, 1 key actions added" in run.stdout


def test_correcting_a_recommendation_is_audited(cli: Cli) -> None:
    recs, _actions = register(cli)
    run = cli("tracking", "recs", "set", recs["2"], "--units", "MIGRANT; RO Dakar", "--priority", "", "--year", "2017")
    assert run.exit_code == 0, run.stderr
    rec = next(r for r in json.loads(cli("tracking", "recs", "list", "--json").stdout) if r["id"] == int(recs["2"]))
    assert (rec["units"], rec["priority"], rec["year"]) == (["MIGRANT", "RO Dakar"], None, 2017)
    assert "RO Dakar" in cli("tracking", "unit", "list").stdout
    history = cli("tracking", "recs", "show", recs["2"]).stdout.split("history:")[1].splitlines()
    assert history[1].endswith("tester: recommendation 2: units, year")
    for args, message in (
        ((), "name a field to change"),
        (("--text", " "), "a recommendation needs its text"),
        (("--year", "2017"), "nothing to change"),
    ):
        run = cli("tracking", "recs", "set", recs["2"], *args)
        assert run.exit_code == 2, args
        assert message in run.stderr, (args, run.stderr)
