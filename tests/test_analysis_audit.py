"""``lmreview audit``: printed numbers that do not add up, in txt, docx and pdf reports, and against the data.

The seed reports hold real inconsistencies the audit must find, and every finding on them must be one (precision);
drafts generated here with planted errors measure recall. The figures are quoted in docs/audit.md.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument

from lmreview.analysis.audit import audit_text
from lmreview.analysis.documents import text_blocks
from lmreview.portfolio.stats import PortfolioStats, portfolio_stats
from lmreview.settings import database_url
from lmreview.store import Store
from tests.conftest import FIXTURES, SAMPLES, Cli

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
        ("report.docx", b"not a zip", "this is not a Word document"),
        ("report.docx", b"PK\x03\x04broken", "this Word document cannot be read"),
        ("report.pdf", b"<html></html>", "this is not a PDF file"),
        ("report.pdf", b"%PDF-1.4\nbroken", "this PDF cannot be read"),
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


def score(drafts: list[tuple[Draft, list[dict[str, str]]]]) -> str:
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
    drafts: list[Draft], cli: Cli, tmp_path: Path, figures: PortfolioStats | None = None, by_cli: int = 8
) -> list[tuple[Draft, list[dict[str, str]]]]:
    """The findings on each draft: the first ``by_cli`` through ``lmreview audit --json`` (which must print what the
    library returns), the others from :func:`audit_text` directly, to keep the file fast."""
    results = []
    for i, draft in enumerate(drafts):
        text = "\n".join(draft.lines) + "\n"
        findings = [f.as_json() for f in audit_text(text_blocks(text), figures).findings]
        if i < by_cli:
            path = tmp_path / f"draft-{i}.txt"
            path.write_text(text, encoding="utf-8")
            options = ["--portfolio", figures.portfolio] if figures else []
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
