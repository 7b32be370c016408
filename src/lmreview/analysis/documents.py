"""Reading a report for the number audit: what it prints, where, and with which precision.

* **Blocks.** A plain-text file gives one block per line ("line 12"); a Word file one per paragraph ("paragraph 3")
  and per table row ("table 2 row 4", the cells joined by tabs); a PDF one per line of each page ("page 5 line 17").
  Whatever goes wrong in python-docx or pdfium (a damaged file, an encrypted PDF, a scan without text) becomes one
  :class:`~lmreview.errors.BadInput` naming the file, never a traceback.
* **Numbers as printed** (:class:`Printed`): exact Decimal value, decimals shown, thousands separators, currency,
  "%" or "per cent", numbers in words up to ninety-nine; a printed number agrees with an exact value when it is that
  value rounded half up, rounded half down or truncated to the printed decimals.
* **Tables** (:func:`find_tables`): runs of rows split by tabs (text extracted from PDFs, Word tables), or of lines
  made of a label and numbers only (what a PDF's text gives for a table), with their header and TOTAL row.
* **Sentences and claims**: where a sentence starts and ends, numbers that are identifiers rather than counts, money
  as printed, the printed text of a claim, and the :class:`Finding` the checks report.

:mod:`lmreview.analysis.audit`, :mod:`~lmreview.analysis.audit_data` and :mod:`~lmreview.analysis.audit_survey` do
the checking; this module only reads.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

from lmreview.errors import BadInput, Problem
from lmreview.files import read_input, read_text

KINDS = {".txt": "txt", ".docx": "docx", ".pdf": "pdf"}


@dataclass(frozen=True, slots=True)
class Block:
    """A line, a paragraph or a table row of a document, with the place a reader finds it at.

    ``table`` numbers the Word table a row belongs to, so that two tables that follow each other stay apart; it is
    None for text (and for every block of a text file or a PDF, whose tables are found from their tabs or layout).
    """

    location: str
    text: str
    table: int | None = None


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    kind: str
    blocks: list[Block]


def read_document(path: Path) -> Document:
    """The blocks of a .txt (UTF-8), .docx or .pdf file; BadInput for any other file or one that cannot be read.

    Example: ``read_document(Path("review-2016.pdf")).blocks[0].location == "page 1 line 1"``
    """
    kind = KINDS.get(path.suffix.lower())
    if kind is None and not path.is_dir():
        what = f'"{path.suffix}" files' if path.suffix else "files without an extension"
        raise _refuse(path, f"{what} cannot be audited; give a .txt, .docx or .pdf file")
    try:
        if kind == "txt":
            return Document(path.name, kind, text_blocks(read_text(path)))
        data = read_input(path)  # a folder stops here
        assert kind is not None
    except BadInput as exc:
        raise BadInput(exc.problems, message=f"cannot audit {path.name}") from None
    return document_from_bytes(data, path)


def document_from_bytes(data: bytes, path: Path) -> Document:
    """The blocks of an uploaded file, by its name's extension (as :func:`read_document`)."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        what = f'"{path.suffix}" files' if path.suffix else "files without an extension"
        raise _refuse(path, f"{what} cannot be audited; give a .txt, .docx or .pdf file")
    if kind == "txt":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse(path, "the text is not UTF-8; save it as UTF-8") from None
        return Document(path.name, kind, text_blocks(text))
    blocks = docx_blocks(data, path) if kind == "docx" else pdf_blocks(data, path)
    return Document(path.name, kind, blocks)


def text_blocks(text: str) -> list[Block]:
    return [Block(f"line {n}", line) for n, line in enumerate(text.splitlines(), start=1)]


def docx_blocks(data: bytes, path: Path) -> list[Block]:
    """Paragraphs and table rows of the document body, in reading order (headers, footers and notes are left out),
    as the evidence library reads them (:func:`lmreview.evidence.reading.read_docx_body`), so that a Word document
    is read one way everywhere. Every paragraph counts, empty ones too, as Word numbers them."""
    from lmreview.evidence.reading import Refused, read_docx_body

    try:
        body = read_docx_body(data)
    except Refused as exc:
        raise _refuse(path, exc.reason) from None
    blocks: list[Block] = []
    paragraphs = tables = 0
    for part in body.parts:
        if part.kind == "table":
            tables += 1
            blocks += [
                Block(f"table {tables} row {r}", "\t".join(text for text, _ in row), table=tables)
                for r, row in enumerate(part.rows, start=1)
            ]
        else:
            paragraphs += 1
            blocks.append(Block(f"paragraph {paragraphs}", part.text))
    return blocks


def pdf_blocks(data: bytes, path: Path) -> list[Block]:
    """The text lines of each page as the evidence library reads them (:mod:`lmreview.evidence.reading`, pdfium), so
    that a PDF is read one way everywhere; tables come out as lines with their cells in order."""
    from lmreview.evidence.reading import Refused, read_pdf

    if not data.lstrip()[:5] == b"%PDF-":
        raise _refuse(path, "this is not a PDF file (it does not start with %PDF-)")
    try:
        read = read_pdf(data)
    except Refused as exc:
        raise _refuse(path, exc.reason) from None
    except Exception as exc:  # pdfium's own error on a file it cannot handle
        raise _refuse(path, f"the PDF cannot be read ({type(exc).__name__}); is it damaged?") from None
    blocks = [
        Block(f"page {p} line {n}", block.text)
        for p, page in enumerate(read.pages, start=1)
        for n, block in enumerate(page, start=1)
    ]
    if not any(block.text.strip() for block in blocks):
        raise _refuse(path, "this PDF has no text to read (a scan?); audit a PDF with a text layer, or its .docx")
    return blocks


def _refuse(path: Path, message: str) -> BadInput:
    return BadInput([Problem(str(path), 0, "-", message)], message=f"cannot audit {path.name}")


# --- numbers as printed ------------------------------------------------------------------------------------------

_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
)
_SMALL = [*_UNITS.split("|"), "eighteen", "nineteen"]
WORD_VALUES = {w: i for i, w in enumerate(_SMALL)} | {w: 20 + 10 * i for i, w in enumerate(_TENS.split("|"))}
WORDNUM = rf"(?:(?:{_TENS})(?:-(?:{'|'.join(_SMALL[1:10])}))?|{'|'.join(reversed(_SMALL))})"  # "twenty-one", "three"
DIGITS = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"
NB = rf"(?<![\w.,/])(?<![^\W\d_]-)(?:{DIGITS}|{WORDNUM})(?![0-9A-Za-z_]|[.,][0-9])"  # a number in digits or words
PU = r"%|per\s?cent\b|percent\b"
CUR = r"(?:USD|US\$|\$|EUR|€|CHF|GBP|£)"
W = r"[^\W\d_](?:[^\W\d_]|['’\-])*"  # a word without digits
FLAGS = re.IGNORECASE
MODES = (ROUND_HALF_UP, ROUND_HALF_DOWN, ROUND_DOWN)  # the readings of a printed number: rounded or truncated

NUMBER = re.compile(NB, FLAGS)
CELL = re.compile(
    rf"(?P<cur>{CUR})?\s*(?P<num>{DIGITS})\s*(?:USD)?\s*(?P<pu>{PU})?\s*(?:\(\s*(?P<p>{DIGITS})\s*(?P<pu2>{PU})\s*\))?",
    FLAGS,
)
TAIL_CELL = rf"(?:{CUR}\s?)?(?:{DIGITS})(?:\s*(?:{PU}))?(?:\s*\(\s*(?:{DIGITS})\s*(?:{PU})\s*\))?"
TAIL_ROW = re.compile(rf"(?P<label>\S.{{0,59}}?)\s+(?P<cells>{TAIL_CELL}(?:\s+{TAIL_CELL})*)\s*", FLAGS)
TOTAL = re.compile(r"(?:grand\s+)?total\b|all\b|sum\b", FLAGS)


@dataclass(frozen=True, slots=True)
class Printed:
    """A number as printed: its exact value, its decimals, and how to print another value the same way."""

    value: Decimal
    places: int
    text: str
    pos: int = 0
    unit: str = ""  # "%" or " per cent" for a percentage
    currency: str = ""
    grouped: bool = False

    def agrees(self, exact: Decimal) -> bool:
        q = Decimal(1).scaleb(-self.places)
        return any(exact.quantize(q, rounding=mode) == self.value for mode in MODES)

    def render(self, exact: Decimal) -> str:
        q = exact.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)
        body = f"{q:,.{self.places}f}" if self.grouped else f"{q:.{self.places}f}"
        return f"{self.currency}{body}{self.unit}"

    @property
    def is_year(self) -> bool:
        return self.places == 0 and not self.grouped and 1900 <= self.value <= 2100 and self.text[:1].isdigit()


def printed(text: str, pos: int = 0, unit: str = "", currency: str = "") -> Printed:
    """``printed("3,510,669.00")`` is 3510669.00 with 2 decimals; ``printed("three")`` is 3."""
    raw = text.strip()
    if raw[:1].isalpha():
        head, _, tail = raw.lower().partition("-")
        return Printed(Decimal(WORD_VALUES[head] + (WORD_VALUES[tail] if tail else 0)), 0, raw, pos, unit, currency)
    digits = raw.replace(",", "")
    places = len(digits.partition(".")[2])
    return Printed(Decimal(digits), places, raw, pos, unit, currency, "," in raw)


def unit_of(text: str | None) -> str:
    """How a percentage was printed: "%" or " per cent" (what :meth:`Printed.render` appends)."""
    if not text:
        return ""
    return "%" if text == "%" else " " + " ".join(text.lower().split()).replace("percent", "per cent")


def currency_of(text: str | None) -> str:
    return f"{text} " if text and text[0].isalpha() else (text or "")


# --- sentences, identifiers and findings -------------------------------------------------------------------------

IDENTIFIER = re.compile(
    r"(?:\b(?:no|nos|figure|fig|table|annex|outcome|output|indicator|goal|sdg|line|page|pp?|article|art|section|"
    r"chapter|recommendation|finding|step|phase|priority|objective|category|box|question|item|level|round|"
    r"convention|para|paragraph|target|lm|c|r)\.?|[#§])\s*$",
    FLAGS,
)
LINKED = re.compile(  # "Of the 39 projects," "Among those that answered,": what the sentence's shares are of
    rf"\b(?:of|from|among|out\s+of)\s+(?:the\s+|those\s+|these\s+|all\s+)?(?:(?P<t>{NB})\s+)?(?:{W}\s+){{0,4}}?{W}\s*,",
    FLAGS,
)
OF_WHICH = re.compile(r"\s*(?:of|among)\s+(?:which|whom|them|these|those)\b", FLAGS)  # a share of a share
SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|\n\s*\n\s*\n")
GAP = 300  # characters between two pairs or claims that still belong to one passage


@dataclass(frozen=True, slots=True)
class Finding:
    """A printed number that does not add up, with the value it should have had as it would be printed."""

    location: str
    claim: str
    expected: str
    rule: str

    def as_json(self) -> dict[str, str]:
        return {"location": self.location, "claim": self.claim, "expected": self.expected, "rule": self.rule}


def short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_count(text: str, number: Printed) -> bool:
    """Not a year, nor an identifier ("Figure 3", "Convention No. 189", "LM.0251")."""
    return not number.is_year and not IDENTIFIER.search(text[max(0, number.pos - 25) : number.pos])


def money_at(text: str, m: re.Match[str]) -> Printed | None:
    """The amount at ``m`` when it reads as money: a currency before or after it, or thousands separators (not
    "USD 1.65 million": amounts in millions or thousands are not compared)."""
    if re.match(r"\s*(?:million|billion|thousand|mn|bn|m|k)\b", text[m.end() : m.end() + 10], FLAGS):
        return None
    cur = re.search(rf"({CUR})\s?$", text[max(0, m.start() - 6) : m.start()], FLAGS)
    number = printed(m.group(0), m.start(), currency=currency_of(cur.group(1)) if cur else "")
    if cur or number.grouped or re.match(r"\s*(?:USD|US\$)", text[m.end() : m.end() + 6]):
        return number
    return None


_UNIT_AFTER = re.compile(rf"\s*(?:{PU}|months?\b)\s*\)?", FLAGS)


def said_between(text: str, start: int, label_end: int, number: Printed) -> str:
    """The printed claim, from the label or keyword to the number, shortened in the middle when long."""
    end = number.pos + len(number.text)
    end += len(u.group(0)) if (u := _UNIT_AFTER.match(text, end)) else 0  # not text[end:], a copy of the rest
    said = " ".join(text[start:end].split())
    if len(said) <= 60:
        return said + (")" if said.count("(") > said.count(")") and text[end : end + 1] == ")" else "")
    return " ".join(f"{text[start:label_end]} … {text[number.pos : end]}".split())


def sentence(text: str, pos: int) -> tuple[int, int]:
    """Where the sentence around ``pos`` starts (at most 400 characters before) and ends."""
    return sentence_start(text, pos), _sentence_end(text, pos)


def sentence_start(text: str, pos: int) -> int:
    return max((m.end() for m in SENTENCE_END.finditer(text, max(0, pos - 400), pos)), default=max(0, pos - 400))


_last_end = threading.local()  # (text, from, end found searching from there): the last sentence end of this thread


def _sentence_end(text: str, pos: int) -> int:
    """Where the next sentence end at or after ``pos`` starts, else the end of the text.

    A long text with no sentence end (a line of thousands of figures) would be read to its end for every number; but
    whether an end starts at a place does not depend on where the search began, so the end found from an earlier
    place is also the one from any later place up to it, and is reused (the audit asks in reading order).
    """
    last = getattr(_last_end, "value", None)
    if last is not None and last[0] is text and last[1] <= pos <= last[2]:
        return int(last[2])
    found = SENTENCE_END.search(text, pos)
    end = found.start() if found else len(text)
    _last_end.value = (text, pos, end)
    return end


class Stream:
    """The blocks as one text, so that a pair broken over two lines is still read, and each position located."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = blocks
        self.starts: list[int] = []
        pos = 0
        for block in blocks:
            self.starts.append(pos)
            pos += len(block.text) + 1
        self.text = "\n".join(block.text for block in blocks)

    def index(self, pos: int) -> int:
        return bisect_right(self.starts, pos) - 1

    def where(self, pos: int) -> str:
        return self.blocks[self.index(pos)].location


# --- tables --------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """A cell that holds a number: "6 (23%)", "831,000", "USD 70,000", "23.5%"."""

    text: str
    number: Printed
    pct: Printed | None = None  # the share printed beside the number: "6 (23%)"
    is_pct: bool = False  # the cell is a percentage: "23%"


@dataclass
class Row:
    block: int
    pos: int
    cells: list[str]
    parsed: dict[int, Cell] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.cells[0]


@dataclass
class Table:
    """Rows from the first with numbers; ``header`` is the row of text above them; ``start``/``end`` in the stream."""

    rows: list[Row]
    header: list[str]
    total: Row | None
    start: int
    end: int

    @property
    def data(self) -> list[Row]:
        return [r for r in self.rows if r.parsed and r is not self.total]

    def head(self, j: int) -> str:
        return self.header[j] if j < len(self.header) else ""


def parse_cell(text: str, pos: int) -> Cell | None:
    m = CELL.fullmatch(text.strip())
    if not m:
        return None
    is_pct = bool(m["pu"])
    number = printed(m["num"], pos, unit_of(m["pu"]), currency_of(m["cur"]))
    pct = printed(m["p"], pos, unit_of(m["pu2"])) if m["p"] else None
    return Cell(text.strip(), number, pct, is_pct)


def table_row(block: Block, index: int, pos: int) -> tuple[Row, bool] | None:
    """The cells of a table row, and whether they were found from tabs (else from a label and numbers only)."""
    if "\t" in block.text:
        cells = [c.strip() for c in block.text.split("\t")]
        while cells and not cells[-1]:
            cells.pop()
        tabbed = True
    else:
        m = TAIL_ROW.fullmatch(block.text.strip())
        if not m:
            return None
        label = m["label"]
        if not (re.search(r"[^\W\d_]", label) or re.fullmatch(r"(19|20)[0-9]{2}", label)) or len(label) > 60:
            return None
        if len(label.split()) > 8 or label.rstrip().endswith((",", ";", ":")):
            return None
        cells = [label, *(c.group(0) for c in re.finditer(TAIL_CELL, m["cells"], FLAGS))]
        tabbed = False
    if len(cells) < 2:
        return None
    row = Row(index, pos, cells)
    for j, cell in enumerate(cells[1:], start=1):
        if parsed := parse_cell(cell, pos):
            row.parsed[j] = parsed
    return row, tabbed


def find_tables(stream: Stream) -> list[Table]:
    """The tables of a document: at least two rows with numbers (three for rows found without tabs, unless one is a
    TOTAL row); a row of text only ends a table and may be the header of the next."""
    tables: list[Table] = []
    run: list[tuple[Row, bool]] = []

    def close() -> None:
        rows = [r for r, _ in run]
        numeric = [r for r in rows if r.parsed]
        totals = [r for r in numeric if TOTAL.match(r.label)]
        tail = [r for r, tabbed in run if not tabbed]
        if tail and (len({len(r.cells) for r in tail}) > 1 or len(numeric) < (2 if totals else 3)):
            numeric = []
        if len(numeric) >= 2:
            first = rows.index(numeric[0])
            header = rows[first - 1].cells if first > 0 and not rows[first - 1].parsed else []
            end = stream.starts[rows[-1].block] + len(stream.blocks[rows[-1].block].text)
            tables.append(Table(rows[first:], header, totals[-1] if totals else None, numeric[0].pos, end))
        run.clear()

    for i, block in enumerate(stream.blocks):
        found = table_row(block, i, stream.starts[i])
        other_table = run and stream.blocks[run[-1][0].block].table != block.table
        new_header = found and not found[0].parsed and any(r.parsed for r, _ in run)  # a second table begins
        if found is None or other_table or new_header:
            close()
        if found is not None:
            run.append(found)
    close()
    return tables
