"""Inter-coder agreement: the worked examples of Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability",
then the whole flow through the CLI (coders apart, the comparison opened, agreement, disagreements, consensus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lmreview.coding.agreement import measures
from lmreview.store import Store
from lmreview.store.models import AuditEvent
from tests.conftest import Cli
from tests.fixtures.coding.material import ANSWERS, MORE, answer, make_review


def _two(a: str, b: str) -> dict[str, dict[str, str | None]]:
    return {str(i): {"A": x, "B": y} for i, (x, y) in enumerate(zip(a.split(), b.split(), strict=True))}


def test_example_a_binary_two_observers() -> None:
    result = measures(_two("0 1 0 0 0 0 0 0 1 0", "1 1 1 0 0 1 0 0 0 0"), ["A", "B"])
    assert result.alpha == pytest.approx(0.095, abs=5e-4)  # published: α = 0.095
    assert result.percent_agreement == pytest.approx(60.0)
    # Cohen's κ: p_o = 0.6; p_e = 0.2·0.4 + 0.8·0.6 = 0.56; κ = 0.04 / 0.44
    assert result.kappa == pytest.approx(0.04 / 0.44)


def test_example_b_nominal_two_observers() -> None:
    result = measures(_two("a a b b d c c c e d d a", "b a b b b c c c e d d d"), ["A", "B"])
    assert result.alpha == pytest.approx(0.692, abs=5e-4)  # published: α = 0.692
    # p_o = 9/12; p_e = (3·1 + 2·4 + 3·3 + 3·3 + 1·1) / 144 = 30/144
    assert result.kappa == pytest.approx((9 / 12 - 30 / 144) / (1 - 30 / 144))


def test_example_c_nominal_four_observers_missing_values() -> None:
    observers = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    table: dict[str, dict[str, str | None]] = {}
    for coder, row in zip("ABCD", observers, strict=True):
        for unit, value in enumerate(row.split()):
            table.setdefault(str(unit), {})[coder] = None if value == "." else value
    result = measures(table, list("ABCD"))
    assert result.alpha == pytest.approx(0.743, abs=5e-4)  # published: α = 0.743 (nominal)
    assert result.kappa is None  # Cohen's κ is for two coders


def test_undefined_measures_are_null() -> None:
    result = measures(_two("0 0 0", "0 0 0"), ["A", "B"])
    assert (result.percent_agreement, result.kappa, result.alpha) == (100.0, None, None)
    assert measures({}, ["A", "B"]).percent_agreement is None


EXAMPLE_B = ("a a b b d c c c e d d a", "b a b b b c c c e d d d")


@pytest.fixture
def example(cli: Cli, tmp_path: Path, db_url: str) -> list[str]:
    """Example B coded in lmreview: twelve "actions taken" answers, an exclusive group of codes a-f."""
    make_review(cli, tmp_path, more=True)
    assert cli("coding", "codebook", "create", "letters").exit_code == 0
    for letter in "abcdef":
        assert cli("coding", "codebook", "add-code", "letters", letter).exit_code == 0
    assert cli("coding", "codebook", "add-group", "letters", "letter", *"abcdef", "--exclusive").exit_code == 0
    units = [answer(code) for code in [*ANSWERS, *MORE]]
    lines = ["source,start,end,code,coder"]
    for coder, values in zip(("ana", "ben"), EXAMPLE_B, strict=True):
        lines += [f"{unit},0,7,{value},{coder}" for unit, value in zip(units, values.split(), strict=True)]
    csv = tmp_path / "codings.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("coding", "import", str(csv), "--codebook", "letters")
    assert run.exit_code == 0, run.stderr
    return units


def test_agreement_waits_for_the_comparison(cli: Cli, example: list[str]) -> None:
    run = cli("coding", "agreement", "--review", "r", "--codebook", "letters")
    assert run.exit_code == 2
    assert "not compared yet" in run.stderr
    assert cli("coding", "disagreements", "--review", "r").exit_code == 2
    opened = cli("coding", "compare", "--review", "r", "--codebook", "letters")
    assert "Opened the comparison of letters in review r" in opened.stdout
    again = cli("coding", "compare", "--review", "r")
    assert "Already open" in again.stdout


def test_agreement_disagreements_and_consensus(cli: Cli, example: list[str], db_url: str) -> None:
    assert cli("coding", "compare", "--review", "r", "--codebook", "letters").exit_code == 0
    run = cli("coding", "agreement", "--review", "r", "--codebook", "letters", "--json")
    assert run.exit_code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    assert result["coders"] == ["ana", "ben"]
    group = result["groups"][0]
    assert group["group"] == "letter"
    assert group["units"] == 12
    assert group["alpha"] == pytest.approx(0.692, abs=5e-4)
    assert group["kappa"] == pytest.approx((9 / 12 - 30 / 144) / (1 - 30 / 144))
    assert group["percent_agreement"] == pytest.approx(75.0)
    codes = {c["code"]: c for c in result["codes"]}
    assert set(codes["a"]) == {"code", "units", "percent_agreement", "kappa", "alpha"}
    assert codes["a"]["percent_agreement"] == pytest.approx(100 * 10 / 12)  # units 1 and 12 differ
    assert (codes["e"]["kappa"], codes["e"]["alpha"]) == (pytest.approx(1.0), pytest.approx(1.0))
    assert (codes["f"]["percent_agreement"], codes["f"]["kappa"], codes["f"]["alpha"]) == (100.0, None, None)
    assert result["overall"]["units"] == 12
    assert 0 < result["overall"]["alpha"] < 1

    table = cli("coding", "agreement", "--review", "r", "--codebook", "letters")
    assert "letter (group)" in table.stdout
    assert "0.692" in table.stdout

    listed = json.loads(cli("coding", "disagreements", "--review", "r", "--codebook", "letters", "--json").stdout)
    pairs = sorted((d["codes"]["ana"], d["codes"]["ben"]) for d in listed)
    assert pairs == [(["a"], ["b"]), (["a"], ["d"]), (["d"], ["b"])]  # units 1, 12 and 5 of example B
    first = listed[0]["unit"]
    shown = cli("coding", "disagreements", "--review", "r", "--codebook", "letters")
    assert "ana: " in shown.stdout
    assert "ben: " in shown.stdout

    refused = cli("coding", "consensus", "--review", "r", "--codebook", "letters", "--unit", first, "--code", "e")
    assert refused.exit_code == 2
    assert "no coder gave" in refused.stderr
    made = cli(
        "coding",
        "consensus",
        "--review",
        "r",
        "--codebook",
        "letters",
        "--unit",
        first,
        "--code",
        listed[0]["codes"]["ben"][0],
        "--reason",
        "the answer speaks of b",
    )
    assert made.exit_code == 0, made.stderr
    assert "1 coding" in made.stdout
    after = json.loads(cli("coding", "disagreements", "--review", "r", "--codebook", "letters", "--json").stdout)
    assert len(after) == len(listed) - 1
    consensus = json.loads(cli("coding", "list", "--json", "--coders", "consensus").stdout)
    assert [(c["code"], c["memo"]) for c in consensus] == [(listed[0]["codes"]["ben"][0], "the answer speaks of b")]
    # the consensus coder stays out of the agreement unless named
    assert json.loads(cli("coding", "agreement", "--review", "r", "--json").stdout)["coders"] == ["ana", "ben"]
    store = Store(db_url)
    with store.session() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "coding_consensus")))
        assert len(events) == 1
        assert events[0].before is not None
        assert events[0].after is not None
        assert events[0].before["codes"] == {"ana": listed[0]["codes"]["ana"], "ben": listed[0]["codes"]["ben"]}
        assert events[0].after["reason"] == "the answer speaks of b"
    store.dispose()


def test_agreement_needs_two_coders(cli: Cli, example: list[str]) -> None:
    assert cli("coding", "compare", "--review", "r", "--codebook", "letters").exit_code == 0
    run = cli("coding", "agreement", "--review", "r", "--codebook", "letters", "--coders", "ana")
    assert run.exit_code == 2
    assert "two coders or more" in run.stderr
