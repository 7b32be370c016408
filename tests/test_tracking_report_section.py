"""The report's Recommendations section comes from the register once the review has recommendations there: the
HTML report and the brief print them with their units, priority and the management response."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from tests.conftest import Cli
from tests.test_report import make_review
from tests.test_tracking_register import added_id


def test_report_and_brief_print_the_register(cli: Cli, tmp_path: Path) -> None:
    make_review(cli, tmp_path)
    brief = tmp_path / "brief-before.html"
    assert cli("report", "brief", "--review", "r16", "--out", str(brief)).exit_code == 0
    before = BeautifulSoup(brief.read_text(encoding="utf-8"), "html.parser").select("ol.recommendations li")
    assert before[0].get_text(strip=True) == "Follow the outcomes of projects after they end."  # the free text

    rec = added_id(
        cli(
            "tracking", "recs", "add", "-r", "r16", "-n", "1",
            "--text", "Ask every project for an outcome report a year after it ends",
            "--unit", "PARDEV", "--priority", "high", "--time", "within a year",
        )
    )  # fmt: skip
    assert cli("tracking", "recs", "add", "-r", "r16", "-n", "2", "--text", "Publish the review").exit_code == 0
    assert (
        cli("tracking", "respond", rec, "--stance", "partially agrees", "--text", "Not for small grants").exit_code == 0
    )

    out = tmp_path / "out"
    run = cli("report", "build", "--review", "r16", "--format", "html", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    page = BeautifulSoup((out / "r16-report.html").read_text(encoding="utf-8"), "html.parser")
    heading = next(h for h in page.find_all(["h1", "h2"]) if "Recommendations" in h.get_text())
    items = heading.find_next("ul").find_all("li")  # type: ignore[union-attr]
    assert [" ".join(li.get_text().split()) for li in items] == [
        "1. Ask every project for an outcome report a year after it ends Responsible: PARDEV · Priority: high · "
        "Time: within a year · Management response: Partially agrees: Not for small grants",
        "2. Publish the review",
    ]
    assert "Follow the outcomes of projects after they end." not in page.get_text()

    brief = tmp_path / "brief.html"
    assert cli("report", "brief", "--review", "r16", "--out", str(brief)).exit_code == 0
    items = BeautifulSoup(brief.read_text(encoding="utf-8"), "html.parser").select("ol.recommendations li")
    assert [li.get_text(" ", strip=True).split(" Responsible")[0] for li in items] == [
        "1. Ask every project for an outcome report a year after it ends",
        "2. Publish the review",
    ]
