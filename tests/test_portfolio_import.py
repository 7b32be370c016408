"""`lmreview portfolio import FILE`: what a user sees for bad files, good files and re-imports, on both databases.

A bad file must give exit status 2, one ``FILE:ROW:COLUMN: message`` line per error on stderr (ROW is the line of a
CSV or the row of a sheet, 0 for the whole file; COLUMN is the header name or ``-``), no traceback, and leave the
store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from lmreview.tables import MAX_RATIO
from tests.conftest import FIXTURES, SAMPLES, Cli, Run

LM2016 = SAMPLES / "lm2016.csv"
SEVERAL_ERRORS = FIXTURES / "portfolio" / "several-errors.csv"
GOOD = b"code,title\nLM.0001,A project\n"
MISSING = "missing"  # no file at the path
FOLDER = "folder"  # a folder at the path


# --- helpers -------------------------------------------------------------------------------------------------------


def import_(cli: Cli, path: Path, *args: str) -> Run:
    run = cli("portfolio", "import", str(path), *args)
    assert "Traceback" not in run.stdout + run.stderr
    return run


def import_ok(cli: Cli, path: Path, *args: str) -> Run:
    run = import_(cli, path, *args)
    assert run.exit_code == 0, run.stderr
    return run


def portfolios(cli: Cli) -> list[dict[str, Any]]:
    run = cli("portfolio", "list", "--json")
    assert run.exit_code == 0, run.stderr
    result: list[dict[str, Any]] = json.loads(run.stdout)
    return result


def projects(cli: Cli, portfolio: str) -> dict[str, dict[str, Any]]:
    run = cli("portfolio", "list", "--portfolio", portfolio, "--json")
    assert run.exit_code == 0, run.stderr
    return {p["code"]: p for p in json.loads(run.stdout)}


def show(cli: Cli, portfolio: str, code: str) -> str:
    run = cli("portfolio", "show", portfolio, code)
    assert run.exit_code == 0, run.stderr
    return run.stdout


def shown(stdout: str, label: str) -> str:
    """The value ``portfolio show`` prints beside ``label``."""
    for line in stdout.splitlines():
        if line.strip().startswith(label + "  "):
            return line.strip()[len(label) :].strip()
    raise AssertionError(f"no {label!r} in:\n{stdout}")


def xlsx(*sheets: list[list[Any]]) -> bytes:
    """A workbook with one sheet per argument, each a list of rows."""
    workbook = Workbook()
    for index, rows in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet(f"Sheet{index + 1}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def located(file: str, row: int, column: str) -> str:
    """How a problem's line starts: ``FILE:ROW:COLUMN: ``, or ``error: FILE: `` for the whole file (row 0)."""
    if row == 0:
        return f"error: {file}: " + ("" if column == "-" else f"{column}: ")
    return f"{file}:{row}:{column}: "


def assert_errors(stderr: str, file: str, errors: tuple[tuple[Any, ...], ...]) -> None:
    """Each ``(row, column, message start, *more fragments)`` is a line of stderr, in this order, and no other error.

    The line starts with ``FILE:ROW:COLUMN: message start`` and contains every further fragment.
    """
    lines = stderr.splitlines()
    position = 0
    for row, column, start, *fragments in errors:
        prefix = located(file, row, column)
        for index in range(position, len(lines)):
            line = lines[index]
            if line.startswith(prefix + start) and all(f in line for f in fragments):
                position = index + 1
                break
        else:
            pytest.fail(f"no line {prefix}{start}…{fragments} after line {position + 1} of stderr:\n{stderr}")
    n = len(errors)
    assert lines[-1] == f"error: {n} error{'s' if n != 1 else ''}; nothing was written", stderr


# --- bad files ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    name: str  # the file's name
    content: bytes | Path | str  # bytes to write; a committed fixture; MISSING, FOLDER or "xlsx:<workbooks key>"
    errors: tuple[tuple[Any, ...], ...]  # (row, column, message start, *more fragments), in the order printed
    args: tuple[str, ...] = ()
    file: str | None = None  # the FILE of the messages when it is not the path
    warnings: tuple[str, ...] = ()  # lines expected on stderr besides the errors, after FILE:


def csv(header: str, *rows: str) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def bad(case_id: str, name: str, content: bytes | Path | str, *errors: tuple[Any, ...], **kw: Any) -> Any:
    return pytest.param(Bad(name, content, errors, **kw), id=case_id)


# A real PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
PADDING = "".join(f"LM.{n:04},Project number {n} of a long file\n" for n in range(1, 101))

BAD_FILES = [
    bad("empty-file", "empty.csv", b"", (0, "-", "the file is empty")),
    bad("whitespace-only", "blank.csv", b"  \r\n\t\n   \n", (0, "-", "the file is empty")),
    bad(
        # blank rows after the header (as spreadsheets export them) are no rows
        "header-only",
        "header.csv",
        b"code,title,budget_usd\n,,\n\n , ,\n",
        (1, "-", "the file has a header but no rows"),
    ),
    bad(
        "no-code-column",
        "nocode.csv",
        csv("title,budget_usd", "A project,100"),
        (1, "code", 'the required column "code" is missing (the header row has: title, budget_usd)'),
    ),
    bad(
        "no-title-column",
        "notitle.csv",
        csv("code,name", "LM.0001,A project"),
        (1, "title", 'the required column "title" is missing (the header row has: code, name)'),
    ),
    bad(
        "empty-code",
        "p.csv",
        csv("code,title", "LM.0001,A project", ",Another project", "X" * 81 + ",A third"),
        (3, "code", "the project code is empty"),
        (4, "code", "a code is at most 80 printable characters"),
    ),
    bad(
        "empty-title",
        "p.csv",
        csv("code,title", "LM.0001, ", "LM.0002," + "t" * 20_001),
        (2, "title", "the title is empty"),
        (3, "title", "longer than 20000 characters"),
    ),
    bad(
        # The database holds at most 40 characters in fund_line and 200 in a country's name: an error to report,
        # not a crash (PostgreSQL) nor a silent success (SQLite).
        "value-too-long-for-the-database",
        "p.csv",
        csv("code,title,fund_line,countries", "LM.0001,a," + "f" * 41 + ",", "LM.0002,b,2,Vietnam; " + "c" * 201),
        (2, "fund_line", "longer than 40 characters"),
        (3, "countries", "", "longer than 200 characters"),
    ),
    bad(
        "duplicate-code",
        "p.csv",
        csv("code,title", "LM.0001,a", "LM.0002,b", "LM.0001,c"),
        (4, "code", '"LM.0001" is already on row 2; codes must be unique'),
    ),
    bad(
        "duplicate-code-other-case",
        "p.csv",
        csv("Code,title", "lm.0001,a", "LM.0001,b"),
        (3, "Code", '"LM.0001" is already on row 2; codes must be unique'),
    ),
    bad(
        "duplicate-header",
        "p.csv",
        csv("Code,Project Title,title,code", "LM.0001,a,b,LM.0002"),
        (1, "title", 'the header has "Project Title" and "title": one column per field'),
        (1, "code", 'the header has "Code" and "code": one column per field'),
    ),
    bad(
        "bad-year",
        "p.csv",
        csv("code,title,funding_year", "LM.0001,a,20l4"),
        (2, "funding_year", '"20l4" is not a year; write four digits, e.g. 2014'),
    ),
    bad(
        "year-out-of-range",
        "p.csv",
        csv("code,title,funding_year", "LM.0001,a,2014", "LM.0002,b,1899", "LM.0003,c,2101"),
        (3, "funding_year", "1899 is outside 1945-2100"),
        (4, "funding_year", "2101 is outside 1945-2100"),
    ),
    bad(
        # "TBD" is three letters, but not a currency: the message must not say "is in TBD".
        "budget-text",
        "p.csv",
        csv("code,title,budget_usd", "LM.0001,a,n/a", "LM.0002,b,TBD", "LM.0003,c,seventy thousand"),
        (2, "budget_usd", '"n/a" is not an amount; write it like 70000, 70,000.00 or USD 70,000'),
        (3, "budget_usd", '"TBD" is not an amount'),
        (4, "budget_usd", '"seventy thousand" is not an amount'),
    ),
    bad(
        "negative-budget",
        "p.csv",
        csv("code,title,budget_usd", 'LM.0001,a,"-70,000"', "LM.0002,b,(500)"),
        (2, "budget_usd", '"-70,000" is negative; a budget must be 0 or more'),
        (3, "budget_usd", '"(500)" is negative; a budget must be 0 or more'),
    ),
    bad(
        "budget-in-euro",
        "p.csv",
        csv("code,title,budget_usd", 'LM.0001,a,"EUR 70,000"', 'LM.0002,b,"70,000 EUR"'),
        (2, "budget_usd", '"EUR 70,000" is in EUR; this column takes US dollars'),
        (3, "budget_usd", '"70,000 EUR" is in EUR; this column takes US dollars'),
    ),
    bad(
        "budget-ambiguous-dot",
        "p.csv",
        csv("code,title,budget_usd", "LM.0001,a,70.000"),
        (2, "budget_usd", '"70.000" is ambiguous (a dot as thousands separator?); write 70000 or 70,000'),
    ),
    bad(
        "budget-three-decimals",
        "p.csv",
        csv("code,title,budget_usd", "LM.0001,a,70000.125"),
        (2, "budget_usd", '"70000.125" has more than 2 decimals; give the amount in dollars and cents'),
    ),
    bad(
        "bad-date",
        "p.csv",
        csv("code,title,start_date", "LM.0001,a,May 2014"),
        (2, "start_date", '"May 2014" is not a date; write it as YYYY-MM-DD, e.g. 2014-05-01'),
    ),
    bad(
        "impossible-date",
        "p.csv",
        csv("code,title,start_date,end_date", "LM.0001,a,2014-02-30,2014-13-01"),
        (2, "start_date", '"2014-02-30" is not a real calendar date'),
        (2, "end_date", '"2014-13-01" is not a real calendar date'),
    ),
    bad(
        "day-month-date",
        "p.csv",
        csv("code,title,start_date", "LM.0001,a,01/05/2014"),
        (2, "start_date", '"01/05/2014" is ambiguous (day/month or month/day?); write it as YYYY-MM-DD'),
    ),
    bad(
        "end-before-start",
        "p.csv",
        csv("code,title,start_date,end_date", "LM.0001,a,2014-05-01,2014-04-30"),
        (2, "end_date", "the end date 2014-04-30 is before the start date 2014-05-01"),
    ),
    bad(
        "negative-months",
        "p.csv",
        csv("code,title,planned_months,nce_months", "LM.0001,a,-2,1"),
        (2, "planned_months", '"-2" is negative; months must be 0 or more'),
    ),
    bad(
        "months-decimal-comma",
        "p.csv",
        csv("code,title,planned_months,nce_months", 'LM.0001,a,12,"6,5"'),
        (2, "nce_months", '"6,5" uses a decimal comma; write 6.5'),
    ),
    bad(
        "months-over-600",
        "p.csv",
        csv("code,title,planned_months,nce_months", "LM.0001,a,601,1", "LM.0002,b,twelve,1.125"),
        (2, "planned_months", '"601" months is more than 600 (50 years)'),
        (3, "planned_months", '"twelve" is not a number of months; write e.g. 12 or 6.5'),
        (3, "nce_months", '"1.125" has more than 2 decimals'),
    ),
    bad(
        "latin-1",
        "p.csv",
        "code,title\nLM.0001,Migration\nLM.0002,Coopération\nLM.0003,Ñandú\n".encode("latin-1"),
        (3, "-", "the file is not UTF-8 (byte 0xe9 on line 3)", "CSV UTF-8"),
    ),
    bad("png-image", "projects.png", PNG, (0, "-", "this is a binary file, not a CSV (UTF-8) or XLSX table")),
    bad("pdf", "projects.pdf", PDF, (0, "-", "this is a PDF; export the table as CSV or XLSX")),
    bad(
        "xlsx-that-is-text",
        "projects.xlsx",
        GOOD,
        (0, "-", "this is not an XLSX workbook (it is not a zip file)"),
    ),
    bad("old-xls", "projects.xls", XLS, (0, "-", "this is an old Excel 97-2003 .xls file; save it as .xlsx")),
    bad(
        "zip-not-a-workbook",
        "projects.xlsx",
        zip_of({"projects.csv": GOOD}),
        (0, "-", "this zip file is not an XLSX workbook"),
    ),
    bad(
        "damaged-zip",
        "projects.xlsx",
        b"PK\x03\x04" + bytes(range(256)) * 4,
        (0, "-", "this is not an XLSX workbook (a damaged zip file)"),
    ),
    bad(
        "workbook-parts-unreadable",
        "projects.xlsx",
        zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"not xml"}),
        (0, "-", "the workbook cannot be read"),
    ),
    bad("zip-bomb", "bomb.xlsx", "xlsx:bomb", (0, "-", "refused: xl/media/zeros.bin expands", "(a zip bomb?)")),
    bad(
        "xlsx-first-sheet-empty",
        "second-sheet.xlsx",
        "xlsx:second-sheet",
        (0, "-", "the file is empty: no header and no rows"),
    ),
    bad(
        "xlsx-errors",
        "errors.xlsx",
        "xlsx:errors",
        (4, "Funding Year", "1899 is outside 1945-2100"),
        (4, "Budget USD", '"EUR 5,000" is in EUR'),
        (4, "Planned Months", '"-1" is negative'),
        (4, "Title", "the title is empty"),
        (4, "End Date", "the end date 2014-04-01 is before the start date 2014-05-01"),
        (5, "Start Date", '"2014-02-30" is not a real calendar date'),
        (5, "Project Code", '"x.1" is already on row 2; codes must be unique'),
    ),
    bad(
        "more-values-than-columns",
        "p.csv",
        csv("code,title", "LM.0001,a", "LM.0002,b,c,d", "LM.0003,c,,"),
        (3, "-", "this row has 4 values but the header has 2 columns"),
    ),
    bad(
        # The quote opens on line 2; the reader only notices at the end of the file. ROW is where the row starts.
        "unclosed-quote",
        "p.csv",
        csv("code,title", 'LM.0001,"Migration and', "LM.0002,b", "LM.0003,c", "LM.0004,d"),
        (2, "-", "the CSV cannot be read here", "check for an unclosed quote"),
    ),
    bad(
        "stray-quote",
        "p.csv",
        csv("code,title", "LM.0001,a", 'LM.0002,"b"c'),
        (3, "-", "the CSV cannot be read here", "check for an unclosed quote"),
    ),
    bad(
        "nul-at-the-start",
        "p.csv",
        b"code,title\nLM.0001,a\x00b\n",
        (0, "-", "this is a binary file, not a CSV (UTF-8) or XLSX table"),
    ),
    bad(
        "nul-further-down",
        "p.csv",
        ("code,title\n" + PADDING + "LM.0999,a\x00b\n").encode(),
        (102, "-", "the file contains NUL characters"),
    ),
    bad(
        "values-under-an-empty-header-cell",
        "p.csv",
        csv("code,,title", "LM.0001,,a", "LM.0002,x,b"),
        (1, "-", "column 2 has values but no name"),
    ),
    bad(
        "multi-line-cell-then-error",
        "p.csv",
        csv("code,title,funding_year", 'LM.0001,"A title\non two lines",2014', "LM.0002,b,14"),
        (4, "funding_year", '"14" is not a year'),
    ),
    bad("no-such-file", "missing.csv", MISSING, (0, "-", "no such file")),
    bad("a-folder", "folder.csv", FOLDER, (0, "-", "this is a folder, not a file")),
    bad(
        "bad-portfolio-name",
        "p.csv",
        GOOD,
        (0, "-", '"a b/c" cannot name a portfolio', "pass --portfolio NAME"),
        args=("--portfolio", "a b/c"),
        file="a b/c",
    ),
    bad(
        "several-errors",
        SEVERAL_ERRORS.name,
        SEVERAL_ERRORS,
        (3, "title", "the title is empty"),
        (4, "funding_year", '"14" is not a year'),
        (5, "budget_usd", '"EUR 70,000" is in EUR'),
        (5, "code", "the project code is empty"),
        (6, "start_date", '"2014-02-30" is not a real calendar date'),
        (6, "end_date", '"01/05/2015" is ambiguous'),
        (6, "nce_months", '"6,5" uses a decimal comma'),
        (7, "planned_months", '"-1" is negative'),
        (7, "end_date", "the end date 2014-04-30 is before the start date 2014-05-01"),
        (7, "code", '"lm.0001" is already on row 2; codes must be unique'),
        warnings=('3:countries: warning: "Atlantis" is not a country lmreview knows; kept as written',),
    ),
]


@pytest.fixture(scope="session")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The XLSX inputs, built once: a zip bomb, a workbook whose first sheet is empty, one with errors."""
    folder = tmp_path_factory.mktemp("workbooks")
    paths: dict[str, Path] = {}

    bomb = io.BytesIO(xlsx([["code", "title"], ["LM.0001", "A project"]]))
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", bytes(50 * 1024 * 1024))
        member = archive.getinfo("xl/media/zeros.bin")
    assert member.file_size > MAX_RATIO * member.compress_size  # a bomb by lmreview's own measure
    paths["bomb"] = folder / "bomb.xlsx"
    paths["bomb"].write_bytes(bomb.getvalue())

    paths["second-sheet"] = folder / "second-sheet.xlsx"
    paths["second-sheet"].write_bytes(xlsx([], [["code", "title"], ["LM.0001", "A project"]]))

    paths["errors"] = folder / "errors.xlsx"
    paths["errors"].write_bytes(
        xlsx(
            [
                ["Project Code", "Title", "Funding Year", "Budget USD", "Start Date", "End Date", "Planned Months"],
                ["X.1", "Good", 2014, 70000, dt.date(2014, 5, 1), dt.date(2015, 1, 31), 8],
                [None] * 7,  # an empty row: still counted, the next is sheet row 4
                ["X.2", None, 1899, "EUR 5,000", dt.datetime(2014, 5, 1), dt.date(2014, 4, 1), -1],
                ["x.1", "Duplicate", 2014, 1000.5, "2014-02-30", None, 6.5],
            ]
        )
    )
    return paths


def materialise(case: Bad, tmp_path: Path, workbooks: dict[str, Path]) -> Path:
    if isinstance(case.content, Path):
        return case.content
    if isinstance(case.content, str):
        if case.content.startswith("xlsx:"):
            return workbooks[case.content.removeprefix("xlsx:")]
        path = tmp_path / case.name
        if case.content == FOLDER:
            path.mkdir()
        return path
    path = tmp_path / case.name
    path.write_bytes(case.content)
    return path


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_refused_with_located_errors_and_writes_nothing(
    cli: Cli, tmp_path: Path, workbooks: dict[str, Path], case: Bad
) -> None:
    path = materialise(case, tmp_path, workbooks)
    run = import_(cli, path, *case.args)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert run.stdout == ""
    assert_errors(run.stderr, case.file or str(path), case.errors)
    for warning in case.warnings:
        assert f"{path}:{warning}" in run.stderr.splitlines()
    assert portfolios(cli) == []


def lm2016_copy(tmp_path: Path, *extra_lines: str, name: str = "lm2016.csv") -> Path:
    """The sample with LM.0181's budget changed from 200,000 to 250,000, and ``extra_lines`` appended (from line 16)."""
    path = tmp_path / name
    path.write_text(
        LM2016.read_text(encoding="utf-8").replace('"USD 200,000",Vietnam', '"USD 250,000",Vietnam'), encoding="utf-8"
    )
    with path.open("a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in extra_lines)
    return path


def test_bad_reimport_leaves_the_portfolio_as_it_was(cli: Cli, tmp_path: Path, workbooks: dict[str, Path]) -> None:
    import_ok(cli, LM2016)
    before = (portfolios(cli), projects(cli, "lm2016"), show(cli, "lm2016", "LM.0181"))
    # Each file's good rows would update LM.0181's budget; one bad row must stop the whole import.
    cases: list[tuple[Path, tuple[tuple[Any, ...], ...]]] = [
        (lm2016_copy(tmp_path, "LM.9999,,2014", name="last-row-bad.csv"), ((16, "title", "the title is empty"),)),
        (
            lm2016_copy(tmp_path, "lm.0181,Again,2014", name="duplicate.csv"),
            ((16, "code", '"lm.0181" is already on row 14; codes must be unique'),),
        ),
        (
            lm2016_copy(tmp_path, 'LM.9999,"Unclosed,2014', name="unclosed.csv"),
            ((16, "-", "the CSV cannot be read here"),),
        ),
        (workbooks["bomb"], ((0, "-", "refused: xl/media/zeros.bin expands"),)),
        (workbooks["errors"], ((4, "Title", "the title is empty"),)),
    ]
    for path, errors in cases:
        run = import_(cli, path, "--portfolio", "lm2016")
        assert run.exit_code == 2, run.stdout
        assert run.stdout == ""
        lines = run.stderr.splitlines()
        for row, column, start in errors:
            assert any(line.startswith(located(str(path), row, column) + start) for line in lines), run.stderr
        assert run.stderr.splitlines()[-1].endswith("nothing was written")
    assert (portfolios(cli), projects(cli, "lm2016"), show(cli, "lm2016", "LM.0181")) == before


# --- good files -----------------------------------------------------------------------------------------------------


def test_lm2016_sample_imports_with_one_warning(cli: Cli) -> None:
    run = import_ok(cli, LM2016)
    assert "Imported lm2016.csv into portfolio lm2016: 14 created, 0 updated, 0 unchanged" in run.stdout
    assert run.stderr.splitlines() == [
        f'{LM2016}:4:countries: warning: "Association of Southeast Asian Nations (ASEAN) Member States" '
        "is not a country lmreview knows; kept as written"
    ]
    assert portfolios(cli) == [{"portfolio": "lm2016", "projects": 14, "budget_usd": "1650000.00"}]
    lm = projects(cli, "lm2016")
    assert lm["LM.0232"]["countries"] == ["Association of Southeast Asian Nations (ASEAN) Member States"]
    assert lm["LM.0251"]["budget_usd"] == "70000.00"
    assert lm["LM.0251"]["countries"][:2] == ["Albania", "Bosnia and Herzegovina"]
    assert lm["LM.0238"]["duration_months"] == "10.50"  # 6.5 planned + 4 NCE


def test_xlsx_with_typed_cells_imports_exact_values(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "small.xlsx"
    path.write_bytes(
        xlsx(
            [
                [
                    *("Code", "Title", "Funding Year", "Fund Line", "Budget USD", "Countries", "Region"),
                    *("Start Date", "End Date", "Planned Months", "NCE Months", "Status", "Donor"),
                ],
                [
                    *("LM.0251", "Labour mobility in SEE", 2014, 2, 70000, "Albania; BiH", "Europe"),
                    *(dt.date(2014, 5, 1), dt.date(2015, 1, 31), 8, 1, "Completed", "IDF"),
                ],
                [
                    *("LM.0238", "Income generation", 2013, 1, 30000.5, "Haiti; JAM", "Americas and the Caribbean"),
                    *(dt.datetime(2014, 1, 15), dt.datetime(2014, 11, 30), 6.5, 4, "Completed", None),
                ],
            ]
        )
    )
    run = import_ok(cli, path, "--portfolio", "small")
    assert "Imported small.xlsx into portfolio small: 2 created, 0 updated, 0 unchanged" in run.stdout
    assert run.stderr == ""
    assert projects(cli, "small") == {
        "LM.0238": {
            "code": "LM.0238",
            "title": "Income generation",
            "funding_year": 2013,
            "fund_line": "1",
            "budget_usd": "30000.50",
            "region": "Americas and the Caribbean",
            "category": None,
            "countries": ["Haiti", "Jamaica"],
            "start_date": "2014-01-15",
            "end_date": "2014-11-30",
            "duration_months": "10.50",
            "nce_months": "4.00",
            "status": "Completed",
        },
        "LM.0251": {
            "code": "LM.0251",
            "title": "Labour mobility in SEE",
            "funding_year": 2014,
            "fund_line": "2",
            "budget_usd": "70000.00",
            "region": "Europe",
            "category": None,
            "countries": ["Albania", "Bosnia and Herzegovina"],
            "start_date": "2014-05-01",
            "end_date": "2015-01-31",
            "duration_months": "9.00",
            "nce_months": "1.00",
            "status": "Completed",
        },
    }
    out = show(cli, "small", "LM.0238")
    assert shown(out, "budget (USD)") == "30,000.50"
    assert shown(out, "planned + NCE months") == "6.5 + 4"
    assert shown(out, "start – end") == "2014-01-15 – 2014-11-30"
    assert "Donor" not in out  # an empty extra cell is not stored
    assert shown(show(cli, "small", "LM.0251"), "Donor") == "IDF"
    again = import_ok(cli, path, "--portfolio", "small")
    assert "0 created, 0 updated, 2 unchanged" in again.stdout  # typed cells compare equal to what was stored


def test_semicolon_delimited_csv(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text(
        "code;title;budget_usd;countries\n"
        'LM.0001;Migration, labour and skills;70,000;"Vietnam; BiH"\n'
        "LM.0002;Second;USD 1,500.50;Rwanda\n",
        encoding="utf-8",
    )
    import_ok(cli, path)
    lm = projects(cli, "semi")
    assert lm["LM.0001"]["title"] == "Migration, labour and skills"
    assert lm["LM.0001"]["budget_usd"] == "70000.00"
    assert lm["LM.0001"]["countries"] == ["Viet Nam", "Bosnia and Herzegovina"]
    assert lm["LM.0002"]["budget_usd"] == "1500.50"


def test_utf8_with_bom_and_crlf(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffcode,title,countries\r\nLM.0001,Coopération,Côte d'Ivoire\r\n".encode())
    run = import_ok(cli, path)
    assert run.stderr == ""
    lm = projects(cli, "bom")
    assert list(lm) == ["LM.0001"]
    assert lm["LM.0001"]["title"] == "Coopération"
    assert lm["LM.0001"]["countries"] == ["Côte d'Ivoire"]


def test_header_names_in_other_case_with_spaces_and_aliases(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "headers.csv"
    path.write_text(
        "Project Code, Project Title ,Funding Year,Budget Line,BUDGET USD,Country,Start-Date,END_DATE,"
        "Planned  Months,nce-months,STATUS\n"
        "LM.0001,A project,2014,2,70000,Vietnam,2014-05-01,2015-01-31,8,1,Completed\n",
        encoding="utf-8",
    )
    import_ok(cli, path)
    assert projects(cli, "headers")["LM.0001"] == {
        "code": "LM.0001",
        "title": "A project",
        "funding_year": 2014,
        "fund_line": "2",
        "budget_usd": "70000.00",
        "region": None,
        "category": None,
        "countries": ["Viet Nam"],
        "start_date": "2014-05-01",
        "end_date": "2015-01-31",
        "duration_months": "9.00",
        "nce_months": "1.00",
        "status": "Completed",
    }
    assert "Project Code" not in show(cli, "headers", "LM.0001")  # a known column is not an extra field


def test_extra_columns_are_kept_and_shown(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(
        "code,title,Donor,Focal point\nLM.0001,A project,IDF,Ana Silva\nLM.0002,Other,,\n", encoding="utf-8"
    )
    run = import_ok(cli, path)
    assert run.stderr == ""
    out = show(cli, "extra", "LM.0001")
    assert shown(out, "Donor") == "IDF"
    assert shown(out, "Focal point") == "Ana Silva"
    assert "Donor" not in show(cli, "extra", "LM.0002")
    # a file without the extra columns leaves them alone
    path.write_text("code,title\nLM.0001,A project\n", encoding="utf-8")
    import_ok(cli, path)
    assert shown(show(cli, "extra", "LM.0001"), "Donor") == "IDF"


def test_country_aliases_and_codes_resolve_to_iso_names(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "countries.csv"
    path.write_text(
        "code,title,countries\n"
        "LM.0001,a,Vietnam; BiH\n"
        "LM.0002,b,VNM\n"
        "LM.0003,c,bih;viet nam; MNE ;former Yugoslav Republic of Macedonia\n",
        encoding="utf-8",
    )
    run = import_ok(cli, path)
    assert run.stderr == ""  # no warnings: every name is known
    lm = projects(cli, "countries")
    assert lm["LM.0001"]["countries"] == ["Viet Nam", "Bosnia and Herzegovina"]
    assert lm["LM.0002"]["countries"] == ["Viet Nam"]
    assert lm["LM.0003"]["countries"] == ["Bosnia and Herzegovina", "Viet Nam", "Montenegro", "North Macedonia"]


def test_dry_run_reports_counts_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    run = import_ok(cli, LM2016, "--dry-run")
    assert "Would import lm2016.csv into portfolio lm2016: 14 created, 0 updated, 0 unchanged" in run.stdout
    assert ":4:countries: warning:" in run.stderr
    assert portfolios(cli) == []

    import_ok(cli, LM2016)
    before = (portfolios(cli), projects(cli, "lm2016"), show(cli, "lm2016", "LM.0181"))
    changed = lm2016_copy(tmp_path)
    dry = import_ok(cli, changed, "--dry-run")
    assert "Would import lm2016.csv into portfolio lm2016: 0 created, 1 updated, 13 unchanged" in dry.stdout
    assert "  LM.0181: budget_usd: 200000.00 → 250000.00" in dry.stdout.splitlines()
    assert (portfolios(cli), projects(cli, "lm2016"), show(cli, "lm2016", "LM.0181")) == before


# --- re-import ------------------------------------------------------------------------------------------------------


def test_reimport_of_the_same_file_changes_nothing(cli: Cli) -> None:
    import_ok(cli, LM2016)
    before = projects(cli, "lm2016")
    run = import_ok(cli, LM2016)
    assert "Imported lm2016.csv into portfolio lm2016: 0 created, 0 updated, 14 unchanged" in run.stdout
    assert "→" not in run.stdout
    assert projects(cli, "lm2016") == before
    history = show(cli, "lm2016", "LM.0181")
    assert "update" not in history


def test_reimport_prints_each_change(cli: Cli, tmp_path: Path) -> None:
    import_ok(cli, LM2016)
    old_title = "Promoting Safe Labour Migration from Vietnam through The Establishment Of A Migrant Resource Centre"
    new_title = "Promoting Safe Labour Migration from Viet Nam through a Migrant Resource Centre"
    path = lm2016_copy(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(old_title, new_title), encoding="utf-8")
    run = import_ok(cli, path)
    assert "Imported lm2016.csv into portfolio lm2016: 0 created, 1 updated, 13 unchanged" in run.stdout
    changes = [line for line in run.stdout.splitlines() if "→" in line]
    assert changes == [
        f"  LM.0181: title: {old_title} → {new_title}",
        "  LM.0181: budget_usd: 200000.00 → 250000.00",
    ]
    lm = projects(cli, "lm2016")
    assert lm["LM.0181"]["budget_usd"] == "250000.00"
    assert lm["LM.0181"]["title"] == new_title
    history = show(cli, "lm2016", "LM.0181")
    stamp = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} "
    assert re.search(stamp + r"tester: changed title, budget_usd by importing lm2016\.csv$", history, re.M), history
    assert re.search(stamp + r"tester: created by importing lm2016\.csv$", history, re.M), history
    assert "tester: update" not in show(cli, "lm2016", "LM.0183")


def test_reimport_with_fewer_columns_keeps_the_other_fields(cli: Cli, tmp_path: Path) -> None:
    import_ok(cli, LM2016)
    before = projects(cli, "lm2016")
    path = tmp_path / "titles.csv"
    path.write_text("code,title\nlm.0181,A new title\n", encoding="utf-8")  # codes match case-insensitively
    run = import_ok(cli, path, "--portfolio", "lm2016")
    assert "0 created, 1 updated, 0 unchanged" in run.stdout
    after = projects(cli, "lm2016")
    assert after["LM.0181"] == {**before["LM.0181"], "title": "A new title"}
    assert {k: v for k, v in after.items() if k != "LM.0181"} == {k: v for k, v in before.items() if k != "LM.0181"}


def test_reimport_with_an_empty_cell_clears_that_field(cli: Cli, tmp_path: Path) -> None:
    import_ok(cli, LM2016)
    before = projects(cli, "lm2016")["LM.0181"]
    path = tmp_path / "clear.csv"
    path.write_text(f"code,title,region,budget_usd,countries\nLM.0181,{before['title']},,,\n", encoding="utf-8")
    run = import_ok(cli, path, "--portfolio", "lm2016")
    assert "0 created, 1 updated, 0 unchanged" in run.stdout
    lines = run.stdout.splitlines()
    assert "  LM.0181: budget_usd: 200000.00 → –" in lines
    assert "  LM.0181: region: Asia → –" in lines
    after = projects(cli, "lm2016")["LM.0181"]
    assert after == {**before, "budget_usd": None, "region": None, "countries": []}
    assert shown(show(cli, "lm2016", "LM.0181"), "budget (USD)") == "–"


def test_reimport_keeps_and_lists_projects_missing_from_the_file(cli: Cli, tmp_path: Path) -> None:
    import_ok(cli, LM2016)
    path = tmp_path / "two.csv"
    path.write_text("code,title\nLM.9999,A new project\nLM.0181,A new title\n", encoding="utf-8")
    run = import_ok(cli, path, "--portfolio", "lm2016")
    assert "Imported two.csv into portfolio lm2016: 1 created, 1 updated, 0 unchanged" in run.stdout
    lm = projects(cli, "lm2016")
    assert len(lm) == 15
    kept = sorted(set(lm) - {"LM.0181", "LM.9999"})
    assert len(kept) == 13
    # one line, however long the list: a script or a person searching the output finds every code on it
    assert f"  13 projects of the portfolio are not in the file and were kept: {', '.join(kept)}" in (
        run.stdout.splitlines()
    )


def test_codes_regions_and_categories_in_other_case_are_not_changes(cli: Cli, tmp_path: Path) -> None:
    import_ok(cli, LM2016)
    path = tmp_path / "lower.csv"
    before = projects(cli, "lm2016")["LM.0181"]
    path.write_text(f"code,title,region\nlm.0181,{before['title']},ASIA\n", encoding="utf-8")
    run = import_ok(cli, path, "--portfolio", "lm2016")
    assert "0 created, 0 updated, 1 unchanged" in run.stdout
    assert projects(cli, "lm2016")["LM.0181"] == before


def test_one_project_not_in_the_file_is_reported_in_the_singular(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("code,title\nA.1,a\nA.2,b\n", encoding="utf-8")
    import_ok(cli, path)
    path.write_text("code,title,countries\nA.1,a,Atlantis\n", encoding="utf-8")
    run = import_ok(cli, path)
    assert "1 updated, 0 unchanged, 1 warning\n" in run.stdout
    assert "  1 project of the portfolio is not in the file and was kept: A.2" in run.stdout.splitlines()


def test_iati_reimport_keeps_regions_of_activities_without_one(cli: Cli, tmp_path: Path) -> None:
    """An activity names a region only when it has a single recipient region: the others keep theirs."""
    first = tmp_path / "a.csv"
    first.write_text("code,title,region\nXM-DAC-47066-LM.0181,Vietnam,South-East Asia\n", encoding="utf-8")
    import_ok(cli, first, "--portfolio", "iati")
    xml = tmp_path / "iati.xml"
    xml.write_text(
        '<iati-activities version="2.03"><iati-activity>'
        "<iati-identifier>XM-DAC-47066-LM.0181</iati-identifier>"
        "<title><narrative>Vietnam</narrative></title>"
        '<recipient-country code="VN" percentage="100"/>'
        "</iati-activity><iati-activity>"
        "<iati-identifier>XM-DAC-47066-LM.0200</iati-identifier>"
        "<title><narrative>Regional</narrative></title>"
        '<recipient-region code="289" vocabulary="1" percentage="100"/>'
        "</iati-activity></iati-activities>",
        encoding="utf-8",
    )
    import_ok(cli, xml, "--portfolio", "iati")
    found = projects(cli, "iati")
    assert found["XM-DAC-47066-LM.0181"]["region"] == "South-East Asia"
    assert found["XM-DAC-47066-LM.0200"]["region"] == "South of Sahara, regional"


# --- duration -------------------------------------------------------------------------------------------------------


def test_duration_from_dates_alone_is_in_whole_months(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "durations.csv"
    path.write_text(
        "code,title,start_date,end_date,planned_months,nce_months\n"
        "D.01,nine months,2014-05-01,2015-01-31,,\n"
        "D.02,10.5 months rounds to 11,2014-01-15,2014-11-30,,\n"
        "D.03,planned without NCE: the dates count,2012-08-10,2014-02-09,12,\n"
        "D.04,planned + NCE win over the dates,2014-05-01,2015-01-31,6.5,4\n"
        "D.05,no dates,,,,\n"
        "D.06,start only,2014-05-01,,,\n"
        "D.07,14 days is less than half a month,2014-05-01,2014-05-14,,\n"
        "D.08,15 days is half a month,2014-05-01,2014-05-15,,\n"
        "D.09,from a leap day,2012-02-29,2013-02-27,,\n"
        "D.10,a whole year,2014-01-01,2014-12-31,,\n",
        encoding="utf-8",
    )
    import_ok(cli, path)
    durations = {code: p["duration_months"] for code, p in projects(cli, "durations").items()}
    assert durations == {
        "D.01": "9.00",
        "D.02": "11.00",
        "D.03": "18.00",
        "D.04": "10.50",
        "D.05": None,
        "D.06": None,
        "D.07": "0.00",
        "D.08": "1.00",
        "D.09": "12.00",
        "D.10": "12.00",
    }
    assert shown(show(cli, "durations", "D.01"), "duration (months)") == (
        "9 (whole months from start_date to end_date)"
    )
