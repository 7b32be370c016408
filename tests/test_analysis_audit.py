"""``lmreview audit``: printed numbers that do not add up, in txt, docx and pdf reports, and against the data.

The seed reports hold real inconsistencies the audit must find, and every finding on them must be one (precision);
drafts generated here with planted errors measure recall. The figures are quoted in docs/audit.md.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument

from lmreview.analysis.audit import audit_text
from lmreview.analysis.audit_survey import SurveyFigures, survey_figures
from lmreview.analysis.documents import text_blocks
from lmreview.errors import BadInput
from lmreview.portfolio.stats import PortfolioStats, portfolio_stats
from lmreview.questionnaire.reviews import get_review
from lmreview.settings import database_url
from lmreview.store import Store
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli

AUDIT = FIXTURES / "audit"
SEED_001 = "001_1da8830a048daebe.txt"
SEED_000 = "000_35b290caad1e23ca.txt"

# Every finding on the four seeds, checked by hand against the printed tables and text.
SEED_FINDINGS: dict[str, list[dict[str, str]]] = {
    SEED_000: [  # §4.1: "Middle East (three projects, 11 per cent)" of the 39 projects: 3/39 = 7.7%
        {
            "location": "line 544",
            "claim": "(three projects, 11 per cent)",
            "expected": "8 per cent",
            "rule": "percentage of stated total",
        }
    ],
    SEED_001: [  # the regional table: 831,000 and 270,000 of 3,510,669 (23.67%, 7.69%); 11 of 26 projects (42.31%)
        {"location": "line 150", "claim": "AFRICA: 831,000 (23.5%)", "expected": "23.7%", "rule": "share of total row"},
        {"location": "line 151", "claim": "ASIA: 11 (42.5%)", "expected": "42.3%", "rule": "share of total row"},
        {"location": "line 152", "claim": "EUROPE: 270,000 (7.5%)", "expected": "7.7%", "rule": "share of total row"},
    ],
    "002_16d39a6f8f6180f8.txt": [],
    "003_a376bf81c1e29c42.txt": [],
}


@pytest.fixture
def plain(tmp_path: Path) -> Cli:
    """The CLI for audits without --portfolio, which never open the store (so they run once, not per backend)."""
    return Cli(database_url(str(tmp_path / "never-created.db")))


def audit(cli: Cli, path: Path, *options: str) -> list[dict[str, str]]:
    run = cli("audit", str(path), "--json", *options)
    assert run.exit_code == 0, run.stderr
    findings: list[dict[str, str]] = json.loads(run.stdout)
    return findings


def load(cli: Cli, name: str) -> None:
    run = cli("portfolio", "import", str(SAMPLES / f"{name}.csv"))
    assert run.exit_code == 0, run.stderr


# --- the seed reports ---------------------------------------------------------------------------------------------


@pytest.mark.seeds
@pytest.mark.parametrize("name", SEED_FINDINGS)
def test_every_finding_on_the_seed_reports_is_a_real_inconsistency(plain: Cli, seeds: Path, name: str) -> None:
    assert audit(plain, seeds / name) == SEED_FINDINGS[name]


@pytest.mark.seeds
def test_the_2016_regional_table_is_reported_with_a_summary(plain: Cli, seeds: Path) -> None:
    run = plain("audit", str(seeds / SEED_001))
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == f"3 numbers do not add up in {SEED_001} (checked 19)"
    row = next(line for line in lines if "AFRICA: 831,000 (23.5%)" in line)
    assert "line 150" in row
    assert "23.7%" in row
    assert "share of total row" in row


@pytest.mark.seeds
def test_the_2016_figures_agree_with_the_lm2016_sample(cli: Cli, seeds: Path) -> None:
    """Budget total, mean and median, length and NCE of 001 match lmreview's figures; the 26-project tables are about
    other projects than the 14 of lm2016 and are not compared."""
    load(cli, "lm2016")
    assert audit(cli, seeds / SEED_001, "--portfolio", "lm2016") == SEED_FINDINGS[SEED_001]
    run = cli("audit", str(seeds / SEED_001), "--portfolio", "lm2016")
    assert run.stdout.splitlines()[-1] == (
        f"3 numbers do not add up or differ from portfolio lm2016 in {SEED_001} "
        "(checked 31; 41 figures about other projects not compared)"
    )


@pytest.mark.seeds
def test_a_wrong_figure_planted_in_the_2016_report_is_found(cli: Cli, seeds: Path, tmp_path: Path) -> None:
    load(cli, "lm2016")
    text = (seeds / SEED_001).read_text(encoding="utf-8")
    for right, wrong in [
        ("USD 117,857.14", "USD 118,857.14"),
        ("with a median of 18 months", "with a median of 19 months"),
        ("The maximum extension was 13 months", "The maximum extension was 12 months"),
    ]:
        assert right in text
        text = text.replace(right, wrong)
    draft = tmp_path / "001-draft.txt"
    draft.write_text(text, encoding="utf-8")
    planted = [f for f in audit(cli, draft, "--portfolio", "lm2016") if f["rule"].startswith("against the data")]
    assert planted == [
        {
            "location": "line 162",
            "claim": "average budget allocation was USD 118,857.14",
            "expected": "USD 117,857.14",
            "rule": "against the data: mean budget (USD)",
        },
        {
            "location": "line 163",
            "claim": "median of 19 months",
            "expected": "18 months",
            "rule": "against the data: median duration (months)",
        },
        {
            "location": "line 164",
            "claim": "maximum extension was 12 months",
            "expected": "13 months",
            "rule": "against the data: max no-cost extension (months)",
        },
    ]


@pytest.mark.seeds
def test_the_2022_regional_shares_of_39_projects_are_not_compared_with_the_27_completed(cli: Cli, seeds: Path) -> None:
    load(cli, "lm2022")
    assert audit(cli, seeds / SEED_000, "--portfolio", "lm2022") == SEED_FINDINGS[SEED_000]


# --- a draft of the 2016 review, and the file formats ------------------------------------------------------------


def test_a_draft_is_checked_within_itself_and_against_the_portfolio(cli: Cli) -> None:
    draft = AUDIT / "draft-lm2016.txt"
    asia = {"location": "line 13", "claim": "Asia: 550,000 (35.3%)", "expected": "33.3%"}
    assert audit(cli, draft) == [asia | {"rule": "share of total row"}]
    load(cli, "lm2016")
    assert audit(cli, draft, "--portfolio", "lm2016") == [
        {
            "location": "line 6",
            "claim": "median of 19 months",
            "expected": "18 months",
            "rule": "against the data: median duration (months)",
        },
        asia | {"rule": "share of total row"},
        asia | {"rule": "against the data: budget share of region Asia"},
    ]
    run = cli("audit", str(draft), "--portfolio", "lm2016")
    assert run.stdout.splitlines()[-1] == (
        "2 numbers do not add up or differ from portfolio lm2016 in draft-lm2016.txt (checked 45)"
    )


def test_numbers_that_only_look_like_shares_are_not_flagged(plain: Cli) -> None:
    """Identifiers, years, a share of a share ("of which"), truncated shares, row percentages, a total that is a base
    (several answers per project), a % column of another quantity, rounded thousands, a table of contents."""
    run = plain("audit", str(AUDIT / "traps.txt"))
    assert run.stdout == "0 numbers do not add up in traps.txt (checked 22)\n"


def test_a_cross_tab_is_read_by_rows(plain: Cli, tmp_path: Path) -> None:
    report = tmp_path / "crosstab.txt"
    rows = ["REGION\tYES\tNO", "Africa\t6 (60%)\t4 (40%)", "Asia\t9 (40%)\t11 (55%)", "Total\t15 (50%)\t15 (50%)"]
    report.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert audit(plain, report) == [
        {"location": "line 3", "claim": "Asia: 9 (40%)", "expected": "45%", "rule": "share of row total"}
    ]


def test_the_readable_output_is_a_table_and_a_summary(plain: Cli) -> None:
    run = plain("audit", str(AUDIT / "draft-lm2016.txt"))
    assert run.exit_code == 0
    assert "Asia: 550,000 (35.3%)" in run.stdout
    assert run.stdout.splitlines()[-1] == "1 number does not add up in draft-lm2016.txt (checked 12)"


def test_a_report_without_findings_says_so(plain: Cli, tmp_path: Path) -> None:
    report = tmp_path / "clean.txt"
    report.write_text("Of the 26 projects, 10 (38.5%) are Line 1 and 16 (61.5%) are Line 2.\n", encoding="utf-8")
    run = plain("audit", str(report))
    assert run.exit_code == 0
    assert run.stdout == "0 numbers do not add up in clean.txt (checked 2)\n"
    assert audit(plain, report) == []
    assert not (tmp_path / "never-created.db").exists()  # an audit without --portfolio never opens the store


def test_word_paragraphs_and_table_rows_are_located(plain: Cli, tmp_path: Path) -> None:
    document = WordDocument()
    document.add_heading("Review of labour migration projects", level=1)
    document.add_paragraph("The 26 projects fall into two lines: 10 (40%) are Line 1 and 16 (61.5%) are Line 2.")
    table = document.add_table(rows=0, cols=3)
    for cells in [
        ("Region", "Projects", "Budget (USD)"),
        ("Africa", "6 (23%)", "831,000 (23.5%)"),
        ("Asia", "11 (42.3%)", "1,750,000 (50%)"),
        ("Other", "9 (34.6%)", "929,669 (26.5%)"),
        ("Total", "26 (100%)", "3,510,669 (100%)"),
    ]:
        row = table.add_row().cells
        for cell, text in zip(row, cells, strict=True):
            cell.text = text
    path = tmp_path / "draft.docx"
    document.save(str(path))
    assert audit(plain, path) == [
        {"location": "paragraph 2", "claim": "10 (40%)", "expected": "38%", "rule": "percentage of stated total"},
        {
            "location": "table 1 row 2",
            "claim": "Africa: 831,000 (23.5%)",
            "expected": "23.7%",
            "rule": "share of total row",
        },
    ]


def minimal_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF whose pages hold these lines of text in Helvetica (pypdf reads them back line by line)."""
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    font = 3 + 2 * count
    for i, lines in enumerate(pages):
        shown = ["(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for line in lines]
        stream = "\n".join(["BT /F1 11 Tf 14 TL 72 760 Td", *shown, "ET"]).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_pages_and_lines_are_located_and_tables_read_from_their_layout(plain: Cli, tmp_path: Path) -> None:
    path = tmp_path / "review.pdf"
    path.write_bytes(
        minimal_pdf(
            [
                ["Review of labour migration projects", "", "Of the 26 projects, 7 (27%) were funded in 2012."],
                [
                    "Number of projects and budget per region",
                    "AMERICAS AND THE CARIBBEAN 5 (19%) 561,192 (16%)",
                    "AFRICA 6 (23%) 831,000 (23.5%)",
                    "ASIA 11 (42.3%) 1,750,000 (50%)",
                    "EUROPE 3 (11.5%) 270,000 (7.5%)",
                    "GLOBAL 1 (4%) 98,477 (3%)",
                    "TOTAL 26 (100%) 3,510,669.00 (100%)",
                ],
            ]
        )
    )
    assert [(f["location"], f["expected"]) for f in audit(plain, path)] == [
        ("page 2 line 3", "23.7%"),
        ("page 2 line 5", "7.7%"),
    ]
    path.write_bytes(minimal_pdf([["Of the 26 projects, 7 (29%) were funded in 2012."]]))
    assert audit(plain, path) == [
        {"location": "page 1 line 1", "claim": "7 (29%)", "expected": "27%", "rule": "percentage of stated total"}
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.csv", b"a,b\n", '"\\.csv" files cannot be audited; give a \\.txt, \\.docx or \\.pdf file'),
        ("missing.txt", None, "no such file"),
        # the evidence library's reader and its reasons (lmreview.evidence.reading.read_docx_body)
        ("report.docx", b"not a zip", "this is not a DOCX document \\(not a zip file, or a damaged one\\)"),
        ("report.docx", b"PK\x03\x04broken", "this is not a DOCX document \\(not a zip file, or a damaged one\\)"),
        ("report.pdf", b"<html></html>", "this is not a PDF file"),
        ("report.pdf", b"%PDF-1.4\nbroken", "the PDF is damaged and cannot be read"),
        ("scan.pdf", None, "this PDF has no text to read"),
        ("latin1.txt", "Région 5 (19 %)".encode("latin-1"), "the file is not UTF-8 text"),
        ("README", b"5 (19%)", "files without an extension cannot be audited"),
        ("folder", None, "this is a folder, not a file"),
    ],
)
def test_a_file_that_cannot_be_audited_is_refused_with_status_2(
    plain: Cli, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if name == "scan.pdf":
        path.write_bytes(minimal_pdf([[]]))
    elif name == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    run = plain("audit", str(path))
    assert run.exit_code == 2
    assert re.search(message, run.stderr), run.stderr
    assert str(path) in run.stderr
    assert run.stderr.splitlines()[-1] == f"error: cannot audit {name}"
    assert "Traceback" not in run.stderr


def test_an_unknown_portfolio_is_refused(cli: Cli) -> None:
    run = cli("audit", str(AUDIT / "draft-lm2016.txt"), "--portfolio", "nope")
    assert run.exit_code == 2
    assert "nope" in run.stderr


# --- drafts with planted errors: recall, and precision beyond the seeds --------------------------------------------

REGIONS = ["Africa", "Asia and Oceania", "Europe", "Middle East", "Latin America and the Caribbean", "Global"]
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def agrees(printed: Decimal, exact: Decimal, places: int) -> bool:
    """The audit's reading of a printed number, written out again here: rounded half up or down, or truncated."""
    q = Decimal(1).scaleb(-places)
    return printed in {exact.quantize(q, mode) for mode in (ROUND_HALF_UP, ROUND_HALF_DOWN, ROUND_DOWN)}


@dataclass
class Draft:
    """A small report written line by line; ``planted`` holds (line number, printed text) of each planted error."""

    rng: random.Random
    wrong: set[str]
    lines: list[str] = field(default_factory=list)
    planted: list[tuple[int, str]] = field(default_factory=list)

    def pct(
        self, slot: str, n: int | Decimal, of: Decimal, places: int, unit: str = "%", also: tuple[Decimal, ...] = ()
    ) -> str:
        """n of ``of`` as printed; in a planted slot, a value that no reading of n / of (or of ``also``) gives."""
        q = Decimal(1).scaleb(-places)
        value = (100 * Decimal(n) / of).quantize(q, ROUND_HALF_UP)
        if slot in self.wrong:
            while not value or any(agrees(value, 100 * Decimal(n) / t, places) for t in (of, *also)):
                value += self.rng.choice([-1, 1]) * self.rng.randint(1, 12) * q * (5 if places else 1)
                value = abs(value)
            self.planted.append((len(self.lines) + 1, f"{value}{unit}"))
        return f"{value}{unit}"


def internal_draft(rng: random.Random, errors: int) -> Draft:
    regions = rng.sample(REGIONS, rng.randint(3, 6))
    counts = [rng.randint(1, 12) for _ in regions]
    budgets = [rng.randint(20, 900) * 1000 + rng.choice([0, rng.randint(1, 999)]) for _ in regions]
    n, money, places = sum(counts), sum(budgets), rng.choice([0, 1])
    lines_a = rng.randint(1, n - 1) if n > 1 else 1
    lines_b = n - lines_a
    slots = [f"count {r}" for r in regions] + [f"budget {r}" for r in regions] + ["total count", "total budget"]
    slots += [f"of {r}" for r in regions] + ["line 1", "line 2", "delays"] + [f"words {r}" for r in regions]
    years = [rng.randint(1, 9) for _ in range(rng.randint(3, 5))]
    slots += [f"year {i}" for i in range(len(years))] + [f"by year {i}" for i in range(len(years))]
    draft = Draft(rng, set(rng.sample(slots, errors)))
    add = draft.lines.append
    add("Review of labour migration projects (draft)")
    add("")
    per_year = [
        f"{2016 + i}: {c} ({draft.pct(f'by year {i}', c, Decimal(sum(years)), 0)})" for i, c in enumerate(years)
    ]
    add(f"By funding year: {', '.join(per_year)}.")
    add("")
    add("FUNDING YEAR\tPROJECTS\t%")
    for i, c in enumerate(years):
        add(f"{2016 + i}\t{c}\t{draft.pct(f'year {i}', c, Decimal(sum(years)), 1)}")
    add(f"Total\t{sum(years)}\t100.0%")
    add("")
    add("REGION\tPROJECTS\tBUDGET (USD)")
    # the TOTAL row is written last but decided first, so that planted shares disagree with it too
    stated_n = n + (rng.choice([-3, -2, -1, 1, 2, 3]) if "total count" in draft.wrong else 0)
    stated_money = money + (rng.choice([-3, -2, -1, 1, 2, 3]) * 1000 if "total budget" in draft.wrong else 0)
    for region, count, budget in zip(regions, counts, budgets, strict=True):
        share = draft.pct(f"count {region}", count, Decimal(n), places, also=(Decimal(stated_n),))
        budget_share = draft.pct(f"budget {region}", budget, Decimal(money), 1, also=(Decimal(stated_money),))
        add(f"{region}\t{count} ({share})\t{budget:,} ({budget_share})")
    if stated_n != n:
        draft.planted.append((len(draft.lines) + 1, f"{stated_n} (100%)"))
    if stated_money != money:
        draft.planted.append((len(draft.lines) + 1, f"{stated_money:,} (100%)"))
    add(f"TOTAL\t{stated_n} (100%)\t{stated_money:,} (100%)")
    add("")
    parts = [
        f"{c} ({draft.pct(f'of {r}', c, Decimal(n), places)}) are in {r}" for r, c in zip(regions, counts, strict=True)
    ]
    add(f"Of the {n} projects, {', '.join(parts)}.")
    a, b = draft.pct("line 1", lines_a, Decimal(n), 1), draft.pct("line 2", lines_b, Decimal(n), 1)
    add(f"The {n} projects fall into two lines: {lines_a} ({a}) are Line 1 and {lines_b} ({b}) are Line 2.")
    delayed = rng.randint(1, n)
    add(f"Delays affected {delayed} of {n} projects ({draft.pct('delays', delayed, Decimal(n), 0)}).")
    worded = [
        f"{r} ({WORDS[c] if c < len(WORDS) else c} project{'s' if c > 1 else ''}, "
        f"{draft.pct(f'words {r}', c, Decimal(n), 0, ' per cent')})"
        for r, c in zip(regions, counts, strict=True)
    ]
    add(f"All {n} projects were reviewed; by region: {', '.join(worded)}.")
    return draft


def score(drafts: list[tuple[Draft, list[dict[str, str]]]]) -> tuple[float, float, str]:
    """ "recall found/planted, precision true/findings": a planted error is found by a finding on its line that
    prints its value; a finding that prints no planted value is false."""
    planted = found = true = findings = 0
    for draft, printed in drafts:
        hits = [
            [f for f in printed if f["location"] == f"line {line}" and text in f["claim"]]
            for line, text in draft.planted
        ]
        planted, found = planted + len(hits), found + sum(1 for h in hits if h)
        findings += len(printed)
        true += sum(1 for f in printed if any(f in h for h in hits))
    recall, precision = found / planted, true / findings
    return recall, precision, f"recall {found}/{planted} = {recall:.1%}, precision {true}/{findings} = {precision:.1%}"


def audit_drafts(
    drafts: list[Draft],
    cli: Cli,
    tmp_path: Path,
    figures: PortfolioStats | None = None,
    by_cli: int = 8,
    survey: SurveyFigures | None = None,
) -> list[tuple[Draft, list[dict[str, str]]]]:
    """The findings on each draft: the first ``by_cli`` through ``lmreview audit --json`` (which must print what the
    library returns), the others from :func:`audit_text` directly, to keep the file fast. With ``survey``, the
    command is given --review (``figures`` must then be the review's portfolio)."""
    results = []
    for i, draft in enumerate(drafts):
        text = "\n".join(draft.lines) + "\n"
        findings = [f.as_json() for f in audit_text(text_blocks(text), figures, survey).findings]
        if i < by_cli:
            path = tmp_path / f"draft-{i}.txt"
            path.write_text(text, encoding="utf-8")
            options = ["--review", survey.review] if survey else ["--portfolio", figures.portfolio] if figures else []
            assert audit(cli, path, *options) == findings
        results.append((draft, findings))
    return results


def test_planted_shares_and_totals_are_found(plain: Cli, tmp_path: Path) -> None:
    rng = random.Random(2016)
    drafts = [internal_draft(rng, errors=i % 4) for i in range(200)]
    recall, precision, summary = score(audit_drafts(drafts, plain, tmp_path))
    assert precision == 1, summary  # quoted in docs/audit.md
    assert recall >= 0.95, summary


def data_draft(rng: random.Random, stats: dict[str, Any], errors: int) -> Draft:
    """A draft of a portfolio's overview written from ``lmreview stats --json``, with wrong figures planted."""
    regions = [r for r in stats["by_region"] if r["value"]]
    slots = ["total", "mean", "median", "duration mean", "duration median", "longest", "nce mean", "nce median"]
    slots += [f"{what} {r['value']}" for r in regions for what in ("table share", "budget share", "prose budget")]
    draft = Draft(rng, set(rng.sample(slots, errors)))
    add = draft.lines.append

    def money(slot: str, value: float, places: int = 0) -> str:
        exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if slot in draft.wrong:
            exact += rng.choice([-1, 1]) * rng.randint(1, 40) * 1000
            draft.planted.append((len(draft.lines) + 1, f"{exact:,.{places}f}"))
        return f"USD {exact:,.{places}f}"

    def months(slot: str, value: float, places: int) -> str:
        exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if slot in draft.wrong:
            exact += rng.choice([-1, 1]) * rng.randint(1, 4)
            draft.planted.append((len(draft.lines) + 1, f"{exact} months"))
        return f"{exact} months"

    budget, length, nce = stats["budget_usd"], stats["duration_months"], stats["nce_months"]
    n, money_total = stats["projects"], Decimal(str(budget["total"]))
    add("Portfolio overview (draft)")
    add("")
    add(
        f"The review covers all {n} projects. Their total budget was {money('total', budget['total'], 2)}; "
        f"the average budget was {money('mean', budget['mean'], 2)} and the median "
        f"{money('median', budget['median'], 2)}."
    )
    add(
        f"The average length of the projects was {months('duration mean', length['mean'], 1)}, with a median of "
        f"{months('duration median', length['median'], 0)}; the longest lasted {months('longest', length['max'], 0)}."
    )
    add(
        f"The average extension was {months('nce mean', nce['mean'], 1)} and the median extension "
        f"{months('nce median', nce['median'], 0)}."
    )
    add("")
    add("REGION\tPROJECTS\tBUDGET (USD)")
    for r in regions:
        share = draft.pct(f"table share {r['value']}", r["projects"], Decimal(n), 1)
        add(
            f"{r['value']}\t{r['projects']} ({share})\t{Decimal(str(r['budget_usd'])):,.0f} "
            f"({(100 * Decimal(str(r['budget_usd'])) / money_total).quantize(Decimal('0.1'), ROUND_HALF_UP)}%)"
        )
    add(f"TOTAL\t{n} (100%)\t{money_total:,.0f} (100%)")
    add("")
    for r in regions:
        share = draft.pct(f"budget share {r['value']}", Decimal(str(r["budget_usd"])), money_total, 1)
        amount = money(f"prose budget {r['value']}", r["budget_usd"])
        add(f"{r['value']} received {share} of the budget ({amount}).")
    return draft


def test_planted_wrong_figures_are_found_against_the_portfolio(cli: Cli, tmp_path: Path) -> None:
    load(cli, "lm2016")
    stats = json.loads(cli("stats", "--portfolio", "lm2016", "--json").stdout)
    store = Store(cli.url)
    with store.session() as session:
        figures = portfolio_stats(session, "lm2016")
    store.dispose()
    rng = random.Random(14)
    drafts = [data_draft(rng, stats, errors=i % 4) for i in range(100)]
    recall, precision, summary = score(audit_drafts(drafts, cli, tmp_path, figures))
    assert precision == 1, summary  # quoted in docs/audit.md
    assert recall >= 0.95, summary


# --- against the answers of a review's questionnaire -----------------------------------------------------------------


@pytest.fixture
def review(cli: Cli) -> str:
    """Review r16 of tests/test_analysis_tabulate.py: lm2016 (14 projects), the bilingual test form, and the eleven
    Kobo submissions of tests/fixtures/tabulate/kobo-tabulate.csv (7 projects answered the challenges)."""
    load(cli, "lm2016")
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    source = str(FIXTURES / "tabulate" / "kobo-tabulate.csv")
    run = cli("form", "import-responses", source, "--form", "bilingual_test", "--review", "r16")
    assert run.exit_code == 0, run.stderr
    return "r16"


@dataclass
class Question:
    """A question as ``lmreview tabulate --json`` gives it, with its labels in English and French."""

    units: int
    answered: int
    counts: dict[str, dict[str, Any]]

    def pct(self, value: str, places: int, of_units: bool = False, unit: str = "%") -> str:
        exact = Decimal(repr(self.counts[value]["pct_units" if of_units else "pct"]))
        return f"{exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)}{unit}"


def tabulated(cli: Cli, question: str) -> Question:
    def run(*language: str) -> dict[str, Any]:
        result = cli("tabulate", "--review", "r16", "--question", question, "--json", *language)
        assert result.exit_code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    english, french = run(), run("--language", "fr")
    counts = {c["value"]: c | {"fr": f["label"]} for c, f in zip(english["counts"], french["counts"], strict=True)}
    return Question(english["units"], english["answered"], counts)


def answers_draft(c: Question, s: Question, wrong: dict[str, str] | None = None) -> str:
    """A draft on the challenges (select_multiple) and the sustainability (select_one) of r16, every figure written
    from the tabulation; ``wrong`` prints another value in a slot. Lines 9 and 10 name labels in other contexts."""
    slot = (wrong or {}).get
    f, d, v, o = (c.counts[k] for k in ("funding", "data_access", "covid19", "other"))
    yes, no = s.counts["yes"], s.counts["no"]
    other = slot("count", str(o["n"]))
    lines = [
        "Challenges met by the projects (draft)",
        "",
        f"Of the {c.answered} projects that answered the question, {f['n']} ({c.pct('funding', 1)}) named lack of "
        f"funding and {v['n']} ({c.pct('covid19', 1)}) named Covid-19.",
        f"Difficulty accessing existing data was reported by {d['n']} of the {c.units} projects "
        f"({c.pct('data_access', 1, of_units=True)}).",
        f"Covid-19 was a challenge for {v['n']} of {c.answered} projects ({c.pct('covid19', 0)}).",
        f"Lack of funding was named by {slot('share', c.pct('funding', 0))} of the projects that answered, ahead of "
        f"Covid-19 ({c.pct('covid19', 0)}) and difficulty accessing existing data ({c.pct('data_access', 0)}).",
        f'Other challenges ("Other": {other} project{"" if other == "1" else "s"}) included the elections.',
        f"Manque de financement : {f['n']} projets sur {c.answered} ({c.pct('funding', 0, unit=' %')}).",
        "Lack of funding was discussed at 3 meetings of the steering committee, and at 3 of 4 meetings (75%) of the "
        "board.",
        "Covid-19 cut travel by 20% in 2021.",
        f'Asked whether the outcomes were sustained, "Yes": {yes["n"]} ({s.pct("yes", 1)}); "No": {no["n"]} '
        f"({s.pct('no', 1)}).",
        "",
        "CHALLENGE\tPROJECTS\t%",
        *(f"{x['label']}\t{x['n']}\t{c.pct(x['value'], 1)}" for x in (f, d, v, o)),
        f"Total answering\t{c.answered}\t",
        "",
        "DIFFICULTÉ\tPROJETS",
        f"{f['fr']}\t{slot('french', str(f['n']))}",
        *(f"{x['fr']}\t{x['n']}" for x in (d, o)),
        f"Total des répondants\t{c.answered}",
    ]
    return "\n".join(lines) + "\n"


def test_a_draft_written_from_the_tabulation_agrees_with_the_answers(cli: Cli, review: str, tmp_path: Path) -> None:
    draft = tmp_path / "challenges.txt"
    draft.write_text(answers_draft(tabulated(cli, "challenges"), tabulated(cli, "sustained")), encoding="utf-8")
    assert audit(cli, draft, "--review", review) == []
    assert audit(cli, draft, "--form", "bilingual_test") == []
    run = cli("audit", str(draft), "--review", review)
    assert run.stdout.splitlines()[-1] == (
        "0 numbers do not add up or differ from review r16 and portfolio lm2016 in challenges.txt "
        "(checked 41; 5 figures about other data not compared)"
    )


def test_wrong_figures_next_to_choice_labels_are_found(cli: Cli, review: str) -> None:
    """Three figures made wrong where the report cannot show it (no total to recompute them from): a share, a count
    after a quoted one-word label, a count in a table with French labels. Nothing else is reported."""
    c, s = tabulated(cli, "challenges"), tabulated(cli, "sustained")
    draft = AUDIT / "draft-r16-answers.txt"  # the draft of docs/audit.md, which must stay the one written here
    assert draft.read_text(encoding="utf-8") == answers_draft(c, s, {"share": "47%", "count": "2", "french": "5"})
    assert c.pct("funding", 0) == "57%"
    assert (c.counts["other"]["n"], c.counts["funding"]["n"]) == (1, 4)
    assert audit(cli, draft, "--review", review) == [
        {
            "location": "line 6",
            "claim": "Lack of funding was named by 47%",
            "expected": "57%",
            "rule": "against the data: share answering 'Lack of funding' to challenges",
        },
        {
            "location": "line 7",
            "claim": '"Other": 2 projects',
            "expected": "1",
            "rule": "against the data: number answering 'Other' to challenges",
        },
        {
            "location": "line 21",
            "claim": "Manque de financement: 5",
            "expected": "4",
            "rule": "against the data: number answering 'Manque de financement' to challenges",
        },
    ]
    assert audit(cli, draft) == []  # within itself the draft adds up


def test_a_wrong_denominator_is_found_with_the_share_it_gives(cli: Cli, review: str, tmp_path: Path) -> None:
    """3 of 8 (38%) adds up, but 7 projects answered: the count is right, the denominator and the share are not
    (compared because the rest of the passage agrees with the data)."""
    draft = tmp_path / "denominator.txt"
    draft.write_text(
        "Covid-19 was a challenge for 3 of 8 projects (38%). Lack of funding was named by 57% of the projects that "
        "answered, Covid-19 by 43% of them (3 projects) and difficulty accessing existing data (43%) as often.\n",
        encoding="utf-8",
    )
    claim = {"location": "line 1", "claim": "Covid-19 was a challenge for 3 of 8 projects (38%)"}
    assert audit(cli, draft, "--review", review) == [
        claim | {"expected": "7", "rule": "against the data: number answering challenges"},
        claim | {"expected": "43%", "rule": "against the data: share answering 'Covid-19' to challenges"},
    ]


def test_labels_in_other_contexts_are_not_compared(cli: Cli, review: str, tmp_path: Path) -> None:
    """The figures of "at 3 of 4 meetings (75%)", "3 meetings", "cut travel by 20%", "11 common project challenges
    ... 'other'" and the 27 projects of the seed reviews are not answers to the form, even beside correct ones."""
    draft = tmp_path / "unrelated.txt"
    c = tabulated(cli, "challenges")
    draft.write_text(
        f"Covid-19 was a challenge for {c.counts['covid19']['n']} of {c.answered} projects "
        f"({c.pct('covid19', 1)}). Lack of funding was discussed at 3 meetings of the steering committee, and at 5 of "
        "9 meetings (56%) of the board. Covid-19 cut travel by 20% in 2021. The questionnaire listed 11 common "
        'project challenges and a space for "Other" ones. The most frequent challenge, encountered by 15 of the 27 '
        "selected projects (56 per cent), was Covid-19.\n",
        encoding="utf-8",
    )
    assert audit(cli, draft, "--review", review) == []
    run = cli("audit", str(draft), "--review", review)
    assert run.stdout.splitlines()[-1] == (
        "0 numbers do not add up or differ from review r16 and portfolio lm2016 in unrelated.txt "
        "(checked 5; 6 figures about other data not compared)"
    )


@pytest.mark.seeds
def test_the_seed_reports_have_no_finding_against_the_answers_of_another_review(
    cli: Cli, review: str, seeds: Path
) -> None:
    """The seeds print "COVID-19", "lack of funding", "other", "yes" and "no" about their own projects and
    respondents; none of it is compared with r16's answers."""
    for name, findings in SEED_FINDINGS.items():
        assert audit(cli, seeds / name, "--review", review) == findings, name


def test_bad_review_and_form_options_exit_2(cli: Cli, review: str) -> None:
    draft = str(AUDIT / "draft-lm2016.txt")
    assert cli("form", "add", str(FIXTURES / "tabulate" / "rating-form.md")).exit_code == 0
    for options, message in [
        (["--form", "nope"], "there is no form 'nope'"),
        (["--review", "nope"], "there is no review 'nope'"),
        (["--form", "tabulate_test"], "0 reviews use form tabulate_test"),
        (["--review", review, "--form", "tabulate_test"], "review r16 does not use form tabulate_test"),
        (["--review", review, "--portfolio", "nope"], "nope"),
    ]:
        run = cli("audit", draft, *options)
        assert run.exit_code == 2, options
        assert message in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    assert cli("audit", draft, "--review", review, "--form", "bilingual_test").exit_code == 0


def survey_draft(rng: random.Random, c: Question, s: Question, errors: int) -> Draft:
    """A draft on r16's challenges and sustainability written from the tabulations, in sentences and tables of the
    kinds the audit reads, in a random order and precision, with ``errors`` wrong shares or counts planted."""
    values = list(c.counts)
    slots = [
        f"{kind} {v}" for v in values for kind in ("named", "named n", "units", "share-of", "list", "row", "row n")
    ]
    slots += [f"sustained {v}" for v in ("yes", "no")]
    draft = Draft(rng, set(rng.sample(slots, errors)))
    add, places = draft.lines.append, rng.choice([0, 1])
    a, u = Decimal(c.answered), Decimal(c.units)

    def count(slot: str, n: int, before: str = "", after: str = "") -> str:
        if slot in draft.wrong:
            n = n + rng.choice([-1, 1, 2]) if n > 1 else n + rng.choice([1, 2])
            draft.planted.append((len(draft.lines) + 1, f"{before}{n}{after}"))
        return str(n)

    def label(v: str) -> str:  # a label of one word is quoted in the prose ("Other"), as the audit needs
        text = str(c.counts[v]["label"])
        return f'"{text}"' if re.fullmatch(r"\w+", text) else text

    def named(v: str) -> str:  # "Lack of funding was named by 4 of the 7 projects that answered (57.1%)."
        n, share = c.counts[v]["n"], draft.pct(f"named {v}", c.counts[v]["n"], a, places, also=(u,))
        shown = count(f"named n {v}", n, after=" of the")
        return f"{label(v)} was named by {shown} of the {c.answered} projects that answered ({share})."

    def units(v: str) -> str:  # "Lack of funding was reported by 4 of the 14 projects (28.6%)."
        n, share = c.counts[v]["n"], draft.pct(f"units {v}", c.counts[v]["n"], u, places, also=(a,))
        shown = count(f"units n {v}", n, after=" of the")
        return f"{label(v)} was reported by {shown} of the {c.units} projects ({share})."

    def share_of(v: str) -> str:  # "Lack of funding was named by 57% of the projects that answered."
        share = draft.pct(f"share-of {v}", c.counts[v]["n"], a, places, also=(u,))
        return f"{label(v)} was named by {share} of the projects that answered."

    def listed(_: str) -> str:  # "The challenges named were Lack of funding (57%), ..."
        shares = (f"{label(v)} ({draft.pct(f'list {v}', c.counts[v]['n'], a, 0, also=(u,))})" for v in values)
        return f"The challenges named were {', '.join(shares)}."

    def sustained(_: str) -> str:  # 'Asked whether ..., "Yes": 4 (57.1%); "No": 3 (42.9%).'
        of, counts = Decimal(s.answered), s.counts
        parts = (
            f'"{counts[v]["label"]}": {counts[v]["n"]} ({draft.pct(f"sustained {v}", counts[v]["n"], of, places)})'
            for v in ("yes", "no")
        )
        return f"Asked whether the outcomes were sustained, {'; '.join(parts)}."

    sentences: list[tuple[Callable[[str], str], str]] = [(w, v) for v in values for w in (named, units, share_of)]
    sentences += [(listed, ""), (sustained, "")]
    add("Challenges met by the projects (draft)")
    add("")
    for write, value in rng.sample(sentences, rng.randint(4, len(sentences))):
        add(write(value))
    add("")
    add("CHALLENGE\tPROJECTS\t%")
    for v in values:
        n = c.counts[v]["n"]
        name = c.counts[v]["label"]
        shown = count(f"row n {v}", n, f"{name}: ", " ")
        add(f"{name}\t{shown}\t{draft.pct(f'row {v}', n, a, places, also=(u,))}")
    add(f"Total answering\t{c.answered}\t")
    add("")
    add("DIFFICULTÉ\tPROJETS")
    for v in values:
        add(f"{c.counts[v]['fr']}\t{c.counts[v]['n']}")
    add(f"Total des répondants\t{c.answered}")
    return draft


def test_planted_wrong_answers_are_found(cli: Cli, review: str, tmp_path: Path) -> None:
    """Drafts written from ``lmreview tabulate --json`` with 0 to 3 wrong shares or counts next to choice labels."""
    c, s = tabulated(cli, "challenges"), tabulated(cli, "sustained")
    store = Store(cli.url)
    with store.session() as session:
        survey = survey_figures(session, get_review(session, review))
        figures = portfolio_stats(session, "lm2016")
    store.dispose()
    rng = random.Random(7)
    drafts = [survey_draft(rng, c, s, errors=i % 4) for i in range(120)]
    recall, precision, summary = score(audit_drafts(drafts, cli, tmp_path, figures, survey=survey))
    assert precision == 1, summary  # quoted in docs/audit.md
    assert recall >= 0.95, summary


def test_the_report_lmreview_writes_agrees_with_the_answers(cli: Cli, review: str, tmp_path: Path) -> None:
    """The review report (docx) prints each closed question's counts and shares next to its choice labels."""
    run = cli("report", "build", "--review", review, "--format", "docx", "--out", str(tmp_path))
    assert run.exit_code == 0, run.stderr
    report = tmp_path / "r16-report.docx"
    assert audit(cli, report, "--review", review) == []
    with_labels = cli("audit", str(report), "--review", review).stdout.splitlines()[-1]
    alone = cli("audit", str(report), "--portfolio", "lm2016").stdout.splitlines()[-1]
    assert int(re.findall(r"checked (\d+)", with_labels)[0]) > int(re.findall(r"checked (\d+)", alone)[0])


def test_the_audit_page_checks_an_uploaded_report(store: Store, cli: Cli) -> None:
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.store.users import add_user
    from lmreview.web.app import create_app

    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    with store.session() as session:
        add_user(session, "viewer", "viewer", "correct-horse", actor="test")
    draft = "Projects by region\nRegion\tProjects\nAsia\t7 (50%)\nAfrica\t5 (40%)\nEurope\t2 (14%)\nTOTAL\t14 (100%)\n"
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        client.post("/login", data={"name": "viewer", "password": "correct-horse", "csrf_token": str(token["value"])})
        page = client.get("/audit")
        csrf = str(BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})["value"])  # type: ignore[index]
        response = client.post(
            "/audit", data={"csrf_token": csrf}, files={"file": ("draft.txt", draft.encode(), "text/plain")}
        )
        assert response.status_code == 200
        text = BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
        assert "1 finding" in text
        assert "Africa: 5 (40%)" in text
        assert "36%" in text
        bad = client.post("/audit", data={"csrf_token": csrf}, files={"file": ("draft.odt", b"x", "text/plain")})
        assert bad.status_code == 422
        assert "cannot be audited" in bad.text


def test_the_audit_reads_word_documents_through_the_evidence_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One reader of documents (issue 9): the audit's blocks of a DOCX are the evidence library's reading of it —
    the same paragraphs and cells, with Word's own numbering of paragraphs (empty ones count), a cell merged across
    columns once, a cell merged down the rows in each row, and the headers left out; and a refusal of the reader is
    the audit's refusal."""
    from lmreview.analysis.documents import docx_blocks
    from lmreview.evidence import reading

    document = WordDocument()
    document.sections[0].header.paragraphs[0].text = "Draft review, not for circulation"
    document.add_paragraph("Of the 25 projects, 10 (40%) were in Africa.")
    document.add_paragraph("")
    document.add_paragraph("Projects by region:")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Region and year"
    table.cell(0, 2).text = "Projects"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "Africa"
    for row, (year, count) in enumerate((("2016", "4"), ("2017", "6")), start=1):
        table.cell(row, 1).text, table.cell(row, 2).text = year, count
    path = tmp_path / "draft.docx"
    document.save(str(path))
    data = path.read_bytes()

    blocks = docx_blocks(data, path)
    assert [(b.location, b.text) for b in blocks] == [
        ("paragraph 1", "Of the 25 projects, 10 (40%) were in Africa."),
        ("paragraph 2", ""),
        ("paragraph 3", "Projects by region:"),
        ("table 1 row 1", "Region and year\tProjects"),
        ("table 1 row 2", "Africa\t2016\t4"),
        ("table 1 row 3", "Africa\t2017\t6"),
    ]
    evidence = reading.read_bytes(data, "draft.docx")
    read = [b.text for b in evidence.pages[0] if b.kind != "furniture"]
    assert read == [b.text for b in blocks if b.table is None and b.text] + [
        "Region and year",
        "Projects",
        "Africa",
        "2016",
        "4",
        "2017",
        "6",
    ]
    assert [b.text for b in evidence.pages[0] if b.kind == "furniture"] == ["Draft review, not for circulation"]

    def refuse(data: bytes) -> reading.DocxBody:
        raise reading.Refused("refused by the one reader")

    monkeypatch.setattr(reading, "read_docx_body", refuse)
    with pytest.raises(BadInput) as refused:
        docx_blocks(data, path)
    assert refused.value.problems[0].message == "refused by the one reader"
